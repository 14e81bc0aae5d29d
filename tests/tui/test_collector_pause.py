"""The garbage collector is held off while the compare screen opens, and only then.

Why, and what it saves: ragtui/collector_pause.py. These tests pin the promises users rely
on: the collector runs again once both panes are ready, when the corpus cannot be opened,
and after the app ends, and a process whose collector was off already stays as it was.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtui import cli, collector_pause
from ragtui.corpus import load_corpus
from ragtui.index.cache import Indexes
from tests.conftest import SAMPLE_CORPUS
from tests.tui.helpers import new_app, wait_for


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    frozen = gc.get_freeze_count()
    yield
    collector_pause.resume()
    collector_pause.thaw()
    gc.enable()
    if gc.get_freeze_count() > frozen:
        gc.unfreeze()  # the rest of the test run collects as usual


def test_resume_restarts_only_what_pause_stopped() -> None:
    collector_pause.pause()
    assert not gc.isenabled() and collector_pause.paused()
    collector_pause.resume()
    assert gc.isenabled() and not collector_pause.paused()

    # Off for a reason of someone else's (Textual can, while it scrolls, with
    # App.PAUSE_GC_ON_SCROLL): kept off.
    gc.disable()
    collector_pause.pause()
    collector_pause.resume(freeze=True)
    assert not gc.isenabled()
    gc.enable()


def test_resuming_with_freeze_moves_the_live_objects_out_of_view() -> None:
    before = gc.get_freeze_count()
    collector_pause.pause()
    collector_pause.resume(freeze=True)
    assert gc.isenabled()
    assert gc.get_freeze_count() > before
    collector_pause.resume(freeze=True)  # a second call does nothing more


async def test_the_collector_runs_again_once_both_panes_are_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector_pause, "RESUME_AFTER_S", 3600.0)  # not the timer, here
    # A cached index, as on every launch but the first (which the timer below covers).
    Indexes(load_corpus(SAMPLE_CORPUS)).bm25()
    before = gc.get_freeze_count()
    collector_pause.pause()
    app = new_app(tmp_path, spec_b="bm25+extractive")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        await wait_for(pilot, gc.isenabled, timeout_s=10)
        assert gc.get_freeze_count() > before


async def test_the_collector_runs_again_when_the_corpus_cannot_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector_pause, "RESUME_AFTER_S", 3600.0)  # not the timer, here
    empty = tmp_path / "empty corpus"
    empty.mkdir()
    before = gc.get_freeze_count()
    collector_pause.pause()
    app = new_app(tmp_path / "data", corpus=empty)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: "cannot open corpus" in str(app.query_one("#banner").render())
        )
        await wait_for(pilot, gc.isenabled, timeout_s=10)
        assert gc.get_freeze_count() == before  # nothing is known to live on


async def test_the_collector_runs_again_after_a_while_if_opening_takes_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector_pause, "RESUME_AFTER_S", 0.2)
    collector_pause.pause()
    app = new_app(tmp_path)

    async def opening_for_minutes() -> None:  # stands in for a first index build
        await asyncio.Event().wait()

    monkeypatch.setattr(app.session, "open", opening_for_minutes)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, gc.isenabled, timeout_s=10)
        assert not app.session.ready


def test_ragtui_corpus_opens_the_app_with_the_collector_paused_and_leaves_it_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    frozen = gc.get_freeze_count()

    def open_app(argv: list[str]) -> int:
        seen.append(gc.isenabled())
        collector_pause.resume(freeze=True)  # as the app does once both panes are ready
        return 0

    monkeypatch.setattr(cli, "_open_app", open_app)
    assert cli.main([str(SAMPLE_CORPUS)]) == 0
    assert seen == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # what the app froze is collected again


def test_other_commands_leave_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setitem(cli.COMMANDS, "search", lambda args: seen.append(gc.isenabled()) or 0)
    assert cli.main(["search", str(SAMPLE_CORPUS), "grid outage"]) == 0
    assert seen == [True]
