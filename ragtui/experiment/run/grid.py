"""Run a retriever × generator grid over a query set, doing each piece of work once.

Each retriever searches each query once (``depth`` passages, enough for the run files);
every generator then answers from the first ``context_k`` of those passages. Answers come
from the generation cache when their key is known, so only new cells cost time.

Timing (``GridPlan.timing``): ``auto`` runs models inside this process (llama.cpp,
extractive) one answer at a time with prompt reuse off, as the app's fair mode does, and
sends up to ``concurrency`` requests at once to any server, on this machine or elsewhere
(a vLLM or llama.cpp server on localhost batches them); ``fair`` runs every generator one
answer at a time; ``concurrent`` also allows prompt reuse. Each generator's mode is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ragtui.config.specs import PipelineSpec, parse_generator_spec, parse_retriever_spec
from ragtui.errors import RagtuiError
from ragtui.experiment.run.dataset import EvalDataset
from ragtui.experiment.run.generation_cache import GenerationCache, generation_key
from ragtui.generation import GenerationOptions, Generator, make_generator
from ragtui.generation.prices import PriceTable
from ragtui.index.cache import Indexes
from ragtui.pipeline import Failed, Finished, Pipeline, RunStats
from ragtui.progress import ProgressCallback, WorkProgress
from ragtui.retrieval import SearchResult, make_retriever

log = logging.getLogger("ragtui")

ProgressLine = Callable[[str], None]


TIMING_MODES = ("auto", "fair", "concurrent")


def answers_in_flight(plan: GridPlan, in_process: bool) -> int:
    """How many answers a generator works on at once under the plan's timing."""
    if in_process or plan.timing == "fair":
        return 1
    return max(1, plan.concurrency)


def describe_timing(spec: str, plan: GridPlan, in_process: bool) -> str:
    limit = answers_in_flight(plan, in_process)
    if in_process:
        how = "runs in this process: one answer at a time"
    elif limit == 1:
        how = "server: one request at a time (--timing fair)"
    else:
        how = f"server: up to {limit} requests at once"
    reuse = "prompt reuse allowed" if plan.timing == "concurrent" else "prompt cache off"
    return f"{spec}: {how}, {reuse}"


@dataclass(frozen=True)
class GridPlan:
    retrievers: tuple[str, ...]
    generators: tuple[str, ...]
    k: int = 10  # cut-off of the retrieval metrics
    context_k: int = 5  # passages each generator reads
    depth: int = 100  # passages retrieved per query, for MAP and the run files
    concurrency: int = 4  # requests in flight at once to a generator's server
    max_tokens: int | None = None
    timing: str = "auto"  # one of TIMING_MODES

    def __post_init__(self) -> None:
        if self.timing not in TIMING_MODES:
            raise RagtuiError(f"timing {self.timing!r}: use one of {', '.join(TIMING_MODES)}")
        # Specs are checked before any work starts, so a typo costs nothing.
        for spec in self.retrievers:
            parse_retriever_spec(spec)
        for spec in self.generators:
            parse_generator_spec(spec)


@dataclass(frozen=True)
class Cell:
    """One generator's answer to one query from one retriever's passages."""

    query_id: str
    retriever: str
    generator: str
    answer: str
    stats: RunStats | None
    error: str | None
    cached: bool
    context: tuple[str, ...]  # the passage texts the generator read

    @property
    def pipeline(self) -> str:
        return f"{self.retriever}+{self.generator}"


@dataclass
class GridRun:
    dataset: EvalDataset
    plan: GridPlan
    # (retriever, query id) → that retriever's one search for the query
    retrievals: dict[tuple[str, str], SearchResult] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    generated: Counter[str] = field(default_factory=Counter)  # generator → new answers
    reused: Counter[str] = field(default_factory=Counter)  # generator → answers from cache
    elapsed_s: float = 0.0


class _AnswerMeter:
    """Reports answering as work still to do: a cell found in the generation cache is
    taken off the total instead of counted as done, so rate and ETA are about real work."""

    def __init__(self, report: ProgressCallback | None, total: int) -> None:
        self.report = report
        self.total = total
        self.new = 0
        self.started = time.monotonic()

    def step(self, new: bool) -> None:
        if new:
            self.new += 1
        else:
            self.total -= 1
        if self.report is not None and self.total and (new or self.new == self.total):
            elapsed = time.monotonic() - self.started
            self.report(WorkProgress(self.new, self.total, elapsed, "answering", "answers"))


