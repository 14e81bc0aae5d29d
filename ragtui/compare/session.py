"""A comparison of two pipelines on one corpus: the state and rules behind the compare screen.

The session owns both panes' specs and pipelines, the current query and its id, each
pane's run, and the judgment store. Its operations are what the app's keys do: ask, swap
or copy a component, re-run, toggle timing, grade, vote. What happens is told as events
(``ragtui.compare.events``) through ``events()``; a face renders them and sends intents,
and never decides anything about runs or judgments itself.

Rules kept here:

* every run has an id; events of a superseded run are dropped before a face sees them;
* a swap cancels the pane's run and voids its answer at once, and the newest swap wins;
* a run's timing mode is fixed when it starts;
* a vote names both pipelines, both answers and both run ids, and is refused unless
  both answers come from the pipelines shown now, for the query shown now;
* a vote is blind only when the query's random draw of sides was applied to the panes
  the user saw (not when a pane was still being built and kept its place);
* judgments are written off the event loop, and reported only once on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ragtui.compare.events import (
    AnswerDelta,
    CorpusOpened,
    HitsRetrieved,
    Judgments,
    JudgmentsChanged,
    LoadFailed,
    LoadStage,
    Mark,
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
from ragtui.config.settings_file import Settings
from ragtui.config.specs import PipelineSpec, parse_pipeline_spec
from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.corpus.model import Corpus
from ragtui.display.progress import describe
from ragtui.errors import Cancelled, RagtuiError
from ragtui.judged_unit import id_in_unit
from ragtui.judging.anchors import LabelResolver, ResolvedLabels, resolve_labels
from ragtui.judging.store import (
    VOTE_CHOICES,
    JudgmentStore,
    Label,
    PairRecord,
    RunRecord,
    Vote,
    normalize_query,
    query_history,
    query_id_for,
    win_table,
)
from ragtui.metrics import live_figures
from ragtui.pipeline import (
    Delta,
    Failed,
    FairGate,
    Finished,
    Pipeline,
    Queued,
    Retrieved,
    RunStats,
    Waiting,
    make_pipeline,
)
from ragtui.retrieval.types import Hit, SearchResult

if TYPE_CHECKING:
    from ragtui.index.cache import Indexes
    from ragtui.progress import WorkProgress
    from ragtui.testsets.for_labeling import LabelingQuestion
    from ragtui.testsets.store import GeneratedQuestion

# The compare screen builds a session before its first frame, so this module imports only
# what that needs. Indexes (numpy, the encoders), test sets and the judge are imported
# where the session first uses them, in workers after the screen is drawn
# (ragtui/startup.py lists what must stay off that path).

log = logging.getLogger("ragtui")

PANES = ("a", "b")
T = TypeVar("T")


class SessionError(RagtuiError):
    """An intent the session refuses, with what to do instead."""


@dataclass(frozen=True)
class SessionOptions:
    corpus: Path
    spec_a: str = "bm25+llamacpp:gemma3"
    spec_b: str = "dense+llamacpp:gemma3"
    settings: Settings = field(default_factory=Settings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    cache_root: Path | None = None
    data_root: Path | None = None
    fair: bool = True
    k: int | None = None
    max_tokens: int | None = None
    preload_models: bool = True
    blind: bool = False
    judge: str | None = None  # the LLM judge the app's J key asks


@dataclass
class PaneRun:
    """What one pane produced (or is producing) for one query."""

    run_id: str
    spec: str
    query: str
    query_id: str
    fair: bool
    result: SearchResult | None = None
    answer: str = ""
    stats: RunStats | None = None
    error: str | None = None
    done: bool = False
    restored: bool = False

    @property
    def timing_mode(self) -> str:
        return self.stats.timing_mode if self.stats else ("fair" if self.fair else "concurrent")


@dataclass
class PaneState:
    key: str
    spec: str
    pipeline: Pipeline | None = None
    error: str | None = None
    built: asyncio.Event = field(default_factory=asyncio.Event)
    build_token: int = 0
    run: PaneRun | None = None
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class DatasetQuery:
    query_id: str
    text: str
    judgments: int  # the dataset's judgments plus the user's grades
    testset: str = ""  # the test set it comes from; "" for the corpus's own
    review: str = ""  # of a generated question: "", "accepted" or "rejected"
    imported: bool = False  # a question of an imported set (the user's own), not generated


def _new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def resolve_spec(text: str, settings: Settings) -> PipelineSpec:
    """A spec string, or the name of a pipeline in ragtui.toml, as a spec value."""
    return parse_pipeline_spec(settings.pipelines.get(text, text))


class CompareSession:
    """Two pipelines answering the same queries; see the module's docstring."""

    def __init__(self, options: SessionOptions, side_random: random.Random | None = None) -> None:
        """``side_random`` draws the sides of blind queries; tests pass a seeded one."""
        for text in (options.spec_a, options.spec_b):
            resolve_spec(text, options.settings)  # a bad spec fails before anything starts
        self.options = options
        self.fair = options.fair
        self.k = options.k or options.settings.generation.k
        self.gate = FairGate()
        self.panes = {
            "a": PaneState("a", options.spec_a),
            "b": PaneState("b", options.spec_b),
        }
        self.corpus: Corpus | None = None
        self.indexes: Indexes | None = None
        self.store: JudgmentStore | None = None
        self.resolved = ResolvedLabels()
        # Kept questions of the corpus's generated test sets, by query id.
        self.generated: dict[str, GeneratedQuestion] = {}
        self._agreement_memo: tuple[object, str] = (None, "")
        # Questions of the corpus's sets a person may grade the pool of (imported ones, and
        # generated ones that passed the cheap filters), so that grades made here under
        # their ids count for their set in the labeling screen.
        self.labeling: list[LabelingQuestion] = []
        self._resolver: LabelResolver | None = None
        self.votes: list[Vote] = []
        self.history: list[str] = []
        self.query = ""
        self.query_id = ""
        self.corpus_ready = False
        self.ready = False
        self.pending_query: str | None = None
        self._queue: asyncio.Queue[SessionEvent] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Events a thread sent before open() set the loop (the encoders' early start).
        self._early_events: list[SessionEvent] = []
        self._early_lock = threading.Lock()
        self._encoders_started = False
        # One thread for the judgment files keeps appends in the order they were made.
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragtui-store")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        # Blind voting: pane titles hide the specs and, per query, a draw decides which
        # pipeline shows on the left. SystemRandom by default: a seeded draw could be learned.
        self.blind = options.blind
        # "kept" or "swapped": the draw applied to the current query's panes; "" when the
        # query is sighted (blind voting off, or the draw could not be made).
        self.draw = ""
        self.revealed = False  # a blind vote was cast on the current answers
        self._random = side_random if side_random is not None else random.SystemRandom()
        self._judge: Any = None

    # events -----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[SessionEvent]:
        """Everything that happens, in order; events of superseded runs are left out."""
        while True:
            event = await self._queue.get()
            if self._is_current(event):
                yield event

    def _is_current(self, event: SessionEvent) -> bool:
        run_id = getattr(event, "run_id", None)
        if run_id is None:
            return True
        run = self.panes[event.pane].run  # type: ignore[union-attr]
        return run is not None and run.run_id == run_id

    def _emit(self, event: SessionEvent) -> None:
        self._queue.put_nowait(event)

    def _emit_from_thread(self, event: SessionEvent) -> None:
        with self._early_lock:
            if self._loop is None:
                self._early_events.append(event)
                return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            self._loop.call_soon_threadsafe(self._emit, event)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _on_disk(self, write: Callable[..., T], *args: Any) -> T:
        """Run a blocking store call on the store's thread and wait for it.

        Shielded: a caller cancelled while its write waits behind another (close() cancels
        every task) must not cancel the write itself, or the last run or vote before a quit
        is lost; close() then waits for the store's thread to finish every write queued.
        """
        job = asyncio.get_running_loop().run_in_executor(self._io, write, *args)
        return await asyncio.shield(job)

    # opening ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Read the corpus and the judgments, restore the last query, build both panes."""
        with self._early_lock:
            self._loop = asyncio.get_running_loop()
            early, self._early_events = self._early_events, []
        self._emit(LoadStage(f"reading the corpus {self.options.corpus}"))
        for event in early:
            self._emit(event)
        self.start_loading_encoders()
        try:
            opened = await asyncio.to_thread(self._read_corpus)
        except RagtuiError as error:
            self._emit(LoadFailed(str(error)))
            for key in PANES:
                self._emit(PaneStatus(key, str(error), error=True))
            return
        corpus, runs = opened
        for warning in corpus.warnings:
            self._emit(Notice(warning, "warning"))
        if self.resolved.summary():
            self._emit(Notice(f"labels: {self.resolved.summary()}", "warning"))
        self.history = query_history(runs)
        self.corpus_ready = True
        self._emit(CorpusOpened(self.summary(), tuple(self.history)))
        if self.pending_query is not None:
            query, self.pending_query = self.pending_query, None
            self.ask(query)
        elif self.history:
            self._restore(runs, self.history[-1])
        # Both panes at once: each index has its own lock, so a BM25 pane is ready as soon as
        # its index is open while the other pane still opens its dense index.
        await asyncio.gather(*(self._build(key) for key in PANES))
        self.ready = True
        self._emit(SessionReady(self.summary()))
        if self.options.preload_models:
            await asyncio.to_thread(self._preload)

    def start_loading_encoders(self) -> None:
        """Start loading the embedding models the panes' retrievers encode queries with.

        In a thread of its own, at once: the model takes longer to load than the corpus
        takes to read and needs nothing from it, and the compare screen calls this before
        its first frame (measured: both panes ready sooner, the first frame no later).
        open() calls it too; the second call does nothing.
        """
        if self._encoders_started:
            return
        self._encoders_started = True
        threading.Thread(target=self._load_encoders, name="ragtui-encoders", daemon=True).start()

    def _load_encoders(self) -> None:
        from ragtui.encoders import get_encoder
        from ragtui.retrieval.local import embedding_model

        for pane in self.panes.values():
            try:
                model = embedding_model(resolve_spec(pane.spec, self.options.settings).retriever)
                if model is not None:
                    get_encoder(model, self.options.cache_root, self._stage)
            except Exception:
                # A head start only: the pane's build makes the same call and shows the
                # error in its pane; a traceback printed from here would tear the screen.
                log.debug("loading an embedding model early failed", exc_info=True)

    def _read_corpus(self) -> tuple[Corpus, list[RunRecord]]:
        from ragtui.index.cache import Indexes
        from ragtui.testsets.for_labeling import corpus_labeling_questions
        from ragtui.testsets.store import generated_questions

        options = self.options
        corpus = load_corpus(options.corpus, options.chunking, options.cache_root)
        self._emit_from_thread(LoadStage(f"{self._describe(corpus)} read; opening the indexes"))
        self.indexes = Indexes(
            corpus, options.cache_root, progress=self._progress, stage=self._stage
        )
        store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, options.data_root)
        runs = store.runs()
        self.votes = store.votes()
        self._resolver = LabelResolver(corpus)
        self.resolved = resolve_labels(store.labels(), corpus)
        self.generated = generated_questions(
            corpus.root, corpus.source_key, options.data_root, corpus=corpus
        )
        self.labeling = corpus_labeling_questions(corpus.root, corpus.source_key, options.data_root)
        self.corpus, self.store = corpus, store
        return corpus, runs

    def _stage(self, text: str) -> None:
        self._stop_if_closed()
        self._emit_from_thread(LoadStage(text))

    def _progress(self, progress: WorkProgress) -> None:
        self._stop_if_closed()
        self._emit_from_thread(LoadStage(describe(progress), progress.done, progress.total))

    def _stop_if_closed(self) -> None:
        # Called between blocks of index work in a worker thread: quitting must not wait
        # for minutes of embedding to finish (the interpreter joins worker threads).
        if self._closed:
            raise Cancelled("the session closed while its indexes were being built")

    @staticmethod
    def _describe(corpus: Corpus) -> str:
        return f"{len(corpus.documents)} documents, {len(corpus.passages)} passages"

    def summary(self) -> str:
        return self._describe(self.corpus) if self.corpus else ""

    def _make_pipeline(self, text: str) -> tuple[Pipeline | None, str | None]:
        assert self.indexes is not None
        try:
            pipeline = make_pipeline(
                resolve_spec(text, self.options.settings),
                self.indexes,
                self.options.settings,
                fair=self.fair,
                k=self.k,
                max_tokens=self.options.max_tokens,
            )
        except RagtuiError as error:
            return None, str(error)
        return pipeline, None

    async def _build(self, key: str) -> bool:
        """Build the pane's pipeline; False when a newer swap made this build moot."""
        pane = self.panes[key]
        pane.build_token += 1
        token, spec = pane.build_token, pane.spec
        pane.built.clear()
        self._retire(pane, pane.task)
        pane.error = None
        if pane.run is None or (pane.run.done and not pane.run.restored):
            self._emit(PaneStatus(key, "loading pipeline…"))
        pipeline, error = await asyncio.to_thread(self._make_pipeline, spec)
        if token != pane.build_token:
            if pipeline is not None:
                await pipeline.aclose()
            return False
        pane.pipeline, pane.error = pipeline, error
        pane.built.set()
        if error:
            self._emit(PaneStatus(key, error, error=True))
        elif pane.run is None:
            self._emit(PaneStatus(key, "ready"))
        return True

    def _preload(self) -> None:
        """Load embedded models now, so the first query does not wait for them."""
        for pane in self.panes.values():
            load = getattr(pane.pipeline.generator, "model", None) if pane.pipeline else None
            if callable(load):
                with contextlib.suppress(RagtuiError):  # the pane reports it when it runs
                    load()

    # restoring --------------------------------------------------------------------------

    def _restore(self, runs: list[RunRecord], query: str) -> None:
        """Bring the last session's query back, with each pane's answer where it still holds.

        A pane whose pipeline changed since (other ``--a``/``--b``), or whose passages
        changed in the corpus (the answer's ``[n]`` would point at other text), runs the
        query afresh once its pipeline is built.
        """
        assert self.corpus is not None
        latest = {run.pane: run for run in runs if run.query == query and run.pane in PANES}
        recorded = next((run.query_id for run in latest.values() if run.query_id), None)
        self.query = query
        self.query_id = self._query_id(query, recorded)
        self._emit(QueryRestored(query))
        for key in PANES:
            record = latest.get(key)
            result = None
            if record is not None and record.pipeline == self.panes[key].spec:
                result = self._stored_result(record)
            if result is None:
                self._start_run(key)  # waits for the pane's pipeline to be built
                continue
            stats = _stats_from(record.stats)
            run = PaneRun(
                run_id=record.run_id,
                spec=record.pipeline,
                query=query,
                query_id=self.query_id,
                fair=stats is None or stats.timing_mode == "fair",
                result=result,
                answer=record.answer,
                stats=stats,
                error=record.error,
                done=True,
                restored=True,
            )
            self.panes[key].run = run
            assert run.result is not None
            self._emit(RunStarted(key, run.run_id, query, restored=True))
            self._emit(HitsRetrieved(key, run.run_id, run.result, self.judgments(key)))
            self._emit(RunEnded(key, run.run_id, run.answer, stats, run.error, restored=True))

    def _stored_result(self, record: RunRecord) -> SearchResult | None:
        """The stored ranking, or None when any of its passages has changed or gone since
        (the answer cites passages by their place in it)."""
        assert self.corpus is not None
        corpus = self.corpus
        hits = []
        for stored in record.hits:
            row = corpus.passage_index.get(str(stored.get("passage_id")))
            if row is None:
                return None
            passage = corpus.passages[row]
            digest = stored.get("text_sha256")
            if digest and digest != passage.content_hash:
                return None
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
        retrieval_ms = (record.stats or {}).get("retrieval_ms") or 0.0
        return SearchResult(record.query, record.pipeline, tuple(hits), float(retrieval_ms))

    # queries ----------------------------------------------------------------------------

    def ask(self, query: str, query_id: str | None = None) -> bool:
        """Run query on both panes; False when it waits for the corpus to be read.

        ``query_id`` is the id of a question chosen from a list (ctrl+o): it is kept when
        it names that text, so a question two sets share runs under the one chosen.
        """
        query = query.strip()
        if not query:
            raise SessionError("Type a question first.")
        if not self.corpus_ready:
            self.pending_query = query
            return False
        assert self.corpus is not None
        self.query = query
        self.query_id = self._query_id(query, query_id)
        if query in self.history:
            self.history.remove(query)
        self.history.append(query)
        self.revealed = False
        self.draw = self._draw_sides() if self.blind else ""
        for key in PANES:
            self._start_run(key)
        return True

    # blind voting -----------------------------------------------------------------------

    def toggle_blind(self) -> bool:
        """Blind voting on or off; it takes effect with the next query."""
        self.blind = not self.blind
        return self.blind

    def _draw_sides(self) -> str:
        """Put the two pipelines left and right at random; "kept" or "swapped", or "" when
        no draw was made.

        The panes trade places only when both are built: a pipeline being built belongs to
        the pane that asked for it. Then the user sees the order they set up themselves,
        so the query is sighted, not blind "kept" (its vote would claim a draw that never
        happened).
        """
        first, second = self.panes["a"], self.panes["b"]
        building = [pane.key.upper() for pane in (first, second) if not pane.built.is_set()]
        if building:
            panes = "panes A and B are" if len(building) == 2 else f"pane {building[0]} is"
            self._emit(
                Notice(
                    f"Blind voting: {panes} still being built, so this query is not blind "
                    "(its pipelines are shown); run it again (ctrl+r) once both are built.",
                    "warning",
                )
            )
            return ""
        if self._random.random() < 0.5:
            return "kept"
        for pane in (first, second):
            self._cancel_run(pane)
            pane.run = None
        first.key, second.key = "b", "a"
        self.panes = {"a": second, "b": first}
        for key in PANES:
            self._emit(PaneSpecChanged(key, self.panes[key].spec))
        return "swapped"

    async def ask_judge(self) -> tuple[Any, str]:
        """The LLM judge's verdict on the two answers shown, in both orders, and how far
        that judge agrees with this user's votes (its latest calibration).

        Never recorded as a vote. Raises SessionError when there is no judge or no pair.
        """
        if not self.options.judge:
            raise SessionError("No judge: start ragtui with --judge SPEC (e.g. llamacpp:gemma3).")
        first, second = self._answered_runs()
        if self._judge is None:
            from ragtui.generation.prices import PriceTable
            from ragtui.judging.judge import Judge

            # No verdict cache here: its SQLite file would be written on the event loop,
            # and J is asked about one pair at a time anyway.
            self._judge = Judge(
                self.options.judge,
                self.options.settings.backends,
                templates=self.options.settings.judge,
                prices=PriceTable(self.options.settings.prices),
            )
        generated = self.generated.get(self.query_id)
        reference = generated.answer if generated is not None and generated.answer else None
        if reference is None and self.corpus is not None and self.corpus.answers.get(self.query_id):
            reference = self.corpus.answers[self.query_id][0]
        judgment = await self._judge.pairwise(self.query, first.answer, second.answer, reference)
        from ragtui.judging.calibration import calibration_sentence, latest_calibration

        description = await self._judge.describe()
        calibration = await self._on_disk(latest_calibration, self.store, description)
        votes = None if calibration is not None else len(await self._on_disk(self.store.votes))
        return judgment, calibration_sentence(calibration, votes)

    def rerun(self) -> None:
        if not self.corpus_ready or not self.query:
            raise SessionError("Ask a question first; ctrl+r runs it again.")
        self.ask(self.query)

    def _start_run(self, key: str) -> None:
        pane = self.panes[key]
        self._cancel_run(pane)
        run = PaneRun(_new_run_id(), pane.spec, self.query, self.query_id, fair=self.fair)
        pane.run = run
        self._emit(RunStarted(key, run.run_id, run.query))
        pane.task = self._spawn(self._drive(pane, run))

    def _cancel_run(self, pane: PaneState) -> None:
        if pane.task is not None and not pane.task.done():
            pane.task.cancel()
        pane.task = None

    def _retire(self, pane: PaneState, run: asyncio.Task[None] | None) -> None:
        """Take the pane's pipeline away; its generator's connections close once the run
        using it has ended (a swapped-out ``openai:`` generator would leak its client)."""
        pipeline, pane.pipeline = pane.pipeline, None
        if pipeline is not None:
            self._spawn(self._close_when_idle(pipeline, run))

    @staticmethod
    async def _close_when_idle(pipeline: Pipeline, run: asyncio.Task[None] | None) -> None:
        try:
            if run is not None and not run.done():
                await asyncio.wait([run])
        finally:
            with contextlib.suppress(Exception):
                await pipeline.aclose()

    async def _drive(self, pane: PaneState, run: PaneRun) -> None:
        key = pane.key
        if not pane.built.is_set():
            self._emit(
                PaneStatus(key, "waiting for this pane's index and models…", False, run.run_id)
            )
            await pane.built.wait()
        if pane.pipeline is None:
            await self._end(pane, run, "", None, pane.error or f"{pane.spec}: not built")
            return
        # The run keeps the timing mode in force when it started, whatever is toggled later.
        pipeline = replace(pane.pipeline, options=replace(pane.pipeline.options, fair=run.fair))
        async with contextlib.aclosing(pipeline.run(run.query, self.gate)) as events:
            async for event in events:
                if isinstance(event, Delta):
                    run.answer += event.text
                    self._emit(AnswerDelta(key, run.run_id, event.text))
                elif isinstance(event, Retrieved):
                    run.result = event.result
                    self._emit(HitsRetrieved(key, run.run_id, event.result, self.judgments(key)))
                elif isinstance(event, Queued):
                    self._emit(RunQueued(key, run.run_id, event.reason))
                elif isinstance(event, Waiting):
                    self._emit(PaneStatus(key, event.text, run_id=run.run_id))
                elif isinstance(event, Finished):
                    await self._end(pane, run, event.answer, event.stats, None)
                elif isinstance(event, Failed):
                    await self._end(pane, run, event.partial, event.stats, event.error)

    async def _end(
        self,
        pane: PaneState,
        run: PaneRun,
        answer: str,
        stats: RunStats | None,
        error: str | None,
    ) -> None:
        run.answer, run.stats, run.error, run.done = answer, stats, error, True
        self._emit(RunEnded(pane.key, run.run_id, answer, stats, error))
        if self.store is None:
            return
        hits = run.result.hits if run.result else ()
        record = RunRecord(
            run_id=run.run_id,
            query=run.query,
            query_id=run.query_id,
            pane=pane.key,
            pipeline=run.spec,
            resolved=str(pane.pipeline.spec) if pane.pipeline else run.spec,
            answer=answer,
            error=error,
            stats=stats.to_json() if stats else None,
            hits=tuple(_hit_record(hit, self.corpus) for hit in hits),
            time=time.time(),
        )
        try:
            await self._on_disk(self.store.add_run, record)
        except RagtuiError as problem:
            self._emit(Notice(str(problem), "error"))

    # swapping ---------------------------------------------------------------------------

    def component(self, key: str, component: str) -> str:
        """The retriever or generator spec pane key runs now."""
        spec = resolve_spec(self.panes[key].spec, self.options.settings)
        return str(spec.retriever if component == "retriever" else spec.generator)

    def set_component(self, key: str, component: str, value: str) -> str:
        """Give pane key another retriever or generator; its run is void at once.

        Returns the pane's new spec. The pipeline is built in the background; the newest
        swap wins, and the pane re-runs the current query once it is built.
        """
        if component not in ("retriever", "generator"):
            raise SessionError(f"component {component!r}: use retriever or generator")
        spec = resolve_spec(self.panes[key].spec, self.options.settings)
        if component == "retriever":
            text = str(parse_pipeline_spec(f"{value}+{spec.generator}"))
        else:
            text = str(parse_pipeline_spec(f"{spec.retriever}+{value}"))
        pane = self.panes[key]
        pane.spec = text
        # Whoever picks a component knows where it went: the query is no longer blind.
        self.draw = ""
        run_task = pane.task
        self._cancel_run(pane)
        pane.run = None
        self._retire(pane, run_task)
        pane.error = None
        pane.built.clear()
        self._emit(PaneSpecChanged(key, text))
        if self.corpus_ready:
            self._spawn(self._rebuild(key))
        return text

    def copy_component(self, source: str, component: str) -> tuple[str, str]:
        """Give the other pane source's retriever or generator; returns (pane, value)."""
        target = "b" if source == "a" else "a"
        value = self.component(source, component)
        self.set_component(target, component, value)
        return target, value

    async def _rebuild(self, key: str) -> None:
        if await self._build(key) and self.query:
            self._start_run(key)

    def toggle_timing(self) -> str:
        """Switch fair/concurrent timing for the runs that start from now on."""
        self.fair = not self.fair
        return self.timing_mode

    @property
    def timing_mode(self) -> str:
        return "fair" if self.fair else "concurrent"

    # judgments --------------------------------------------------------------------------

    def judgments(self, key: str) -> Judgments:
        """Marks on pane key's passages and its live figures for the current query.

        Figures use the user's own grades when this query has any (per passage, as
        ``ragtui eval --labels`` scores), else the dataset's judgments (per document, a
        document ranking by its best passage, as ``ragtui eval`` scores).
        """
        run = self.panes[key].run
        hits = run.result.hits if run is not None and run.result is not None else ()
        yours = self.resolved.grades.get(self.query_id, {})
        dataset, unit, described = self._dataset_judgments()
        marks: dict[str, Mark] = {}
        for hit in hits:
            judged = id_in_unit(hit.doc_id, hit.passage_id, unit)
            if hit.passage_id in yours:
                marks[hit.passage_id] = Mark(yours[hit.passage_id], "yours")
            elif judged in dataset:
                marks[hit.passage_id] = Mark(dataset[judged], "dataset")
        if not hits:
            return Judgments(marks)
        if yours:
            return Judgments(marks, live_figures(yours, hits, self.k, "passage"), "your grades")
        if dataset:
            return Judgments(marks, live_figures(dataset, hits, self.k, unit), described)
        return Judgments(marks)

    def _dataset_judgments(self) -> tuple[dict[str, int], str, str]:
        """(judged id → grade, what the ids name, how the figures describe them)."""
        if self.corpus is None:
            return {}, "document", ""
        question = self.generated.get(self.query_id)
        if question is not None and self.query_id not in self.corpus.queries:
            # A generated question is judged by the passages that hold its source text now:
            # a machine's judgment, so the figures carry its agreement with this person.
            agreement = self._source_agreement(question.testset)
            source = f"source {question.unit} (test set {question.testset}; {agreement})"
            return dict.fromkeys(question.judged_ids, 1), question.unit, source
        if self.query_id not in self.corpus.queries:
            return {}, "document", ""
        return dict(self.corpus.qrels.get(self.query_id, {})), "document", "dataset judgments"

    def _source_agreement(self, testset: str) -> str:
        """How far a test set's source judgments agree with your grades of the passages
        retrieved for its questions: κ with its interval, over the passages you graded.

        Both sides are taken as relevant or not (your grade 1 or more; the passage holds
        the question's source or not): the source judgment has no degrees, so a 3 against
        its 1 is no disagreement. Intervals resample questions.
        """
        from ragtui.judging.labeller_agreement import NOT_CHECKED, kappa_figure

        assert self.corpus is not None
        corpus = self.corpus
        yours: dict[str, dict[str, int]] = {}
        theirs: dict[str, dict[str, int]] = {}
        for query_id, question in self.generated.items():
            grades = self.resolved.grades.get(query_id)
            # A rejected question is not scored by its source (eval leaves it out).
            if question.testset != testset or not grades or question.review == "rejected":
                continue
            judged = set(question.judged_ids)
            yours[query_id], theirs[query_id] = {}, {}
            for passage_id, grade in grades.items():
                row = corpus.passage_index.get(passage_id)
                if row is None:
                    continue  # a passage gone since it was graded
                unit_id = id_in_unit(corpus.passages[row].doc_id, passage_id, question.unit)
                yours[query_id][passage_id] = int(grade >= 1)
                theirs[query_id][passage_id] = int(unit_id in judged)
        key = (
            testset,
            tuple(sorted((q, tuple(sorted(g.items()))) for q, g in yours.items())),
            tuple(sorted((q, tuple(sorted(g.items()))) for q, g in theirs.items())),
        )
        if self._agreement_memo[0] != key:
            figure = kappa_figure(yours, theirs)
            self._agreement_memo = (key, figure.words() if figure.pairs else NOT_CHECKED)
        return self._agreement_memo[1]

    def _known_queries(self) -> dict[str, str]:
        """Query id → text of every question with an id of its own, in the order a typed
        text is matched: the corpus's queries (they have judgments), the generated kept
        questions, then the test sets' other questions (imported ones, and generated ones
        only the round trip dropped). An id keeps its first text."""
        assert self.corpus is not None
        known = dict(self.corpus.queries)
        for query_id, question in self.generated.items():
            known.setdefault(query_id, question.text)
        for labeling in self.labeling:
            known.setdefault(labeling.query_id, labeling.text)
        return known

    def _query_id(self, query: str, preferred: str | None = None) -> str:
        """The id query runs under: ``preferred`` when it is a known question with that
        text, else the first known question with that text, else one made from the text."""
        known = self._known_queries()
        folded = normalize_query(query).casefold()
        if preferred in known and normalize_query(known[preferred]).casefold() == folded:
            return preferred
        return query_id_for(query, known)

    async def review_generated(self, query_id: str, verdict: str) -> None:
        """Accept or reject a generated question; stored with its set (eval leaves rejected
        ones out). Returns once it is on disk."""
        question = self.generated.get(query_id)
        if question is None:
            raise SessionError(f"{query_id!r} is not a generated question of this corpus")
        from ragtui.testsets.store import TestsetFolder

        await self._on_disk(TestsetFolder(question.folder).review, query_id, verdict)
        self.generated[query_id] = replace(question, review=verdict)

    async def grade(self, key: str, passage_id: str, grade: int | None) -> Label:
        """Grade (0–3) a passage pane key shows, for the current query; None clears it.

        Returns once the label is on disk; both panes' marks and figures follow.
        """
        if self.store is None or self.corpus is None or not self.query:
            raise SessionError("Ask a question first, then grade its passages.")
        run = self.panes[key].run
        shown = run.result.hits if run is not None and run.result is not None else ()
        if not any(hit.passage_id == passage_id for hit in shown):
            raise SessionError(f"passage {passage_id!r} is not shown in pane {key.upper()}")
        passage = self.corpus.passages[self.corpus.passage_index[passage_id]]
        label = Label.for_passage(
            self.query, self.query_id, passage, grade, self.corpus.chunking.key
        )
        await self._on_disk(self.store.add_label, label)
        self._reresolve(label.query_id)
        for other in PANES:
            other_run = self.panes[other].run
            if other_run is not None:
                self._emit(JudgmentsChanged(other, other_run.run_id, self.judgments(other)))
        return label

    def _reresolve(self, query_id: str) -> None:
        assert self.store is not None and self._resolver is not None
        judged = self.store.labels().get(query_id, {})
        scratch = ResolvedLabels()
        grades = self._resolver.resolve_query(list(judged.values()), scratch)
        if grades:
            self.resolved.grades[query_id] = grades
            self.resolved.queries[query_id] = next(iter(judged.values())).query
        else:
            self.resolved.grades.pop(query_id, None)

    async def vote(self, choice: str) -> Vote:
        """Record which answer is better; returns once the vote is on disk."""
        if choice not in VOTE_CHOICES:
            raise SessionError(f"vote {choice!r}: use one of {', '.join(VOTE_CHOICES)}")
        first, second = self._answered_runs()
        vote = Vote(
            query=self.query,
            query_id=self.query_id,
            pipeline_a=first.spec,
            pipeline_b=second.spec,
            choice=choice,
            answer_a=first.answer,
            answer_b=second.answer,
            stats_a=first.stats.to_json() if first.stats else None,
            stats_b=second.stats.to_json() if second.stats else None,
            time=time.time(),
            run_id_a=first.run_id,
            run_id_b=second.run_id,
            timing_a=first.timing_mode,
            timing_b=second.timing_mode,
            # A second vote on answers already revealed is a sighted one.
            blind=bool(self.draw) and not self.revealed,
            draw=(self.draw or None) if not self.revealed else None,
        )
        await self._on_disk(self.store.add_vote, vote)
        self.votes.append(vote)
        if self.draw:
            self.revealed = True
        return vote

    def _answered_runs(self) -> tuple[PaneRun, PaneRun]:
        """Both panes' finished answers to the current query, or a SessionError saying why."""
        if self.store is None or not self.query:
            raise SessionError("Ask a question first, then vote on the two answers.")
        runs: dict[str, PaneRun] = {}
        for key, pane in self.panes.items():
            run = pane.run
            if run is None:
                raise SessionError(
                    f"Pane {key.upper()} now runs {pane.spec} and has no answer to this query "
                    "yet; vote once it has answered."
                )
            if not run.done:
                raise SessionError("Wait until both answers are finished, then vote.")
            if run.spec != pane.spec or run.query_id != self.query_id:
                raise SessionError(
                    f"Pane {key.upper()}'s answer is not from {pane.spec} for this query; "
                    "re-run (ctrl+r), then vote."
                )
            if run.error is not None:
                raise SessionError(
                    f"Pane {key.upper()} has no answer ({flat_error(run.error)}); a vote needs "
                    "two answers: fix or swap its generator (g), then vote."
                )
            runs[key] = run
        return runs["a"], runs["b"]

    def win_table(self) -> list[PairRecord]:
        return win_table(self.votes)

    def current_testset(self) -> str:
        """The test set the current question belongs to; "" for a typed question or one of
        the corpus's own."""
        if not self.query_id:
            return ""
        question = self.generated.get(self.query_id)
        if question is not None:
            return question.testset
        return next((q.testset for q in self.labeling if q.query_id == self.query_id), "")

    def dataset_queries(self) -> list[DatasetQuery]:
        """The corpus's own queries, then its generated ones, then its imported ones, with
        how many judgments each has (dataset or source passage, plus yours)."""
        if self.corpus is None:
            return []
        own = [
            DatasetQuery(
                query_id,
                text,
                len(self.corpus.qrels.get(query_id, {}))
                + len(self.resolved.grades.get(query_id, {})),
            )
            for query_id, text in self.corpus.queries.items()
        ]
        generated = [
            DatasetQuery(
                query_id,
                question.text,
                1 + len(self.resolved.grades.get(query_id, {})),
                question.testset,
                question.review,
            )
            for query_id, question in self.generated.items()
        ]
        listed = {query.query_id for query in own + generated}
        imported = []
        for question in self.labeling:
            if not question.imported or question.query_id in listed:
                continue
            listed.add(question.query_id)  # two sets may share an id (same question)
            imported.append(
                DatasetQuery(
                    question.query_id,
                    question.text,
                    len(self.resolved.grades.get(question.query_id, {})),
                    question.testset,
                    imported=True,
                )
            )
        return own + generated + imported

    # closing ----------------------------------------------------------------------------

    async def _close_judge(self) -> None:
        if self._judge is not None:
            judge, self._judge = self._judge, None
            with contextlib.suppress(Exception):  # closing on the way out: nothing to tell
                await judge.aclose()

    async def close(self) -> None:
        """Cancel what runs and wait until every judgment handed to the store is on disk."""
        if self._closed:
            return
        self._closed = True
        # A model export can only be running if the encoders were loaded; importing them
        # here just to find nothing running would slow every quit.
        building = sys.modules.get("ragtui.encoders.building")
        if building is not None:
            building.stop_exports()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for pane in self.panes.values():
            self._retire(pane, None)
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._close_judge()
        await asyncio.to_thread(self._io.shutdown, True)


def flat_error(error: str, limit: int = 80) -> str:
    """An error message short enough to quote inside another sentence."""
    line = " ".join(error.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _hit_record(hit: Hit, corpus: Corpus | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "passage_id": hit.passage_id,
        "doc_id": hit.doc_id,
        "score": hit.score,
        "rank": hit.rank,
    }
    if corpus is not None and hit.passage_id in corpus.passage_index:
        record["text_sha256"] = corpus.passages[corpus.passage_index[hit.passage_id]].content_hash
    return record


def _stats_from(record: object) -> RunStats | None:
    if not isinstance(record, dict):
        return None
    try:
        return RunStats(**record)
    except TypeError:
        return None
