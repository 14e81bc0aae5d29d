"""Snapshots of the compare screen with deterministic content (the extractive generator).

Measured times are pinned before the screenshot (see ``pin_timings``); everything else is
what the app produced. Update after a deliberate change with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import ask, new_app, pin_timings

QUERY = "Will my lights stay on during a power cut?"


async def _answered(pilot: Pilot) -> None:
    await ask(pilot, QUERY)
    pin_timings(pilot.app)  # type: ignore[arg-type]
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_compare_screen(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(new_app(tmp_path), terminal_size=size, run_before=_answered)


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast"])
def test_theme(snap_compare, tmp_path: Path, theme: str) -> None:
    assert snap_compare(
        new_app(tmp_path, theme=theme), terminal_size=(120, 40), run_before=_answered
    )