def run_grid(
    dataset: EvalDataset,
    plan: GridPlan,
    settings,  # ragtui.config.settings_file.Settings
    *,
    cache_root: Path,
    progress: ProgressLine | None = None,
    encode_progress: ProgressCallback | None = None,
) -> GridRun:
    """Retrieve once per retriever and query, then answer every cell of the grid.

    ``progress`` gets a line per phase; ``encode_progress`` gets indexing and answering
    progress (passages embedded, answers generated).
    """
    started = time.monotonic()
    run = GridRun(dataset=dataset, plan=plan)
    # Every generator is made (a missing model file found) before any retrieval or
    # embedding work; making one opens no connection and loads no weights.
    generators = make_generators(plan, settings)
    indexes = Indexes(dataset.corpus, cache_root, encode_progress)
    retrievers = {
        spec: make_retriever(spec, indexes, settings.backends) for spec in plan.retrievers
    }
    for spec, retriever in retrievers.items():
        if progress:
            progress(f"retrieving with {spec} for {len(dataset.queries)} queries")
        for query_id, text in dataset.queries.items():
            run.retrievals[(spec, query_id)] = retriever.search(
                text, max(plan.depth, plan.k, plan.context_k)
            )
    cache = GenerationCache(cache_root / "generations.sqlite")
    try:
        asyncio.run(_answer_all(run, retrievers, generators, settings, cache, encode_progress))
    finally:
        cache.close()
    run.elapsed_s = time.monotonic() - started
    return run


def make_generators(plan: GridPlan, settings) -> dict[str, Generator]:
    """Each generator of the plan, checked (an unknown model or a missing file is one
    RagtuiError line) without loading weights or opening a connection."""
    return {spec: make_generator(spec, settings.backends) for spec in plan.generators}


async def _answer_all(
    run, retrievers, generators, settings, cache: GenerationCache, report
) -> None:
    plan = run.plan
    defaults = settings.generation
    options = GenerationOptions(
        max_tokens=plan.max_tokens or defaults.max_tokens,
        temperature=defaults.temperature,
        fair=plan.timing != "concurrent",
    )
    total = len(plan.retrievers) * len(plan.generators) * len(run.dataset.queries)
    meter = _AnswerMeter(report, total)
    for generator_spec in plan.generators:
        generator = generators[generator_spec]
        identity = await generator.identity()
        log.info("timing: %s", describe_timing(generator_spec, plan, generator.in_process))
        gate = asyncio.Semaphore(answers_in_flight(plan, generator.in_process))
        warned: list[bool] = [False]
        jobs = []
        for retriever_spec in plan.retrievers:
            pipeline = Pipeline(
                spec=PipelineSpec(
                    parse_retriever_spec(retriever_spec), parse_generator_spec(generator_spec)
                ),
                retriever=retrievers[retriever_spec],
                generator=generator,
                prices=PriceTable(settings.prices),
                templates=settings.prompts,
                options=options,
                k=plan.context_k,
            )
            for query_id, text in run.dataset.queries.items():
                retrieval = run.retrievals[(retriever_spec, query_id)]
                jobs.append(
                    _answer_one(
                        run,
                        pipeline,
                        identity,
                        query_id,
                        text,
                        retrieval,
                        cache,
                        gate,
                        meter,
                        warned,
                    )
                )
        try:
            await asyncio.gather(*jobs)
        finally:
            await generator.aclose()
    run.cells.sort(key=lambda cell: (cell.retriever, cell.generator, cell.query_id))


async def _answer_one(
    run: GridRun,
    pipeline: Pipeline,
    model_identity: str,
    query_id: str,
    text: str,
    retrieval: SearchResult,
    cache: GenerationCache,
    gate: asyncio.Semaphore,
    meter: _AnswerMeter,
    warned: list[bool],
) -> None:
    retriever, generator = str(pipeline.spec.retriever), str(pipeline.spec.generator)
    result = replace(retrieval, hits=retrieval.hits[: pipeline.k])
    context = tuple(hit.text for hit in result.hits)
    key = generation_key(
        generator, model_identity, pipeline.prompt_for(text, result), pipeline.options
    )
    known = cache.get(key)
    if known is not None:
        answer, stats = known
        generation_ms = (stats.total_ms or 0.0) - (stats.retrieval_ms or 0.0)
        stats = replace(
            stats, retrieval_ms=retrieval.elapsed_ms, total_ms=retrieval.elapsed_ms + generation_ms
        )
        run.cells.append(Cell(query_id, retriever, generator, answer, stats, None, True, context))
        run.reused[generator] += 1
        meter.step(new=False)
        return
    async with gate:
        answer, stats, error = "", None, None
        async for event in pipeline.answer(text, result):
            if isinstance(event, Finished):
                answer, stats = event.answer, event.stats
            elif isinstance(event, Failed):
                answer, stats, error = event.partial, event.stats, event.error
        run.generated[generator] += 1
    if error is None and stats is not None:
        cache.put(key, generator, answer, stats)
    elif not warned[0]:
        warned[0] = True
        log.warning(
            "%s failed on query %s: %s (other failures are in the report)",
            generator,
            query_id,
            error,
        )
    run.cells.append(Cell(query_id, retriever, generator, answer, stats, error, False, context))
    meter.step(new=True)
