"""The eval results screen shows a test set's corrected retrieval estimates as the report
does: automatic grades alone, your grades alone and corrected, with n and intervals; "too
few labels" below the floor; which retrievers can and cannot be ordered.

The results come from a real ``eval --testset`` on the sample corpus with the person's
sample graded through ``label import`` (the helpers of tests/experiment/test_eval_corrected.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.evidence_rules import SAMPLED_LABELS_FLOOR
from ragtui.tui.eval_app import EvalResultsApp
from tests.experiment.test_eval_corrected import (
    _eval,
    _folder,
    _graded_sample,
    _planted,
    _queue,
    _truth,
    imported,  # noqa: F401 (a fixture)
)
from tests.tui.test_app import screen_text


def _screen_lines(app: EvalResultsApp) -> str:
    """The corrected-estimates screen's text, block by block (whether scrolled into view
    or not)."""
    return "\n".join(str(block.render()) for block in app.screen.query("#corrected Static"))


# eval runs its own event loop: the results are made before the app's test loop starts.
@pytest.fixture
def with_labeller(imported: Path, tmp_path: Path, capsys) -> tuple[dict, str]:  # noqa: F811
    pool = _queue(imported, tmp_path / "pool.jsonl")
    _planted(_folder(imported), pool, _truth(imported))
    _graded_sample(imported, tmp_path, 250)
    results, _printed, report = _eval(imported, tmp_path / "report", capsys)
    return results, report


BELOW = SAMPLED_LABELS_FLOOR.minimum - 50


@pytest.fixture
def below_the_floor(imported: Path, tmp_path: Path, capsys) -> dict:  # noqa: F811
    _graded_sample(imported, tmp_path, BELOW)
    return _eval(imported, tmp_path / "report", capsys)[0]


async def test_corrected_estimates_are_shown_with_n_and_intervals(
    with_labeller: tuple[dict, str],
) -> None:
    results, report = with_labeller
    app = EvalResultsApp(results)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        summary = str(app.query_one("#summary").render())
        assert "Corrected P@10, DCG@10 from 250 of your sampled grades (corrected): c shows" in (
            summary
        )
        await pilot.press("c")
        await pilot.pause()
        text = _screen_lines(app)
        assert "correcting openai:planted@sha1" in text
        for name in ("automatic only", "your grades only (95%)", "corrected (95%)", "n human"):
            assert name in text
        for entry in results["corrected"]:
            row = next(
                line
                for line in text.splitlines()
                if line.startswith(entry["retriever"] + " ") and f" {entry['metric']} " in line
            )
            human = entry["human_only"]
            for words in (
                f"{entry['automatic_only']:.3f}",
                f"{human['estimate']:.3f} [{human['ci_low']:.3f}, {human['ci_high']:.3f}]",
                entry["words"],
                f" {entry['n_human']} ",
                f" {entry['n_automatic']} ",
            ):
                assert words in row
        # The picture and the ordering line, as in the report.
        assert "├" in text and "○" in text and "●" in text
        (ordering,) = results["corrected_summary"]["orderings"]
        line = next(line for line in report.splitlines() if "on corrected P@10 (gap" in line)
        assert line.removeprefix("- ") in text
        assert ordering["status"] in {"ordered", "cannot order"}
        assert "never correction" in text
        assert "your grades only (95%)" in screen_text(app)  # on screen, not only in the widget
        await pilot.press("escape")
        assert not app.screen.query("#corrected")


async def test_below_the_floor_the_screen_says_too_few_and_cannot_order(
    below_the_floor: dict,
) -> None:
    budget = BELOW
    app = EvalResultsApp(below_the_floor)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        text = _screen_lines(app)
        words = f"too few labels to tell (n = {budget})"
        assert text.count(words) >= 4  # each retriever's P@10 and DCG@10
        assert f"cannot order bm25 and bm25:okapi: {words}" in text
        assert "your grades only (no labeller)" in text


async def test_an_eval_without_a_test_set_says_there_is_nothing_corrected() -> None:
    app = EvalResultsApp({**_plain_results(), "corrected": [], "corrected_summary": None})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert "No corrected estimates" in _screen_lines(app)


def _plain_results() -> dict:
    return {
        "dataset": {"path": "sample_corpus", "queries": 0},
        "plan": {"retrievers": [], "generators": []},
        "pipelines": {},
    }
