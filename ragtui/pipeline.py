"""A pipeline = retriever + generator + prompt, run as an async stream of events.

    Retrieved(result) → [Queued(reason)] → Delta(text)… → Finished(answer, stats)
                                                        | Failed(error, partial, stats)

Every face (CLI, TUI, batch) consumes these events and measures nothing itself. Fair
mode runs local generations one at a time through a shared gate and resets prompt
caches; concurrent mode lets them overlap. Each result says which mode produced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

from ragtui.config.specs import PipelineSpec
from ragtui.errors import RagtuiError
from ragtui.generation import (
    GenerationDone,
    GenerationOptions,
    Generator,
    Prompt,
    Retrying,
    TextDelta,
)
from ragtui.generation.base import GenerationError
from ragtui.generation.prices import PriceTable
from ragtui.prompts import PromptTemplates, build_prompt
from ragtui.retrieval.types import Retriever, SearchResult

log = logging.getLogger("ragtui")
# Retrieval (and its torch query encoding) always runs on this one thread: like llama.cpp,
# torch's OpenMP threads slow down when driven from many threads in turn.
_RETRIEVAL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragtui-retrieval")


@dataclass(frozen=True)
class RunStats:
    """Figures of one run. ``ttft_ms`` counts from the start of generation (after retrieval
    and any wait in the fair queue); ``total_ms`` is retrieval plus generation."""

    retrieval_ms: float | None
    ttft_ms: float | None
    total_ms: float | None
    tokens_per_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    tokens_estimated: bool
    cost_usd: float | None
    timing_mode: str  # "fair" or "concurrent"
    queued_ms: float = 0.0
    finish_reason: str = "stop"
    partial: bool = False
    # Of retrieval_ms: the search engine's own time (request and reply included) when an
    # engine such as Milvus served the search.
    engine: str | None = None
    engine_ms: float | None = None
    # Of retrieval_ms: embedding the query, and the runtime that did it ("onnx fp32").
    encoder: str | None = None
    encode_ms: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            key: round(value, 3) if isinstance(value, float) else value
            for key, value in asdict(self).items()
        }


@dataclass(frozen=True)
class Retrieved:
    result: SearchResult


@dataclass(frozen=True)
class Queued:
    reason: str


@dataclass(frozen=True)
class Waiting:
    """Something the user should see while waiting, e.g. a retry after HTTP 503."""

    text: str


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    answer: str
    stats: RunStats


@dataclass(frozen=True)
class Failed:
    error: str
    partial: str
    stats: RunStats | None


PipelineEvent = Retrieved | Queued | Waiting | Delta | Finished | Failed


class FairGate:
    """Lets one local generation run at a time, so two panes do not share 2 cores."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


