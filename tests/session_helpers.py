"""Driving a comparison session without any UI: collect its events, wait for conditions."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from ragtui.compare.events import SessionEvent
from ragtui.compare.session import CompareSession, SessionOptions
from ragtui.corpus import ChunkingSettings
from tests.conftest import SAMPLE_CORPUS


async def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {condition}")
        await asyncio.sleep(0.02)


def answered(session: CompareSession) -> bool:
    runs = [pane.run for pane in session.panes.values()]
    return all(run is not None and run.done for run in runs)


@contextlib.asynccontextmanager
async def open_session(
    data_root: Path,
    spec_a: str = "bm25+extractive",
    spec_b: str = "hybrid+extractive",
    corpus: Path = SAMPLE_CORPUS,
    chunking: ChunkingSettings | None = None,
    side_random: random.Random | None = None,
    **options: object,
) -> AsyncIterator[tuple[CompareSession, list[SessionEvent]]]:
    """An opened session and the list its events are collected into, as a face sees them."""
    session = CompareSession(
        SessionOptions(
            corpus=corpus,
            spec_a=spec_a,
            spec_b=spec_b,
            data_root=data_root,
            chunking=chunking or ChunkingSettings(),
            preload_models=False,
            **options,  # type: ignore[arg-type]
        ),
        side_random,
    )
    seen: list[SessionEvent] = []

    async def collect() -> None:
        async for event in session.events():
            seen.append(event)

    collector = asyncio.create_task(collect())
    try:
        await session.open()
        yield session, seen
    finally:
        await session.close()
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector


class ScriptedCoin(random.Random):
    """A blind draw's random source that returns the values given, in order: below 0.5
    keeps the panes' order, 0.5 and above swaps them. Runs out loudly."""

    def __init__(self, *values: float) -> None:
        super().__init__()
        self.values = list(values)

    def random(self) -> float:
        if not self.values:
            raise AssertionError("the test drew more sides than it scripted")
        return self.values.pop(0)
