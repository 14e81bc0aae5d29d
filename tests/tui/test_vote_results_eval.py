"""The compare screen's `v` shows, under the vote tables, the latest eval run of this
corpus: each retriever's corrected retrieval figure with the automatic-only, your-grades
only and corrected intervals side by side, and how far each automatic source agrees with
you ("not checked against your labels" where it was not measured). Without an eval run,
one line saying how to get one.

The eval runs are real ``eval --testset`` runs on a copy of the sample corpus with the
person's sample graded through ``label import`` (the helpers of
tests/experiment/test_eval_corrected.py); eval notes its folder in the corpus's records,
which is how the compare screen finds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtui.experiment.report.latest_eval import NO_EVAL, eval_figure_blocks, latest_eval
from ragtui.tui.app import CompareApp
from tests.experiment.test_eval_corrected import (
    _eval,
    _folder,
    _graded_sample,
    _planted,
    _queue,
    _truth,
    imported,  # noqa: F401 (a fixture)
)
from tests.tui.helpers import new_app, wait_for
from tests.tui.test_app import screen_text

SPECS = ("bm25+extractive", "bm25:okapi+extractive")


def _figures(app: CompareApp) -> str:
    """The eval section's text, block by block (scrolled into view or not)."""
    return "\n".join(str(block.render()) for block in app.screen.query("#results-eval Static"))


async def _open_v(app: CompareApp, pilot) -> str:
    await wait_for(pilot, lambda: app.session.store is not None and app.session.corpus_ready)
    await pilot.press("escape", "v")  # out of the query box, as a person would
    await wait_for(pilot, lambda: bool(app.screen.query("#results-eval .results-prose")))
    await pilot.pause(0.1)
    return _figures(app)


# eval runs its own event loop: the results are made before the app's test loop starts.
@pytest.fixture
def with_labeller(imported: Path, tmp_path: Path, capsys) -> tuple[Path, dict]:  # noqa: F811
    pool = _queue(imported, tmp_path / "pool.jsonl")
    _planted(_folder(imported), pool, _truth(imported))
    _graded_sample(imported, tmp_path, 250)
    results, _printed, _report = _eval(imported, tmp_path / "report", capsys)
    return imported, results


async def test_v_shows_the_latest_evals_corrected_figures_and_agreement(
    with_labeller: tuple[Path, dict], tmp_path: Path
) -> None:
    corpus, results = with_labeller
    app = new_app(tmp_path / "data", *SPECS, corpus=corpus)
    async with app.run_test(size=(160, 50)) as pilot:
        text = await _open_v(app, pilot)
        assert f"Latest eval run: {(tmp_path / 'report').resolve()} (test set own" in text
        assert "Corrected estimates (95%) over 34 queries: 250 of your grades" in text
        assert "correcting openai:planted@sha1" in text
        # The labeller's agreement with you, as eval measured it, beside the figures.
        (agreement,) = results["labeller_agreement"]
        assert f"Retrieval figures rest partly on a labeller model; {agreement['sentence']}." in (
            text
        )
        # Each retriever's three figures, with n and interval, and the picture of them.
        for entry in results["corrected"]:
            human = entry["human_only"]
            assert entry["words"] in text
            assert f"{human['estimate']:.3f} [{human['ci_low']:.3f}, {human['ci_high']:.3f}]" in (
                text
            )
            assert f"{entry['automatic_only']:.3f}" in text
        for row in ("automatic", "yours", "corrected"):
            assert any(row in line.split()[:2] for line in text.splitlines())
        assert "├" in text and "●" in text and "○" in text
        assert "on one scale" in text
        shown = screen_text(app)
        assert "Answer votes: 0" in shown and "Latest eval run" in shown  # on screen
        await pilot.press("escape")
        assert not app.screen.query("#results-eval")


@pytest.fixture
def below_the_floor(imported: Path, tmp_path: Path, capsys) -> Path:  # noqa: F811
    _graded_sample(imported, tmp_path, 150)
    _eval(imported, tmp_path / "report", capsys)
    return imported


async def test_below_the_floor_v_says_too_few_labels_instead_of_bars(
    below_the_floor: Path, tmp_path: Path
) -> None:
    app = new_app(tmp_path / "data", *SPECS, corpus=below_the_floor)
    async with app.run_test(size=(160, 50)) as pilot:
        text = await _open_v(app, pilot)
        assert "No automatic grades: these figures are your grades alone." in text
        assert "P@10: no interval to draw:" in text
        assert "bm25:okapi  too few labels to tell (n = 150)" in text
        assert "├" not in text


async def test_without_an_eval_run_v_says_how_to_get_one(tmp_path: Path) -> None:
    app = new_app(tmp_path, *SPECS)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await _open_v(app, pilot)
        assert text == NO_EVAL


def _written(folder: Path, content: str) -> Path:
    folder.mkdir(parents=True)
    results = {"pipelines": {}, "dataset": {"content_sha256": content, "queries": 3}}
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


def test_the_latest_run_is_of_the_current_test_set_and_still_of_this_corpus(
    tmp_path: Path,
) -> None:
    older = _written(tmp_path / "older", "c1")
    newer = _written(tmp_path / "newer", "c1")
    other = _written(tmp_path / "overwritten", "another corpus")
    records = [  # newest first, as the store gives them
        {"folder": str(tmp_path / "gone"), "testset": "b", "content_sha256": "c1", "time": 5},
        {"folder": str(other), "testset": "b", "content_sha256": "c1", "time": 4},
        {"folder": str(newer), "testset": "b", "content_sha256": "c1", "time": 3},
        {"folder": str(older), "testset": "a", "content_sha256": "c1", "time": 2},
        # An earlier eval of set a into the folder the later one of set b replaced.
        {"folder": str(newer), "testset": "a", "content_sha256": "c1", "time": 1},
    ]
    assert latest_eval(records, "a", "c1").folder == older
    found = latest_eval(records, "", "c2")
    assert found.folder == newer and found.testset == "b" and found.corpus_changed
    assert latest_eval(records, "missing", "c1").folder == newer
    assert latest_eval(records[:2], "b", "c1") is None


def test_an_edited_record_or_results_file_is_passed_over_not_a_crash(tmp_path: Path) -> None:
    # The `v` screen reads these in a worker whose error would end the app: an edited
    # evals.jsonl or results.json must be skipped or read as far as it can be.
    good = _written(tmp_path / "good", "c1")
    edited = tmp_path / "edited"
    edited.mkdir()
    results = {"pipelines": {}, "dataset": "not an object"}
    (edited / "results.json").write_text(json.dumps(results), encoding="utf-8")
    records = [
        {"folder": str(edited), "testset": "a", "content_sha256": "c1", "time": 9},
        {"folder": str(good), "testset": "a", "content_sha256": "c1", "time": "x"},
    ]
    found = latest_eval(records, "a", "c1")
    assert found is not None and found.folder == good and found.time_s == 0.0
    assert eval_figure_blocks(found)[0][1][0].startswith(f"Latest eval run: {good}")