@dataclass
class Pipeline:
    spec: PipelineSpec
    retriever: Retriever
    generator: Generator
    prices: PriceTable
    templates: PromptTemplates
    options: GenerationOptions
    k: int = 5

    @property
    def timing_mode(self) -> str:
        return "fair" if self.options.fair else "concurrent"

    async def aclose(self) -> None:
        """Release the generator's connections; whoever made the pipeline calls it."""
        await self.generator.aclose()

    async def run(self, query: str, gate: FairGate | None = None) -> AsyncIterator[PipelineEvent]:
        """Retrieve, then stream the answer; failures end the stream with ``Failed``."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                _RETRIEVAL, self.retriever.search, query, self.k
            )
        except RagtuiError as error:
            yield Failed(str(error), "", self._failed_stats(None, 0.0, ""))
            return
        except Exception as error:  # a bug in a backend must not take the other pane down
            log.debug("pipeline %s failed", self.spec, exc_info=True)
            message = f"{self.spec}: unexpected {error.__class__.__name__}: {error}"
            yield Failed(message, "", self._failed_stats(None, 0.0, ""))
            return
        yield Retrieved(result)
        async for event in self.answer(query, result, gate):
            yield event

    def prompt_for(self, query: str, result: SearchResult) -> Prompt:
        """The prompt the generator gets for query and these hits (the first ``k``)."""
        return build_prompt(
            self.generator.prompt_style,
            query,
            [hit.text for hit in result.hits[: self.k]],
            self.templates,
        )

    async def answer(
        self, query: str, result: SearchResult, gate: FairGate | None = None
    ) -> AsyncIterator[PipelineEvent]:
        """Stream the answer to query from already retrieved hits (batch runs retrieve once
        per query and answer with several generators)."""
        async with contextlib.aclosing(self._answer(query, result, gate)) as events:
            async for event in events:
                if isinstance(event, Finished | Failed) and event.stats:
                    event = replace(event, stats=with_retrieval_breakdown(event.stats, result))
                yield event

    async def _answer(
        self, query: str, result: SearchResult, gate: FairGate | None
    ) -> AsyncIterator[PipelineEvent]:
        answer = ""
        retrieval_ms = result.elapsed_ms
        queued_ms = 0.0
        # Measured here too, so a stream cut after some text still reports its TTFT.
        clock = _FailureClock()
        # The mode in force when the run starts is the one its figures were measured in.
        options = self.options
        mode = "fair" if options.fair else "concurrent"
        try:
            prompt = self.prompt_for(query, result)
            use_gate = gate is not None and options.fair and self.generator.runs_locally
            if use_gate and gate.busy:
                yield Queued("waiting for the other local generation (fair mode)")
            waited_from = time.monotonic()
            async with gate if use_gate else _no_gate():
                queued_ms = (time.monotonic() - waited_from) * 1000
                clock.start()
                async for event in self.generator.stream(prompt, options):
                    if isinstance(event, TextDelta):
                        clock.text()
                        answer += event.text
                        yield Delta(event.text)
                    elif isinstance(event, GenerationDone):
                        yield Finished(answer, self._stats(event, retrieval_ms, queued_ms, mode))
                        return
                    elif isinstance(event, Retrying):
                        yield Waiting(f"{self.spec.generator}: {event.describe()}")
            raise GenerationError(f"{self.spec.generator}: the stream ended without a result")
        except GenerationError as error:
            partial = error.partial or answer
            yield Failed(
                str(error),
                partial,
                self._failed_stats(retrieval_ms, queued_ms, partial, mode, clock),
            )
        except RagtuiError as error:
            yield Failed(
                str(error),
                answer,
                self._failed_stats(retrieval_ms, queued_ms, answer, mode, clock),
            )
        except Exception as error:  # a bug in a backend must not take the other pane down
            log.debug("pipeline %s failed", self.spec, exc_info=True)
            message = f"{self.spec}: unexpected {error.__class__.__name__}: {error}"
            stats = self._failed_stats(retrieval_ms, queued_ms, answer, mode, clock)
            yield Failed(message, answer, stats)

    def _stats(
        self, done: GenerationDone, retrieval_ms: float | None, queued_ms: float, mode: str
    ) -> RunStats:
        usage = done.usage
        return RunStats(
            retrieval_ms=retrieval_ms,
            ttft_ms=done.ttft_ms,
            total_ms=(retrieval_ms or 0.0) + done.total_ms,
            tokens_per_s=done.decode_tokens_per_s,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            tokens_estimated=usage.estimated,
            cost_usd=self.prices.cost_usd(self.spec.generator, self.generator.runs_locally, usage),
            timing_mode=mode,
            queued_ms=queued_ms,
            finish_reason=done.finish_reason,
            partial=done.finish_reason == "cancelled",
        )

    def _failed_stats(
        self,
        retrieval_ms: float | None,
        queued_ms: float,
        partial: str,
        mode: str | None = None,
        clock: _FailureClock | None = None,
    ) -> RunStats:
        ttft_ms = clock.ttft_ms if clock is not None else None
        generation_ms = clock.elapsed_ms if clock is not None else None
        return RunStats(
            retrieval_ms=retrieval_ms,
            ttft_ms=ttft_ms,
            total_ms=None if generation_ms is None else (retrieval_ms or 0.0) + generation_ms,
            tokens_per_s=None,
            prompt_tokens=None,
            completion_tokens=None,
            tokens_estimated=True,
            cost_usd=None,
            timing_mode=mode or self.timing_mode,
            queued_ms=queued_ms,
            finish_reason="error",
            partial=bool(partial),
        )


def with_retrieval_breakdown(stats: RunStats, result: SearchResult) -> RunStats:
    """stats carrying where the search's time went: query encoding, the engine."""
    if result.encoder is not None:
        stats = replace(stats, encoder=result.encoder, encode_ms=result.encode_ms)
    if result.engine_ms is not None:
        stats = replace(stats, engine=result.engine, engine_ms=result.engine_ms)
    return stats


class _FailureClock:
    """When generation started and its first text came, for the figures of a failed run."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.first_text: float | None = None

    def start(self) -> None:
        self.started = time.monotonic()

    def text(self) -> None:
        if self.first_text is None:
            self.first_text = time.monotonic()

    @property
    def ttft_ms(self) -> float | None:
        if self.started is None or self.first_text is None:
            return None
        return (self.first_text - self.started) * 1000

    @property
    def elapsed_ms(self) -> float | None:
        return None if self.started is None else (time.monotonic() - self.started) * 1000


class _no_gate:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def make_pipeline(
    spec: PipelineSpec,
    indexes,  # ragtui.index.cache.Indexes
    settings,  # ragtui.config.settings_file.Settings
    *,
    fair: bool = True,
    k: int | None = None,
    max_tokens: int | None = None,
) -> Pipeline:
    """A ready pipeline: its retriever's indexes opened, its generator constructed."""
    from ragtui.generation import make_generator
    from ragtui.retrieval import make_retriever

    defaults = settings.generation
    return Pipeline(
        spec=spec,
        retriever=make_retriever(spec.retriever, indexes, settings.backends),
        generator=make_generator(spec.generator, settings.backends),
        prices=PriceTable(settings.prices),
        templates=settings.prompts,
        options=GenerationOptions(
            max_tokens=max_tokens or defaults.max_tokens,
            temperature=defaults.temperature,
            fair=fair,
        ),
        k=k or defaults.k,
    )
