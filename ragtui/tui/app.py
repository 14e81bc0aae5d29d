"""The compare screen: a view of one comparison session (``ragtui.compare.session``).

Keys become the session's intents; the session's events become widget updates. The app
builds no pipelines, writes no records and computes no figures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from ragtui import collector_pause
from ragtui.compare.events import (
    AnswerDelta,
    CorpusOpened,
    HitsRetrieved,
    JudgmentsChanged,
    LoadFailed,
    LoadStage,
    Notice,
    PaneSpecChanged,
    PaneStatus,
    QueryRestored,
    RunEnded,
    RunQueued,
    RunStarted,
    SessionEvent,
    SessionReady,
)
from ragtui.compare.session import PANES, CompareSession, DatasetQuery, SessionOptions
from ragtui.display.judge_text import judge_lines
from ragtui.errors import RagtuiError
from ragtui.tui.hangup import HangupSafe, end_with_terminal
from ragtui.tui.log_notices import NotifyHandler, PlainNotices
from ragtui.tui.themes import ThemeFile, discover_themes, pick_theme
from ragtui.tui.widgets.footer import KeysFooter
from ragtui.tui.widgets.pane import PassageList, PipelinePane, load_markdown
from ragtui.tui.widgets.query_input import QueryInput

if TYPE_CHECKING:
    import random

log = logging.getLogger("ragtui")

NARROW_WIDTH = 100
VOTE_NAMES = {"a": "A better", "b": "B better", "tie": "tie", "both_bad": "both bad"}


@dataclass(frozen=True)
class CompareOptions(SessionOptions):
    theme: str = "dark"

    def session_options(self) -> SessionOptions:
        names = {item.name for item in fields(SessionOptions)}
        return SessionOptions(**{name: getattr(self, name) for name in names})


class CompareApp(HangupSafe, PlainNotices, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "ragtui"
    BINDINGS = [
        Binding("/", "focus_query", "Query"),
        Binding("escape", "focus_passages", "Passages", show=False),
        Binding("ctrl+o", "pick_query", "Dataset queries"),
        Binding("r", "swap('retriever')", "Retriever"),
        Binding("g", "swap('generator')", "Generator"),
        Binding("R", "copy('retriever')", "Copy retriever", show=False),
        Binding("G", "copy('generator')", "Copy generator", show=False),
        Binding("ctrl+r", "rerun", "Re-run"),
        Binding("o,left,right", "other_pane", "Other pane", show=False),
        Binding("m", "toggle_timing", "Fair/concurrent"),
        Binding("a", "vote('a')", "A better", show=False),
        Binding("b", "vote('b')", "B better", show=False),
        Binding("t", "vote('tie')", "Tie", show=False),
        Binding("n", "vote('both_bad')", "Vote a/b/t/n"),
        Binding("v", "results", "Votes", show=False),
        Binding("ctrl+b", "toggle_blind", "Blind", show=False),
        Binding("J", "ask_judge", "Judge", show=False),
        Binding("ctrl+t", "cycle_theme", "Theme", show=False),
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, options: CompareOptions, side_random: random.Random | None = None) -> None:
        self.options = options
        # side_random: the blind draw's source (SystemRandom unless a test chooses the draws).
        self.session = CompareSession(options.session_options(), side_random)
        self.themes = discover_themes()
        self.theme_file: ThemeFile = pick_theme(self.themes, options.theme)
        # Every theme is loaded up front; its rules only apply while its class is on the App.
        super().__init__(css_path=["app.tcss", *(theme.path for theme in self.themes.values())])
        # Classes given before the first frame are styled once, with everything else; the
        # same class added once the widgets exist restyles every one of them again.
        self.add_class(self.theme_file.css_class, update=False)
        self.shown_pane = "a"
        self._banner_text = ""
        self._log_handler = NotifyHandler(self)

    # layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="banner", markup=False)
        yield QueryInput(placeholder="Ask a question and press Enter", id="query")
        yield ProgressBar(id="progress", show_eta=True)
        yield Static("", id="pane-tabs", markup=False)
        with Horizontal(id="panes"):
            for key in PANES:
                yield PipelinePane(key, self.session.panes[key].spec, key == self.shown_pane)
        yield KeysFooter()

    def on_mount(self) -> None:
        log.addHandler(self._log_handler)
        # Before the first paint, in a thread: the embedding model is the slowest part of
        # opening, and its warnings now reach the screen through the handler above.
        self.session.start_loading_encoders()
        end_with_terminal(self)
        self.apply_theme(self.theme_file)
        self._apply_width(self.size.width)
        self.query_one(QueryInput).focus()
        self.query_one(ProgressBar).display = False
        self.set_banner(f"opening {self.options.corpus} …")
        # A first launch may build its indexes for minutes: not with the collector off.
        self.set_timer(collector_pause.RESUME_AFTER_S, collector_pause.resume)

    def on_ready(self) -> None:
        # After the first paint: the panes exist before any event can arrive for them.
        self.run_worker(self._render_events(), group="session-events", exit_on_error=True)
        self.run_worker(self.session.open(), group="session-open", exit_on_error=True)

    async def on_unmount(self) -> None:
        log.removeHandler(self._log_handler)
        await self.session.close()

    def on_resize(self, event: Any) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.show_pane(self.shown_pane)

    def show_pane(self, key: str) -> None:
        """On a narrow terminal one pane shows at a time, like tabs; the strip names both."""
        self.shown_pane = key
        for other in PANES:
            self.pane(other).set_class(other == key, "-shown")
        strip = Text()
        for other in PANES:
            label = f" {other.upper()}: {self.session.panes[other].spec} "
            strip.append(label, style="reverse bold" if other == key else "dim")
            strip.append(" ")
        strip.append(" o / ← → switch", style="italic")
        self.query_one("#pane-tabs", Static).update(strip)

    def action_other_pane(self) -> None:
        target = "b" if self.focused_pane_key() == "a" else "a"
        self.show_pane(target)
        self.pane(target).passages.focus()

    def on_descendant_focus(self, event: Any) -> None:
        key = self.focused_pane_key()
        if key != self.shown_pane and isinstance(self.focused, PassageList):
            self.show_pane(key)

    def apply_theme(self, theme: ThemeFile) -> None:
        for other in self.themes.values():
            if other.css_class != theme.css_class:
                self.remove_class(other.css_class)
        self.add_class(theme.css_class)
        self.theme_file = theme
        if theme.base in self.available_themes:
            self.theme = theme.base

    def pane(self, key: str) -> PipelinePane:
        return self.query_one(f"#pane-{key}", PipelinePane)

    def set_banner(self, text: str | None = None) -> None:
        """Show text after the corpus and the timing mode; None keeps the current text."""
        if text is not None:
            self._banner_text = text
        mode = "fair timing" if self.session.fair else "CONCURRENT timing"
        corpus = self.options.corpus.name or str(self.options.corpus)
        # One line of fixed height across the screen: its text never changes the layout
        # (six times while the screen opens, each a layout of the whole screen otherwise).
        banner = self.query_one("#banner", Static)
        banner.update(f"{corpus} · {mode} · {self._banner_text}", layout=False)

    # the session's events, rendered ------------------------------------------------------

    async def _render_events(self) -> None:
        async for event in self.session.events():
            try:
                await self._render(event)
            except NoMatches:
                if self.is_running:
                    raise
                return  # the screen is being torn down on the way out

    async def _render(self, event: SessionEvent) -> None:
        if isinstance(event, AnswerDelta):
            await self.pane(event.pane).append(event.text)
        elif isinstance(event, RunStarted):
            await self.pane(event.pane).begin(event.query)
        elif isinstance(event, HitsRetrieved):
            self.pane(event.pane).show_hits(event.result, event.judgments)
        elif isinstance(event, RunQueued):
            self.pane(event.pane).set_status(f"queued: {event.reason}")
        elif isinstance(event, RunEnded):
            await self.pane(event.pane).end(event.answer, event.stats, event.error)
            if event.restored:
                self.pane(event.pane).set_status("restored from the last session")
        elif isinstance(event, JudgmentsChanged):
            self.pane(event.pane).show_judgments(event.judgments)
        elif isinstance(event, PaneStatus):
            self.pane(event.pane).set_status(event.text, event.error)
        elif isinstance(event, PaneSpecChanged):
            await self.pane(event.pane).reset(event.spec)
            self.show_pane(self.shown_pane)
            self._retitle()
        elif isinstance(event, LoadStage):
            self._show_stage(event)
        elif isinstance(event, CorpusOpened):
            query_box = self.query_one(QueryInput)
            for query in event.history:
                query_box.remember(query)
            self.set_banner(f"{event.summary} · loading the pipelines…")
        elif isinstance(event, QueryRestored):
            self.query_one(QueryInput).show_restored(event.query)
        elif isinstance(event, SessionReady):
            collector_pause.resume(freeze=True)  # first: whatever below may raise
            self.query_one(ProgressBar).display = False
            self.set_banner(f"{event.summary} · ready")
            # Opening can finish within a second of launch, while Textual is still settling
            # its first frames (the footer's keys arrive then): in about 1 launch in 10 under
            # tmux the banner and a pane's "ready" kept their old text on screen until the
            # next resize, though the widgets held the new one. One full repaint a moment
            # later draws what the widgets hold (measured: 0 stale screens in 70 launches since).
            self.set_timer(0.3, self._repaint)
            # The first finished answer's Markdown, imported in a thread a moment after the
            # panes are ready, so that it does not hold the interpreter lock while their
            # "ready" is drawn (its import is 50-70 ms of Python work).
            self.set_timer(1.0, self._warm_up)
        elif isinstance(event, LoadFailed):
            collector_pause.resume()
            self.query_one(ProgressBar).display = False
            self.set_banner(f"cannot open corpus: {event.message}")
        elif isinstance(event, Notice):
            self.notify(event.text, severity=event.severity, timeout=8)  # type: ignore[arg-type]

    def _warm_up(self) -> None:
        if self.is_running and not self._exit:
            self.run_worker(load_markdown, thread=True, group="warm-up")

    def _repaint(self) -> None:
        # Not once the app is quitting: the screens may already be going away.
        if self.is_running and not self._exit and self.screen_stack:
            self.screen.refresh(repaint=True, layout=True)

    def _show_stage(self, stage: LoadStage) -> None:
        bar = self.query_one(ProgressBar)
        counting = stage.total is not None and stage.done is not None
        bar.display = counting and stage.done < stage.total  # type: ignore[operator]
        if counting:
            bar.update(total=stage.total, progress=stage.done)
        self.set_banner(stage.text)

    # intents ----------------------------------------------------------------------------

    def on_input_submitted(self, event: QueryInput.Submitted) -> None:
        if not isinstance(event.input, QueryInput):
            return
        self._ask(event.value)

    def _ask(self, query: str, query_id: str | None = None) -> None:
        try:
            started = self.session.ask(query, query_id)
        except RagtuiError as refusal:
            self.notify(str(refusal), severity="warning")
            return
        self.query_one(QueryInput).remember(query.strip())
        self._retitle()
        if not started:
            self.set_banner("reading the corpus: the query runs as soon as it is loaded")
        if isinstance(self.focused, QueryInput):
            self.pane("a").passages.focus()

    def on_passage_list_graded(self, message: PassageList.Graded) -> None:
        self.run_worker(
            self._grade(message.pane, message.hit.passage_id, message.grade), group="judge"
        )

    async def _grade(self, key: str, passage_id: str, grade: int | None) -> None:
        try:
            await self.session.grade(key, passage_id, grade)
        except RagtuiError as problem:
            self.bell()
            self.notify(str(problem), severity="error", timeout=10)

    def action_vote(self, choice: str) -> None:
        self.run_worker(self._vote(choice), group="judge")

    async def _vote(self, choice: str) -> None:
        try:
            vote = await self.session.vote(choice)
        except RagtuiError as refusal:
            self.notify(str(refusal), severity="warning", timeout=8)
            return
        if not vote.blind:
            self.notify(f"Vote saved: {VOTE_NAMES[choice]}")
            return
        self._retitle()
        named = {"a": "1 better", "b": "2 better"}.get(choice, VOTE_NAMES[choice])
        self.notify(
            f"Vote saved (blind): {named}. 1 was {vote.pipeline_a}; 2 was {vote.pipeline_b}",
            markup=False,
            timeout=10,
        )

    def _retitle(self) -> None:
        """Blind voting: hide both specs from a blind query's start until its vote."""
        hidden = bool(self.session.draw) and not self.session.revealed
        for key in PANES:
            self.pane(key).set_hidden(hidden)

    def action_toggle_blind(self) -> None:
        on = self.session.toggle_blind()
        self.notify(
            "Blind voting on: from the next query, panes are 1 and 2 in a random order"
            if on
            else "Blind voting off: from the next query, panes show their pipelines"
        )

    def action_ask_judge(self) -> None:
        self.run_worker(self._ask_judge(), group="judge-ask", exclusive=True)

    async def _ask_judge(self) -> None:
        for key in PANES:
            self.pane(key).set_judge("asking the judge (both orders)…")
        try:
            judgment, calibration = await self.session.ask_judge()
        except RagtuiError as refusal:
            for key in PANES:
                self.pane(key).set_judge("")
            self.notify(str(refusal), severity="warning", timeout=8, markup=False)
            return
        for key, line in judge_lines(judgment, calibration).items():
            self.pane(key).set_judge(line)

    def focused_pane_key(self) -> str:
        focused = self.focused
        while focused is not None:
            if isinstance(focused, PipelinePane):
                return focused.key
            focused = focused.parent  # type: ignore[assignment]
        return "a"

    async def action_swap(self, component: str, key: str | None = None) -> None:
        # The pickers load on first use: nothing the first frame does not draw is imported.
        from ragtui.config.choices import generator_choices, ollama_models, retriever_choices
        from ragtui.tui.screens.picker import ComponentPicker

        key = key or self.focused_pane_key()
        pipelines = self.options.settings.pipelines
        if component == "retriever":
            choices = retriever_choices(pipelines)
        else:
            models = await ollama_models(self.options.settings.backends.ollama_host, 0.5)
            choices = generator_choices(pipelines, models)

        def chosen(value: str | None) -> None:
            if value:
                self.set_component(key, component, value)

        self.push_screen(
            ComponentPicker(
                f"Pane {key.upper()}: choose a {component}",
                choices,
                self.session.component(key, component),
            ),
            chosen,
        )

    def set_component(self, key: str, component: str, value: str) -> None:
        try:
            self.session.set_component(key, component, value)
        except RagtuiError as error:
            self.notify(str(error), severity="error", timeout=8)

    def action_copy(self, component: str) -> None:
        try:
            target, value = self.session.copy_component(self.focused_pane_key(), component)
        except RagtuiError as error:
            self.notify(str(error), severity="error", timeout=8)
            return
        self.notify(f"pane {target.upper()} now uses {component} {value}")

    def action_rerun(self) -> None:
        try:
            self.session.rerun()
        except RagtuiError:
            self.bell()

    def action_toggle_timing(self) -> None:
        mode = self.session.toggle_timing()
        self.set_banner()  # the mode changes; what the banner said stays
        if mode == "fair":
            message = "Fair timing: local generations run one after the other, prompt cache reset."
        else:
            message = "Concurrent timing: generations overlap and may reuse the prompt cache."
        self.notify(message + " Applies from the next run (ctrl+r runs again).")

    def action_pick_query(self) -> None:
        from ragtui.tui.screens.query_picker import QueryPicker

        queries = self.session.dataset_queries()
        if not queries:
            self.notify(
                "This corpus ships no queries (queries.jsonl) and has no test sets "
                "('ragtui testset CORPUS --generator SPEC' makes one).",
                severity="warning",
            )
            return

        def chosen(query: DatasetQuery | None) -> None:
            if query is not None:
                self.query_one(QueryInput).value = query.text
                self._ask(query.text, query.query_id)  # under its own id (a set's question)

        self.push_screen(
            QueryPicker(queries, self.session.query_id, self.session.review_generated), chosen
        )

    def action_results(self) -> None:
        # The win-rate screen brings the statistics of agreement (scipy): loaded on `v`.
        from ragtui.tui.screens.results import VoteResults

        self.push_screen(VoteResults(self.session.votes, self._eval_figures))

    def _eval_figures(self) -> list[tuple[bool, list[str]]]:
        """The latest eval run's corrected figures (of the current question's test set when
        it has one), as text blocks; blocking, so the `v` screen calls it in a thread."""
        # The eval's report code (not its statistics) loads here, on `v`, not at start-up.
        from ragtui.experiment.report.latest_eval import eval_figure_blocks, latest_eval

        store, corpus = self.session.store, self.session.corpus
        if store is None or corpus is None:
            return [(False, ["The corpus is still opening: the latest eval run shows once it is."])]
        try:
            records = store.evals()
        except RagtuiError as error:
            return [(False, [str(error)])]
        testset = self.session.current_testset()
        return eval_figure_blocks(latest_eval(records, testset, corpus.content_key))

    def action_cycle_theme(self) -> None:
        names = sorted(self.themes)
        following = names[(names.index(self.theme_file.name) + 1) % len(names)]
        self.apply_theme(self.themes[following])
        self.notify(f"Theme: {following}")

    def action_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_focus_query(self) -> None:
        self.query_one(QueryInput).focus()

    def action_focus_passages(self) -> None:
        self.pane(self.focused_pane_key()).passages.focus()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from ragtui.tui.commands import compare_commands

        yield from super().get_system_commands(screen)
        yield from compare_commands(self)


def make_app(options: CompareOptions, side_random: random.Random | None = None) -> CompareApp:
    """The app as users run it; tests drive the same factory.

    A bad spec fails here with a one-line error, before the screen opens. ``side_random``
    draws the sides of blind queries (SystemRandom when None).
    """
    return CompareApp(options, side_random)
