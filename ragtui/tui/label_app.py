"""The blind labeling screen: a view of a ``LabelingSession`` (keys in, text out).

It shows the question, one pooled passage, how far along the person is and whether the
last grade is saved; nothing about who retrieved the passage. All text is rendered as
text (rich ``Text`` from printable strings), never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ragtui.display.safe_text import printable
from ragtui.errors import RagtuiError
from ragtui.judging.labeling import LabelingSession
from ragtui.tui.hangup import HangupSafe, end_with_terminal
from ragtui.tui.log_notices import PlainNotices
from ragtui.tui.widgets.footer import KeysFooter

# The compare screen's grade scale (widgets/pane.py), so a grade means the same in both.
GRADE_NAMES = ("not relevant", "somewhat relevant", "relevant", "highly relevant")


class LabelApp(HangupSafe, PlainNotices, App[None]):
    TITLE = "ragtui label"
    CSS = """
    #progress { height: 1; padding: 0 1; text-style: bold; }
    #query { height: auto; padding: 1 1 0 1; }
    #passage-box { height: 1fr; border: round $accent; padding: 0 1; }
    #status { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        *(
            Binding(str(grade), f"grade({grade})", name, id=f"grade-{grade}")
            for grade, name in enumerate(GRADE_NAMES)
        ),
        Binding("s", "skip", "Skip", id="skip"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("q,escape", "quit", "Quit", id="quit"),
    ]

    def __init__(self, session: LabelingSession, corpus_name: str, testset: str) -> None:
        super().__init__()
        self.session = session
        self.sub_title = printable(f"{corpus_name} · test set {testset}")

    def compose(self) -> ComposeResult:
        yield Static("", id="progress", markup=False)
        yield Static("", id="query", markup=False)
        with VerticalScroll(id="passage-box"):
            yield Static("", id="passage", markup=False)
        yield Static("", id="status", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        end_with_terminal(self)  # a closed terminal ends the app, grades on disk first
        self.refresh_view()
        self.session.mark_shown()  # the start-up is not the person's pace

    def refresh_view(self) -> None:
        session = self.session
        pair = session.current
        self.query_one("#progress", Static).update(Text(printable(session.progress_line())))
        if pair is None:
            self.query_one("#query", Static).update(Text("Every pair is graded. q quits."))
            self.query_one("#passage", Static).update(Text(""))
        else:
            query = Text("Question: ", style="bold")
            query.append(printable(pair.query))
            self.query_one("#query", Static).update(query)
            self.query_one("#passage", Static).update(Text(printable(pair.judged.text)))
            self.query_one("#passage-box", VerticalScroll).scroll_home(animate=False)
        self.query_one("#status", Static).update(Text(printable(session.status)))

    async def action_grade(self, grade: int) -> None:
        if self.session.done:
            return
        self.query_one("#status", Static).update(Text("saving…"))
        try:
            await self.session.grade(grade)
        except RagtuiError as error:  # the disk refused: the grade is not taken as made
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
