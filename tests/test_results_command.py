"""`ragtui results DIR` whose output is not a terminal prints the findings as plain text
and exits, instead of starting the full-screen app into a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.cli import main
from tests.cli_runner import ragtui
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "eval"
    code = main(
        [
            "eval",
            str(SAMPLE_CORPUS),
            "--retrievers",
            "bm25",
            "--generators",
            "extractive",
            "--limit",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_results_into_a_file_prints_a_plain_summary_and_exits(finished: Path) -> None:
    # The app would never exit here (it waits for keys): the timeout makes that a failure.
    done = ragtui("results", str(finished), timeout_s=60)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x1b" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"ragtui eval results in {finished}: sample_corpus (content")
    assert "3 queries; retrievers bm25 × generators extractive" in lines[0]
    assert "- Retrieval: nDCG@10 is highest for bm25" in done.stdout
    assert lines[-1] == f"The whole report: {finished / 'report.md'} (charts: report.html)."


def test_results_of_a_folder_without_an_eval_is_one_line(tmp_path: Path) -> None:
    done = ragtui("results", str(tmp_path), timeout_s=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"ragtui: error: {tmp_path / 'results.json'} does not exist: give a folder written "
        "by 'ragtui eval'"
    ]


def test_eval_show_into_a_file_opens_no_screen_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    done = ragtui(
        "eval",
        str(SAMPLE_CORPUS),
        "--retrievers",
        "bm25",
        "--generators",
        "extractive",
        "--limit",
        "2",
        "--out",
        str(out),
        "--show",
        cache=tmp_path / "cache",
        timeout_s=120,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert (
        f"output is not a terminal, so the results screen is not opened; run 'ragtui results "
        f"{out}' in a terminal" in done.stderr
    )
