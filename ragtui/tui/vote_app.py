"""The blind voting screen: a view of a ``VotingSession`` (keys in, text out).

It shows the question, the two answers as "Answer A" (left) and "Answer B" (right), how far
along the person is and whether the last vote is saved; nothing about which pipeline wrote
which answer, the judge's verdict, timings or costs. Every text is rendered as text (rich
``Text`` from printable strings), never as markup: answers are model output.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from ragtui.display.safe_text import printable
from ragtui.errors import RagtuiError
from ragtui.judging.grade_queue import ANSWER_GRADES, CORRECTNESS, FAITHFULNESS, SCALES, GradeItem
from ragtui.judging.voting import VotingSession
from ragtui.tui.hangup import HangupSafe, end_with_terminal
from ragtui.tui.log_notices import PlainNotices
from ragtui.tui.widgets.footer import KeysFooter


class VoteApp(HangupSafe, PlainNotices, App[None]):
    TITLE = "ragtui vote"
    CSS = """
    #progress { height: 1; padding: 0 1; text-style: bold; }
    #query { height: auto; padding: 1 1 0 1; }
    #answers { height: 1fr; }
    .answer-box { width: 1fr; border: round $accent; padding: 0 1; }
    #status { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a,left", "vote('a')", "A better", id="vote-a"),
        Binding("b,right", "vote('b')", "B better", id="vote-b"),
        Binding("t", "vote('tie')", "Tie", id="vote-tie"),
        Binding("x", "vote('both_bad')", "Both bad", id="vote-both-bad"),
        Binding("s", "skip", "Skip", id="skip"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("q,escape", "quit", "Quit", id="quit"),
    ]

    def __init__(self, session: VotingSession, title: str) -> None:
        super().__init__()
        self.session = session
        self.sub_title = printable(title)

    def compose(self) -> ComposeResult:
        yield Static("", id="progress", markup=False)
        yield Static("", id="query", markup=False)
        with Horizontal(id="answers"):
            with VerticalScroll(id="left-box", classes="answer-box"):
                yield Static("", id="left", markup=False)
            with VerticalScroll(id="right-box", classes="answer-box"):
                yield Static("", id="right", markup=False)
        yield Static("", id="status", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        end_with_terminal(self)  # a closed terminal ends the app, votes on disk first
        self.query_one("#left-box").border_title = "Answer A"
        self.query_one("#right-box").border_title = "Answer B"
        self.refresh_view()
        self.session.mark_shown()  # the start-up is not the person's pace

    def refresh_view(self) -> None:
        session = self.session
        queued = session.current
        self.query_one("#progress", Static).update(Text(printable(session.progress_line())))
        if queued is None:
            self.query_one("#query", Static).update(Text("Every drawn pair is voted. q quits."))
            for side in ("#left", "#right"):
                self.query_one(side, Static).update(Text(""))
        else:
            query = Text("Question: ", style="bold")
            query.append(printable(queued.item.question))
            self.query_one("#query", Static).update(query)
            self.query_one("#left", Static).update(Text(printable(queued.left[1])))
            self.query_one("#right", Static).update(Text(printable(queued.right[1])))
            for box in ("#left-box", "#right-box"):
                self.query_one(box, VerticalScroll).scroll_home(animate=False)
        self.query_one("#status", Static).update(Text(printable(session.status)))

    async def action_vote(self, choice: str) -> None:
        if self.session.done:
            return
        self.query_one("#status", Static).update(Text("saving…"))
        try:
            await self.session.vote(choice)
        except RagtuiError as error:  # the disk refused: the vote is not taken as made
            self.session.status = "not saved"
            self.notify(str(error), severity="error", timeout=15)
        self.refresh_view()

    def action_skip(self) -> None:
        self.session.skip()
        self.refresh_view()

    async def action_undo(self) -> None:
        try:
            await self.session.undo()
        except RagtuiError as error:
            self.session.status = "not undone"
            self.notify(str(error), severity="error", timeout=15)
        self.refresh_view()

    async def action_quit(self) -> None:
        self.session.close()
        self.exit()


def _grade_bindings(names: tuple[str, ...]) -> list[Binding]:
    return [
        *(
            Binding(str(grade), f"vote({grade})", name, id=f"grade-{grade}")
            for grade, name in zip(ANSWER_GRADES, names, strict=True)
        ),
        Binding("s", "skip", "Skip", id="skip"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("q,escape", "quit", "Quit", id="quit"),
    ]


class GradeApp(VoteApp):
    """The blind grading screen: one drawn answer (and the reference answer where the
    judge had one), graded 1–5 on the judge's correctness scale. No pipeline, score or
    timing on screen."""

    TITLE = "ragtui vote grade"
    BINDINGS = _grade_bindings(SCALES[CORRECTNESS].names)
    BESIDE = "Reference answer"

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#left-box").border_title = "Answer"
        self.query_one("#right-box").border_title = self.BESIDE

    def beside(self, item: GradeItem) -> Text:
        """What goes beside the answer (untrusted text, shown as text)."""
        return Text(printable(item.reference or "(this question has no reference answer)"))

    def refresh_view(self) -> None:
        session = self.session
        queued = session.current
        self.query_one("#progress", Static).update(Text(printable(session.progress_line())))
        if queued is None:
            self.query_one("#query", Static).update(Text("Every drawn answer is graded. q quits."))
            for side in ("#left", "#right"):
                self.query_one(side, Static).update(Text(""))
        else:
            query = Text("Question: ", style="bold")
            query.append(printable(queued.item.question))
            query.append(f"\n{SCALES[queued.item.kind].asked}")
            self.query_one("#query", Static).update(query)
            self.query_one("#left", Static).update(Text(printable(queued.item.answer)))
            self.query_one("#right", Static).update(self.beside(queued.item))
            for box in ("#left-box", "#right-box"):
                self.query_one(box, VerticalScroll).scroll_home(animate=False)
        self.query_one("#status", Static).update(Text(printable(session.status)))


class FaithfulnessGradeApp(GradeApp):
    """The grading screen for faithfulness: the passages the generator read beside the
    answer, graded 1–5 on the judge's faithfulness scale (is every claim supported by the
    passages?). The question is shown for context; the judge is not shown it."""

    BINDINGS = _grade_bindings(SCALES[FAITHFULNESS].names)
    BESIDE = "Passages the answer was written from"

    def beside(self, item: GradeItem) -> Text:
        if not item.passages:
            return Text("(the generator read no passages)")
        shown = Text()
        for number, passage in enumerate(item.passages, start=1):
            shown.append(f"[{number}] ", style="bold")
            shown.append(printable(passage))
            shown.append("\n\n")
        return shown


def grade_app(session: VotingSession, title: str) -> GradeApp:
    """The grading screen for the session's kind of grade."""
    kind = getattr(session.queue, "kind", CORRECTNESS)
    return (FaithfulnessGradeApp if kind == FAITHFULNESS else GradeApp)(session, title)
