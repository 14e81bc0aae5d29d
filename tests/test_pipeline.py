"""Pipelines as event streams: order, stats, fair scheduling and contained failures."""

import asyncio
import time

import pytest

from ragtui.config.settings_file import Settings
from ragtui.config.specs import parse_pipeline_spec
from ragtui.corpus import load_corpus
from ragtui.generation.prices import Price
from ragtui.index.cache import Indexes
from ragtui.pipeline import Delta, Failed, FairGate, Finished, Queued, Retrieved, make_pipeline
from tests.conftest import SAMPLE_CORPUS
from tests.servers.processes import free_port


@pytest.fixture(scope="module")
def indexes() -> Indexes:
    return Indexes(load_corpus(SAMPLE_CORPUS))


async def run(pipeline, query, gate=None):
    return [event async for event in pipeline.run(query, gate)]


async def test_events_come_in_order_with_stats(indexes: Indexes) -> None:
    pipeline = make_pipeline(parse_pipeline_spec("bm25+extractive"), indexes, Settings(), k=3)
    events = await run(pipeline, "What does error E-104 mean?")
    assert isinstance(events[0], Retrieved)
    assert events[0].result.hits[0].doc_id == "error-e104.md"
    assert all(isinstance(event, Delta) for event in events[1:-1])
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.answer == "".join(event.text for event in events[1:-1])
    assert "[1]" in finished.answer
    stats = finished.stats
    assert stats.retrieval_ms == events[0].result.elapsed_ms
    assert stats.total_ms >= stats.retrieval_ms
    assert stats.cost_usd == 0.0 and stats.timing_mode == "fair"
    assert stats.tokens_estimated


async def test_llamacpp_pipeline_reports_exact_tokens_and_cost(indexes: Indexes) -> None:
    pipeline = make_pipeline(
        parse_pipeline_spec("bm25+llamacpp:smollm2"), indexes, Settings(), k=2, max_tokens=8
    )
    events = await run(pipeline, "How heavy is the HB-15?")
    finished = events[-1]
    assert isinstance(finished, Finished), events[-1]
    assert finished.answer.strip()
    assert finished.stats.prompt_tokens > 50 and not finished.stats.tokens_estimated
    assert finished.stats.cost_usd == 0.0
    assert finished.stats.ttft_ms > 0


async def test_fair_mode_runs_local_generations_one_after_the_other(indexes: Indexes) -> None:
    spec = parse_pipeline_spec("bm25+llamacpp:smollm2")
    a = make_pipeline(spec, indexes, Settings(), k=2, max_tokens=6)
    b = make_pipeline(spec, indexes, Settings(), k=2, max_tokens=6)
    gate = FairGate()
    first, second = await asyncio.gather(
        run(a, "How heavy is the HB-15?", gate), run(b, "What is GridShare?", gate)
    )
    queued = [events for events in (first, second) if any(isinstance(e, Queued) for e in events)]
    assert len(queued) == 1
    waited = next(e for e in queued[0] if isinstance(e, Finished)).stats.queued_ms
    assert waited > 0


async def test_a_failing_pipeline_does_not_stop_the_other(indexes: Indexes) -> None:
    settings = Settings()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    broken_settings = Settings(backends=settings.backends.__class__(openai_base_url=dead))
    broken = make_pipeline(parse_pipeline_spec("bm25+openai:gpt-x"), indexes, broken_settings)
    healthy = make_pipeline(parse_pipeline_spec("dense+extractive"), indexes, settings)
    failed_events, good_events = await asyncio.gather(run(broken, "E-412"), run(healthy, "E-412"))
    assert isinstance(failed_events[0], Retrieved)
    assert isinstance(failed_events[-1], Failed)
    assert "cannot connect" in failed_events[-1].error
    assert failed_events[-1].stats.retrieval_ms is not None
    assert isinstance(good_events[-1], Finished)


async def test_cost_is_unknown_without_a_price_and_computed_with_one(indexes: Indexes) -> None:
    from ragtui.config.specs import GeneratorSpec
    from ragtui.generation.base import Usage
    from ragtui.generation.prices import PriceTable

    table = PriceTable({"openai:cheap": Price(1.0, 2.0)})
    usage = Usage(1000, 500, estimated=False)
    assert table.cost_usd(GeneratorSpec("openai", "unpriced"), False, usage) is None
    assert table.cost_usd(GeneratorSpec("openai", "cheap"), False, usage) == pytest.approx(0.002)
    assert table.cost_usd(GeneratorSpec("openai", "gpt-4o-mini"), False, usage) == pytest.approx(
        (1000 * 0.15 + 500 * 0.60) / 1e6
    )
    assert table.cost_usd(GeneratorSpec("ollama", "x"), True, usage) == 0.0
    assert table.cost_usd(GeneratorSpec("ollama", "x"), False, usage) is None


async def test_cancelling_a_run_cancels_cleanly(indexes: Indexes) -> None:
    pipeline = make_pipeline(
        parse_pipeline_spec("bm25+llamacpp:smollm2"), indexes, Settings(), k=2, max_tokens=200
    )
    seen = []

    async def consume() -> None:
        async for event in pipeline.run("Write about the HB-10 in detail."):
            seen.append(event)

    task = asyncio.create_task(consume())
    deadline = time.monotonic() + 120
    while not any(isinstance(event, Delta) for event in seen):
        assert time.monotonic() < deadline, f"no answer text within 120 s: {seen}"
        assert not task.done(), f"the run ended before streaming: {seen}"
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The model is free again at once: a new run completes.
    again = await run(
        make_pipeline(
            parse_pipeline_spec("bm25+llamacpp:smollm2"), indexes, Settings(), k=1, max_tokens=3
        ),
        "E-412",
    )
    assert isinstance(again[-1], Finished)
