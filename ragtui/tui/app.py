"""The compare screen: one query, two pipelines side by side, judgments from the keyboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import get_current_worker

from ragtui.components import generator_choices, ollama_models, retriever_choices
from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.embedding import EncodeProgress
from ragtui.errors import RagtuiError
from ragtui.index.cache import Indexes
from ragtui.judgments import JudgmentStore, JudgmentStoreError, Vote, query_id_for, win_table
from ragtui.metrics import ranking_figures
from ragtui.pipeline import (
    Delta,
    Failed,
    FairGate,
    Finished,
    Pipeline,
    Queued,
    Retrieved,
    RunStats,
    make_pipeline,
)
from ragtui.progress import describe
from ragtui.retrieval import Hit, SearchResult
from ragtui.settings_file import Settings
from ragtui.specs import parse_pipeline_spec
from ragtui.tui.screens.picker import ComponentPicker
from ragtui.tui.screens.results import VoteResults
from ragtui.tui.themes import ThemeFile, discover_themes, pick_theme
from ragtui.tui.widgets.pane import PassageList, PipelinePane, format_figures
from ragtui.tui.widgets.query_input import QueryInput

log = logging.getLogger("ragtui")

PANES = ("a", "b")
NARROW_WIDTH = 100
VOTE_NAMES = {"a": "A better", "b": "B better", "tie": "tie", "both_bad": "both bad"}


@dataclass
class CompareOptions:
    corpus: Path
    spec_a: str = "bm25+llamacpp:gemma3"
    spec_b: str = "dense+llamacpp:gemma3"
    theme: str = "dark"
    settings: Settings = field(default_factory=Settings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    cache_root: Path | None = None
    data_root: Path | None = None
    fair: bool = True
    k: int | None = None
    max_tokens: int | None = None
    preload_models: bool = True


@dataclass
class PaneRun:
    """What a pane showed for the current query, kept for votes."""

    answer: str = ""
    stats: RunStats | None = None
    error: str | None = None
    done: bool = False


class CompareApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "ragtui"
    BINDINGS = [
        Binding("/", "focus_query", "Query"),
        Binding("escape", "focus_passages", "Passages", show=False),
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
        Binding("ctrl+t", "cycle_theme", "Theme", show=False),
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, options: CompareOptions) -> None:
        self.options = options
        self.themes = discover_themes()
        self.theme_file: ThemeFile = pick_theme(self.themes, options.theme)
        # Every theme is loaded up front; its rules only apply while its class is on the App.
        super().__init__(css_path=["app.tcss", *(theme.path for theme in self.themes.values())])
        self.specs = {"a": options.spec_a, "b": options.spec_b}
        self.fair = options.fair
        self.gate = FairGate()
        self.indexes: Indexes | None = None
        self.store: JudgmentStore | None = None
        self.pipelines: dict[str, Pipeline | None] = {key: None for key in PANES}
        self.corpus_ready = False  # corpus read, judgments open: queries can be taken
        self.ready = False  # every pane's pipeline built
        self.pane_built = {key: asyncio.Event() for key in PANES}
        self.pipeline_errors: dict[str, str | None] = {key: None for key in PANES}
        self.pending_query: str | None = None
        self.query_text = ""
        self.query_id = ""
        self.runs: dict[str, PaneRun] = {key: PaneRun() for key in PANES}
        self.shown_pane = "a"

    # layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="banner", markup=False)
        yield QueryInput(placeholder="Ask a question and press Enter", id="query")
        yield ProgressBar(id="progress", show_eta=True)
        yield Static("", id="pane-tabs", markup=False)
        with Horizontal(id="panes"):
            for key in PANES:
                yield PipelinePane(key, self.specs[key])
        yield Footer()

    def on_mount(self) -> None:
        log.addHandler(_NotifyHandler(self))
        self._apply_theme(self.theme_file)
        self._apply_width(self.size.width)
        self.query_one(QueryInput).focus()
        self.set_banner(f"opening {self.options.corpus} …")

    def on_ready(self) -> None:
        # After the first paint: the panes exist before any result can arrive for them.
        self.load_corpus()

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
            label = f" {other.upper()}: {self.specs[other]} "
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

    def _apply_theme(self, theme: ThemeFile) -> None:
        for other in self.themes.values():
            self.remove_class(other.css_class)
        self.add_class(theme.css_class)
        self.theme_file = theme
        if theme.base in self.available_themes:
            self.theme = theme.base

    def pane(self, key: str) -> PipelinePane:
        return self.query_one(f"#pane-{key}", PipelinePane)

    def set_banner(self, text: str) -> None:
        mode = "fair timing" if self.fair else "CONCURRENT timing"
        corpus = self.options.corpus.name or str(self.options.corpus)
        self.query_one("#banner", Static).update(f"{corpus} · {mode} · {text}")

    # start-up ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def load_corpus(self) -> None:
        options = self.options
        try:
            corpus = load_corpus(options.corpus, options.chunking)
            indexes = Indexes(corpus, options.cache_root, progress=self._progress_from_thread)
            store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, options.data_root)
            history = store.query_history()
        except RagtuiError as error:
            self.call_from_thread(self._load_failed, str(error))
            return
        for warning in corpus.warnings:
            self.call_from_thread(self.notify, warning, severity="warning", timeout=6)
        self.indexes, self.store = indexes, store
        self.call_from_thread(self._corpus_loaded, history)
        # Each pane can answer as soon as its own pipeline is built (bm25 long before dense,
        # whose encoder import alone takes seconds).
        for key in PANES:
            pipeline, error = self._build_pipeline(self.specs[key])
            self.pipelines[key], self.pipeline_errors[key] = pipeline, error
            self.call_from_thread(self._pane_built, key)
        self.call_from_thread(self._loaded)
        if options.preload_models:
            for pipeline in self.pipelines.values():
                self._preload(pipeline)

    def _preload(self, pipeline: Pipeline | None) -> None:
        """Load an embedded model now, so the first query does not wait for it."""
        load = getattr(pipeline.generator, "model", None) if pipeline else None
        if callable(load):
            with contextlib.suppress(RagtuiError):  # the pane reports it when it runs
                load()

    def _progress_from_thread(self, progress: EncodeProgress) -> None:
        self.call_from_thread(self._show_progress, progress)

    def _show_progress(self, progress: EncodeProgress) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = progress.done < progress.total
        bar.update(total=progress.total, progress=progress.done)
        self.set_banner(describe(progress))

    def _build_pipeline(self, text: str) -> tuple[Pipeline | None, str | None]:
        assert self.indexes is not None
        try:
            spec = parse_pipeline_spec(self.options.settings.pipelines.get(text, text))
            pipeline = make_pipeline(
                spec,
                self.indexes,
                self.options.settings,
                fair=self.fair,
                k=self.options.k,
                max_tokens=self.options.max_tokens,
            )
        except RagtuiError as error:
            return None, str(error)
        return pipeline, None

    def _load_failed(self, message: str) -> None:
        self.set_banner(f"cannot open corpus: {message}")
        for key in PANES:
            self.pane(key).set_status(message, error=True)
        self.query_one(ProgressBar).display = False

    def _pane_built(self, key: str) -> None:
        error = self.pipeline_errors[key]
        if error:
            self.pane(key).set_status(error, error=True)
        elif not self.query_text:
            self.pane(key).set_status("ready")
        self.pane_built[key].set()

    def _corpus_summary(self) -> str:
        assert self.indexes is not None
        corpus = self.indexes.corpus
        return f"{len(corpus.documents)} documents, {len(corpus.passages)} passages"

    def _loaded(self) -> None:
        self.ready = True
        self.query_one(ProgressBar).display = False
        self.set_banner(f"{self._corpus_summary()} · ready")

    def _corpus_loaded(self, history: list[str]) -> None:
        self.corpus_ready = True
        self.set_banner(f"{self._corpus_summary()} · indexing…")
        query_box = self.query_one(QueryInput)
        for query in history:
            query_box.remember(query)
        if self.pending_query is not None:
            query, self.pending_query = self.pending_query, None
            self.run_query(query)
        elif history:
            self.call_later(self._restore_last_run, history[-1])

    async def _restore_last_run(self, query: str) -> None:
        """Show the last session's answers again (passages looked up by id in the corpus)."""
        assert self.store is not None and self.indexes is not None
        latest: dict[str, dict[str, Any]] = {}
        for record in self.store.runs():
            if record.get("query") == query and record.get("pane") in PANES:
                latest[record["pane"]] = record
        if not latest or self.query_text:
            return
        self.query_text = query
        self.query_id = query_id_for(query, self.indexes.corpus.queries)
        self.query_one(QueryInput).value = query
        for key, record in latest.items():
            if record.get("pipeline") != self.specs[key]:
                continue
            pane = self.pane(key)
            await pane.begin(query)
            pane.show_hits(self._stored_result(query, record), self._grades())
            stats = _stats_from(record.get("stats"))
            if record.get("error"):
                await pane.fail(str(record["error"]), str(record.get("answer", "")), stats)
            elif stats is not None:
                await pane.finish(str(record.get("answer", "")), stats)
            pane.set_status("restored from the last session")
            self.runs[key] = PaneRun(
                str(record.get("answer", "")), stats, record.get("error"), done=True
            )
        self._refresh_grades()

    def _stored_result(self, query: str, record: dict[str, Any]) -> SearchResult:
        assert self.indexes is not None
        corpus = self.indexes.corpus
        hits = []
        for stored in record.get("hits", []):
            row = corpus.passage_index.get(str(stored.get("passage_id")))
            if row is None:
                continue  # the file changed since; its old passage no longer exists
            passage = corpus.passages[row]
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    passage_id=passage.passage_id,
                    doc_id=passage.doc_id,
                    score=float(stored.get("score", 0.0)),
                    text=passage.text,
                    source=passage.source,
                    start=passage.start,
                    end=passage.end,
                )
            )
        retrieval_ms = (record.get("stats") or {}).get("retrieval_ms") or 0.0
        return SearchResult(query, record.get("pipeline", ""), tuple(hits), float(retrieval_ms))

    # queries ----------------------------------------------------------------------------

    def on_input_submitted(self, event: QueryInput.Submitted) -> None:
        if not isinstance(event.input, QueryInput):
            return
        query = event.value.strip()
        if not query:
            self.notify("Type a question first.", severity="warning")
            return
        if not self.corpus_ready:
            self.pending_query = query
            self.set_banner("reading the corpus: the query runs as soon as it is loaded")
            return
        self.run_query(query)

    def run_query(self, query: str, keys: Iterable[str] = PANES) -> None:
        assert self.indexes is not None
        self.query_text = query
        self.query_id = query_id_for(query, self.indexes.corpus.queries)
        self.query_one(QueryInput).remember(query)
        for key in keys:
            self.runs[key] = PaneRun()
            self.run_worker(
                self._run_pane(key, query),
                group=f"pane-{key}",
                exclusive=True,
                exit_on_error=False,
            )
        if isinstance(self.focused, QueryInput):
            self.pane("a").passages.focus()

    async def _run_pane(self, key: str, query: str) -> None:
        pane = self.pane(key)
        await pane.begin(query)
        if not self.pane_built[key].is_set():
            pane.set_status("waiting for this pane's index and models…")
            await self.pane_built[key].wait()
        pipeline = self.pipelines[key]
        if pipeline is None:
            error = self.pipeline_errors[key]
            if error is None:  # being rebuilt after a swap, which re-runs the query itself
                pane.set_status("loading pipeline…")
                return
            pane.set_status(error, error=True)
            self.runs[key] = PaneRun(error=error, done=True)
            return
        worker = get_current_worker()
        async for event in pipeline.run(query, self.gate):
            if worker.is_cancelled:
                return
            if isinstance(event, Delta):
                await pane.append(event.text)
            elif isinstance(event, Retrieved):
                pane.show_hits(event.result, self._grades())
                pane.query_one("#figures", Static).update(self._figures_line(pane))
            elif isinstance(event, Queued):
                pane.set_status(f"queued: {event.reason}")
            elif isinstance(event, Finished):
                await pane.finish(event.answer, event.stats)
                self._record(key, pipeline, query, pane, event.answer, event.stats, None)
            elif isinstance(event, Failed):
                await pane.fail(event.error, event.partial, event.stats)
                self._record(key, pipeline, query, pane, event.partial, event.stats, event.error)

    def _record(
        self,
        key: str,
        pipeline: Pipeline,
        query: str,
        pane: PipelinePane,
        answer: str,
        stats: RunStats | None,
        error: str | None,
    ) -> None:
        self.runs[key] = PaneRun(answer, stats, error, done=True)
        if self.store is None:
            return
        try:
            self.store.add_run(
                {
                    "query": query,
                    "query_id": self.query_id,
                    "pane": key,
                    "pipeline": self.specs[key],
                    "resolved": str(pipeline.spec),
                    "answer": answer,
                    "error": error,
                    "stats": stats.to_json() if stats else None,
                    "hits": [
                        {"passage_id": hit.passage_id, "score": hit.score, "rank": hit.rank}
                        for hit in pane.hits
                    ],
                }
            )
        except JudgmentStoreError as problem:
            self.notify(str(problem), severity="error", timeout=10)

    # labels -----------------------------------------------------------------------------

    def _grades(self) -> dict[str, int]:
        if self.store is None or not self.query_id:
            return {}
        return self.store.labels_for(self.query_id)

    def _figures_line(self, pane: PipelinePane) -> str:
        grades = self._grades()
        pipeline = self.pipelines[pane.key]
        k = pipeline.k if pipeline else len(pane.hits)
        figures = ranking_figures(grades, [hit.passage_id for hit in pane.hits], k)
        return format_figures(figures, k)

    def _refresh_grades(self) -> None:
        grades = self._grades()
        for key in PANES:
            pane = self.pane(key)
            pane.show_grades(grades, self._figures_line(pane))

    def on_passage_list_graded(self, message: PassageList.Graded) -> None:
        if self.store is None or not self.query_text:
            self.bell()
            return
        try:
            self.store.set_label(
                self.query_text,
                self.query_id,
                message.hit.passage_id,
                message.hit.doc_id,
                message.grade,
            )
        except JudgmentStoreError as problem:
            self.notify(str(problem), severity="error", timeout=10)
            return
        self._refresh_grades()

    # swapping ---------------------------------------------------------------------------

    def focused_pane_key(self) -> str:
        focused = self.focused
        while focused is not None:
            if isinstance(focused, PipelinePane):
                return focused.key
            focused = focused.parent  # type: ignore[assignment]
        return "a"

    async def action_swap(self, component: str, key: str | None = None) -> None:
        key = key or self.focused_pane_key()
        spec = parse_pipeline_spec(self.specs[key])
        pipelines = self.options.settings.pipelines
        if component == "retriever":
            choices = retriever_choices(pipelines)
            current = str(spec.retriever)
        else:
            models = await ollama_models(self.options.settings.backends.ollama_host, 0.5)
            choices = generator_choices(pipelines, models)
            current = str(spec.generator)

        def chosen(value: str | None) -> None:
            if value:
                self.set_component(key, component, value)

        self.push_screen(
            ComponentPicker(f"Pane {key.upper()}: choose a {component}", choices, current),
            chosen,
        )

    def set_component(self, key: str, component: str, value: str) -> None:
        """Change one component of one pane; re-run only that pane."""
        spec = parse_pipeline_spec(self.specs[key])
        try:
            text = str(
                parse_pipeline_spec(f"{value}+{spec.generator}")
                if component == "retriever"
                else parse_pipeline_spec(f"{spec.retriever}+{value}")
            )
        except RagtuiError as error:
            self.notify(str(error), severity="error", timeout=8)
            return
        self.specs[key] = text
        self.pane(key).set_spec(text)
        self.show_pane(self.shown_pane)
        self.pipelines[key], self.pipeline_errors[key] = None, None
        self.rebuild_pane(key)

    @work(thread=True, group="rebuild")
    def rebuild_pane(self, key: str) -> None:
        if self.indexes is None:
            return
        self.call_from_thread(self.pane(key).set_status, "loading pipeline…")
        pipeline, error = self._build_pipeline(self.specs[key])
        self.pipelines[key], self.pipeline_errors[key] = pipeline, error
        if error:
            self.call_from_thread(self.pane(key).set_status, error, True)
            if self.query_text:
                self.runs[key] = PaneRun(error=error, done=True)
            return
        if self.query_text:
            self.call_from_thread(self.run_query, self.query_text, (key,))
        else:
            self.call_from_thread(self.pane(key).set_status, "ready")

    def action_copy(self, component: str) -> None:
        source = self.focused_pane_key()
        target = "b" if source == "a" else "a"
        spec = parse_pipeline_spec(self.specs[source])
        value = spec.retriever if component == "retriever" else spec.generator
        self.notify(f"pane {target.upper()} now uses {component} {value}")
        self.set_component(target, component, str(value))

    def action_rerun(self) -> None:
        if self.corpus_ready and self.query_text:
            self.run_query(self.query_text)
        else:
            self.bell()

    def action_toggle_timing(self) -> None:
        self.fair = not self.fair
        for pipeline in self.pipelines.values():
            if pipeline is not None:
                pipeline.options = replace(pipeline.options, fair=self.fair)
        self.set_banner("ready" if self.ready else "loading")
        if self.fair:
            message = "Fair timing: local generations run one after the other, prompt cache reset."
        else:
            message = "Concurrent timing: generations overlap and may reuse the prompt cache."
        self.notify(message + " Re-run (ctrl+r) to measure again.")

    # votes, results, themes, help -------------------------------------------------------

    def action_vote(self, choice: str) -> None:
        if self.store is None or not self.query_text:
            self.notify("Ask a question first, then vote on the two answers.", severity="warning")
            return
        if not all(self.runs[key].done for key in PANES):
            self.notify("Wait until both answers are finished, then vote.", severity="warning")
            return
        first, second = self.runs["a"], self.runs["b"]
        vote = Vote(
            query=self.query_text,
            query_id=self.query_id,
            pipeline_a=self.specs["a"],
            pipeline_b=self.specs["b"],
            choice=choice,
            answer_a=first.answer,
            answer_b=second.answer,
            stats_a=first.stats.to_json() if first.stats else None,
            stats_b=second.stats.to_json() if second.stats else None,
            time=time.time(),
        )
        try:
            self.store.add_vote(vote)
        except JudgmentStoreError as problem:
            self.notify(str(problem), severity="error", timeout=10)
            return
        self.notify(f"Vote saved: {VOTE_NAMES[choice]}")

    def action_results(self) -> None:
        votes = self.store.votes() if self.store else []
        self.push_screen(VoteResults(win_table(votes)))

    def action_cycle_theme(self) -> None:
        names = sorted(self.themes)
        following = names[(names.index(self.theme_file.name) + 1) % len(names)]
        self._apply_theme(self.themes[following])
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
        yield from super().get_system_commands(screen)
        for key in PANES:
            for component in ("retriever", "generator"):
                yield SystemCommand(
                    f"Pane {key.upper()}: change {component}",
                    f"Pick another {component} for pane {key.upper()} and re-run it",
                    lambda key=key, component=component: self.run_worker(
                        self.action_swap(component, key)
                    ),
                )
        yield SystemCommand("Re-run the last query", "Run both panes again", self.action_rerun)
        yield SystemCommand(
            "Toggle fair/concurrent timing",
            "How the two generations share the CPU",
            self.action_toggle_timing,
        )
        yield SystemCommand("Show vote results", "Win rates per pipeline pair", self.action_results)
        for name in sorted(self.themes):
            yield SystemCommand(
                f"Theme: {name}",
                f"Switch to the {name} theme",
                lambda name=name: self._apply_theme(self.themes[name]),
            )


class _NotifyHandler(logging.Handler):
    """ragtui's warnings (damaged cache, skipped files) as notifications, not stderr lines."""

    def __init__(self, app: CompareApp) -> None:
        super().__init__(logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        try:
            if self.app._thread_id == threading.get_ident():
                self.app.notify(message, severity="warning", timeout=8)
            else:
                self.app.call_from_thread(self.app.notify, message, severity="warning", timeout=8)
        except RuntimeError:
            pass  # the app has stopped


def _stats_from(record: object) -> RunStats | None:
    if not isinstance(record, dict):
        return None
    try:
        return RunStats(**record)
    except TypeError:
        return None


def make_app(options: CompareOptions) -> CompareApp:
    """The app as users run it; tests drive the same factory."""
    for text in (options.spec_a, options.spec_b):
        # Rejects a bad spec with a one-line error before the screen opens.
        parse_pipeline_spec(options.settings.pipelines.get(text, text))
    return CompareApp(options)
