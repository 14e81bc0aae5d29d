"""The compare screen and the quick commands import nothing they do not need to start.

What must stay off their start-up path, and why, is listed once in ragtui/startup.py;
benchmarks/bench_tui.py prints the same check beside the launch times.
"""

from __future__ import annotations

import pytest

from ragtui.startup import NOT_AT_STARTUP, loaded_at_startup
from tests.conftest import SAMPLE_CORPUS


def test_the_check_sees_a_module_that_loads_scipy() -> None:
    # Without this the tests below could pass on a check that finds nothing.
    assert "scipy" in loaded_at_startup("ragtui.judging.agreement")
    assert "ragtui.experiment" in loaded_at_startup("ragtui.experiment.report.outputs")


def test_the_compare_screen_imports_none_of_the_heavy_modules() -> None:
    assert loaded_at_startup("ragtui.tui.app") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["search", str(SAMPLE_CORPUS), "grid outage", "--retriever", "bm25"],
        ["ask", str(SAMPLE_CORPUS), "grid outage", "--pipeline", "bm25+extractive"],
    ],
    ids=["help", "search", "ask"],
)
def test_the_quick_commands_import_none_of_the_heavy_modules(argv: list[str]) -> None:
    from ragtui.corpus import load_corpus
    from ragtui.index.cache import Indexes

    # A cached index, as on every launch but the first (building one imports bm25s and scipy).
    Indexes(load_corpus(SAMPLE_CORPUS)).bm25()
    assert loaded_at_startup("ragtui.cli", argv) == []


def test_every_entry_says_why() -> None:
    assert all(len(reason) > 20 for reason in NOT_AT_STARTUP.values())
