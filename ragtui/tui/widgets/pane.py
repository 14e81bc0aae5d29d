"""One pipeline's pane: name, ranked passages with labels, streaming answer, stats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static

from ragtui.compare.events import Judgments
from ragtui.display.safe_text import printable
from ragtui.display.stats_text import format_ms, format_stats
from ragtui.pipeline import RunStats
from ragtui.retrieval.types import Hit, SearchResult
from ragtui.tui.text import answer_markdown_parser, hit_text, query_terms

if TYPE_CHECKING:
    from textual.widgets import Markdown


def format_figures(judgments: Judgments) -> str:
    """``P@5 0.20 · Recall@5 1.00 · nDCG@5 0.63 · MRR@5 0.50 (your grades)``; MAP is left out
    (over a handful of passages it says nothing P and nDCG do not)."""
    shown = [f"{name} {value:.2f}" for name, value in judgments.figures.items() if name != "MAP"]
    if not shown:
        return ""
    return " · ".join(shown) + f" ({judgments.source})"


# Streamed text is shown as plain text and the finished answer as Markdown, once. Every
# redraw of a growing answer re-lays out the whole screen: with the Markdown widget that
# re-mounted the answer's last blocks each time (a long list, all of it) and cost 17 ms
# per redraw at the median and 47 ms at p90 on 2 cores, so key presses waited behind it
# (p95 up to 57 ms while streaming). One Static lays out in a few milliseconds. A few
# redraws a second keep the answer live.
ANSWER_REDRAW_S = 0.15


def load_markdown() -> type[Markdown]:
    """Textual's Markdown widget. Imported when first needed, not with the pane: with
    markdown-it it takes 50-70 ms to import on 2 cores, before the first frame otherwise.
    The app imports it in a thread once both panes are ready (``CompareApp._warm_up``)."""
    from textual.widgets import Markdown

    return Markdown


GRADES = Binding.Group("Grade")


class StreamedAnswer(Static):
    """The answer as plain text while it streams; lays the screen out only when it grows."""

    def show(self, text: str) -> None:
        width = self.content_size.width
        self.update(Text(printable(text)), layout=False)
        # A screen layout costs ~14 ms here; most redraws add words to the last line. A
        # widget never arranged (just shown, or in the pane a narrow screen hides) is laid
        # out by the change that shows it.
        if width and self.get_content_height(self.size, self.size, width) != (
            self.content_size.height
        ):
            self.refresh(layout=True)


class PassageList(OptionList):
    """Ranked passages; digits grade the highlighted one."""

    BINDINGS = [
        Binding("j", "cursor_down", "Next passage", show=False),
        Binding("k", "cursor_up", "Previous passage", show=False),
        # One footer entry, "0 1 2 3 Grade"; the help panel lists each grade's meaning.
        Binding("0", "grade(0)", "Grade 0: not relevant", group=GRADES),
        Binding("1", "grade(1)", "Grade 1: somewhat relevant", group=GRADES),
        Binding("2", "grade(2)", "Grade 2: relevant", group=GRADES),
        Binding("3", "grade(3)", "Grade 3: highly relevant", group=GRADES),
        Binding("x", "grade(-1)", "Clear label", show=False),
    ]

    class Graded(Message):
        def __init__(self, pane: str, hit: Hit, grade: int | None) -> None:
            super().__init__()
            self.pane = pane
            self.hit = hit
            self.grade = grade

    def __init__(self, pane: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pane = pane
        self.hits: tuple[Hit, ...] = ()

    def action_grade(self, grade: int) -> None:
        if self.highlighted is None or not self.hits:
            self.app.bell()
            return
        hit = self.hits[self.highlighted]
        self.post_message(self.Graded(self.pane, hit, None if grade < 0 else grade))


class PipelinePane(Vertical):
    """Shows one pipeline's run; the app drives it from the session's events."""

    def __init__(self, key: str, spec: str, shown: bool = False, **kwargs: object) -> None:
        classes = "pane -shown" if shown else "pane"
        super().__init__(id=f"pane-{key}", classes=classes, **kwargs)  # type: ignore[arg-type]
        self.key = key
        self.spec = spec
        self.hits: tuple[Hit, ...] = ()
        self.answer_text = ""
        self.stats: RunStats | None = None
        self.error: str | None = None
        self._unsent = False  # streamed text not yet on screen
        self._flush_timer: Timer | None = None
        self._terms: list[str] = []
        self._judgments = Judgments()
        self.hidden = False  # blind voting: the spec stays off screen until the vote

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title", classes="pane-title", markup=False)
        yield Static("", id="status", classes="pane-status", markup=False)
        yield PassageList(self.key, id="passages")
        yield Static("", id="figures", classes="pane-figures", markup=False)
        # Not focusable: Tab then moves between the panes' passage lists (mouse wheel scrolls).
        with VerticalScroll(id="answer-box", can_focus=False):
            live = StreamedAnswer("", id="answer-live", markup=False)
            live.display = False  # while an answer streams, in place of the Markdown
            yield live
            # the finished answer's Markdown widget is mounted by the first answer shown
        yield Static("", id="stats", classes="pane-stats", markup=False)
        judge_line = Static("", id="judge", classes="pane-judge", markup=False)
        judge_line.display = False  # until J is pressed
        yield judge_line

    def _title(self) -> Text:
        title = Text()
        if self.hidden:
            title.append(f" {'1' if self.key == 'a' else '2'} ", style="reverse bold")
            title.append(" pipeline hidden until you vote (blind)", style="italic")
            return title
        retriever, _, generator = self.spec.partition("+")
        title.append(f" {self.key.upper()} ", style="reverse bold")
        title.append(f" {retriever}", style="bold")
        title.append(" + ")
        title.append(generator, style="bold")
        return title

    @property
    def passages(self) -> PassageList:
        return self.query_one(PassageList)

    @property
    def answer(self) -> Markdown:
        """The finished answer's widget (there once an answer has been shown)."""
        return self.query_one("#answer", load_markdown())

    async def _answer_widget(self) -> Markdown:
        found = self.query("#answer")
        if found:
            return found.first(load_markdown())
        widget = load_markdown()(
            "", id="answer", parser_factory=answer_markdown_parser, open_links=False
        )
        widget.display = False  # until its text is in
        await self.query_one("#answer-box", VerticalScroll).mount(widget)
        return widget

    def set_spec(self, spec: str) -> None:
        self.spec = spec
        self.query_one("#title", Static).update(self._title())

    def set_judge(self, text: str) -> None:
        """The LLM judge's verdict on this answer (J), under the answer; "" hides it."""
        line = self.query_one("#judge", Static)
        line.update(Text(printable(text)))
        line.display = bool(text)

    def set_hidden(self, hidden: bool) -> None:
        self.hidden = hidden
        self.query_one("#title", Static).update(self._title())

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        line = Text(printable(text))
        # The status grows to three lines for a long error; one line that fits, in place of
        # another, leaves the pane's layout as it is (the common case: a run's stages).
        # (A tab is drawn up to 8 wide but counted 0 by cell_len: a line with one lays out.)
        one_line = not {"\n", "\t"} & set(line.plain)
        fits = one_line and line.cell_len <= status.content_size.width
        status.update(line, layout=not (fits and status.size.height == 1))
        status.set_class(error, "-error")

    async def begin(self, query: str) -> None:
        """Clear the last run and show that this one started."""
        self.hits = ()
        self.answer_text = ""
        self.stats = None
        self.error = None
        self._terms = query_terms(query)
        self.passages.hits = ()
        self.passages.clear_options()
        self.query_one("#figures", Static).update("")
        self.query_one("#stats", Static).update("")
        self.set_judge("")
        await self._show_answer("")
        self.set_status("retrieving…")

    async def reset(self, spec: str) -> None:
        """The pane runs another pipeline now: nothing of the old one stays on screen."""
        self.set_spec(spec)
        await self.begin("")
        self.set_status("loading pipeline…")

    def show_hits(self, result: SearchResult, judgments: Judgments) -> None:
        self.hits = result.hits
        self._judgments = judgments
        passages = self.passages
        passages.hits = result.hits
        passages.clear_options()
        passages.add_options([self._option(hit) for hit in result.hits])
        if result.hits:
            passages.highlighted = 0
        self.query_one("#figures", Static).update(printable(format_figures(judgments)))
        self.set_status(
            f"{len(result.hits)} passages in {format_ms(result.elapsed_ms)}"
            f"{result.time_breakdown()}"
        )

    def _option(self, hit: Hit) -> Text:
        return hit_text(hit, self._terms, self._judgments.marks.get(hit.passage_id))

    def show_judgments(self, judgments: Judgments) -> None:
        """Re-mark passages after a label changed (in either pane)."""
        self._judgments = judgments
        for index, hit in enumerate(self.hits):
            self.passages.replace_option_prompt_at_index(index, self._option(hit))
        self.query_one("#figures", Static).update(printable(format_figures(judgments)))

    def grade_shown(self, passage_id: str) -> int | None:
        """The grade this pane shows on a passage (tests read it as a user would)."""
        mark = self._judgments.marks.get(passage_id)
        return None if mark is None else mark.grade

    async def end(self, answer: str, stats: RunStats | None, error: str | None) -> None:
        if error is not None:
            await self.fail(error, answer, stats)
        elif stats is not None:
            await self.finish(answer, stats)

    async def append(self, text: str) -> None:
        """Add streamed text; the screen shows it at most every ``ANSWER_REDRAW_S``."""
        if not self.answer_text:
            self.set_status("generating…")
        self.answer_text += text
        self._unsent = True
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(ANSWER_REDRAW_S, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        if not self._unsent:
            return
        self._unsent = False
        live = self.query_one("#answer-live", StreamedAnswer)
        live.show(self.answer_text)
        if not live.display:
            live.display = True
            for shown in self.query("#answer"):
                shown.display = False

    async def _show_answer(self, markdown: str) -> None:
        """The answer as Markdown, in place of the streamed text."""
        self._stop_flushing()
        live = self.query_one("#answer-live", Static)
        if markdown or self.query("#answer"):
            # Rendered while hidden, then swapped in one step: hiding the streamed text
            # first showed an empty answer box for the time the Markdown took to build.
            answer = await self._answer_widget()
            await answer.update(markdown)
            answer.display = True
        live.update("")
        live.display = False

    def _stop_flushing(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._unsent = False

    async def finish(self, answer: str, stats: RunStats) -> None:
        self.answer_text = answer
        await self._show_answer(printable(answer) or "*(empty answer)*")
        self.show_stats(stats)
        status = "answer cut short (cancelled)" if stats.partial else "done"
        self.set_status(f"{status} · {stats.finish_reason}")

    async def fail(self, error: str, partial: str, stats: RunStats | None) -> None:
        self.error = error
        self.answer_text = partial
        await self._show_answer(printable(partial) + "\n\n*(partial answer)*" if partial else "")
        if stats is not None:
            self.show_stats(stats)
        self.set_status(f"error: {error}", error=True)

    def show_stats(self, stats: RunStats) -> None:
        self.stats = stats
        self.query_one("#stats", Static).update(format_stats(stats))
