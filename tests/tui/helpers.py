"""Driving the compare app in tests: the same factory users run, private data dirs."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from ragtui.tui.app import CompareApp, CompareOptions, make_app
from tests.conftest import SAMPLE_CORPUS


def new_app(
    data_root: Path,
    spec_a: str = "bm25+extractive",
    spec_b: str = "hybrid+extractive",
    corpus: Path = SAMPLE_CORPUS,
    side_random: random.Random | None = None,
    **options: object,
) -> CompareApp:
    return make_app(
        CompareOptions(
            corpus=corpus,
            spec_a=spec_a,
            spec_b=spec_b,
            data_root=data_root,
            preload_models=False,
            **options,  # type: ignore[arg-type]
        ),
        side_random,
    )


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout_s} s waiting for {condition}; {app_state(pilot.app)}"
            )
        await pilot.pause(0.05)


def app_state(app) -> str:
    """What the compare app shows, for a timeout's message (a rare hang was seen once)."""
    if not isinstance(app, CompareApp):
        return ""
    parts = [f"focused {type(app.focused).__name__}", f"query {app.session.query!r}"]
    for key, pane in app.session.panes.items():
        run = pane.run
        state = "no run" if run is None else f"run done={run.done} error={run.error!r}"
        parts.append(f"pane {key}: {pane.spec}, built={pane.built.is_set()}, {state}")
        judge = app.pane(key).query("#judge")
        if judge:
            parts.append(f"judge line {key}: {str(judge.first().render())!r}")
        status = app.pane(key).query("#status")
        if status:
            shown = app.pane(key).stats is not None
            parts.append(f"pane {key} shows stats={shown}, status {str(status.first().render())!r}")
    parts += [f"notice: {notice.message!r}" for notice in list(app._notifications)[-3:]]
    parts.append(f"app running={app.is_running} return_code={app.return_code}")
    parts += [
        f"worker {worker.group or worker.name}: {worker.state.name}"
        + (f" {worker.error!r}" if worker.error else "")
        for worker in app.workers
    ]
    return "; ".join(parts)


async def ask(pilot: Pilot, query: str, timeout_s: float = 60.0) -> None:
    """Type a query as a user does and wait until both panes are finished."""
    app = pilot.app
    assert isinstance(app, CompareApp)
    await wait_for(pilot, lambda: app.session.ready, timeout_s)
    app.query_one("#query").focus()
    app.query_one("#query").value = ""  # type: ignore[attr-defined]
    await pilot.press(*query)
    await pilot.press("enter")
    await wait_for(pilot, lambda: answered(app), timeout_s)
    await pilot.pause(0.2)


def answered(app: CompareApp) -> bool:
    """Both panes have finished their run and shown its end."""
    runs = [pane.run for pane in app.session.panes.values()]
    return all(run is not None and run.done for run in runs) and all(
        app.pane(key).stats is not None or app.pane(key).error is not None for key in ("a", "b")
    )


def pin_timings(app: CompareApp) -> None:
    """Replace the measured times, which differ on every run, so a snapshot is repeatable.

    Only the figures that depend on the machine's speed are pinned; everything else on
    screen (hits, scores, answers, token counts, mode) is what the app really produced.
    """
    for key in ("a", "b"):
        pane = app.pane(key)
        if pane.stats is not None:
            pane.show_stats(
                replace(
                    pane.stats,
                    retrieval_ms=1.5,
                    ttft_ms=0.5,
                    total_ms=2.5,
                    tokens_per_s=None if pane.stats.tokens_per_s is None else 1000.0,
                    queued_ms=0.0,
                    encode_ms=None if pane.stats.encode_ms is None else 1.0,
                )
            )
