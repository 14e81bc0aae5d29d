"""Beside eval's figures that rest on a labeller's grades: how far that labeller agrees with
the person on this corpus, in results.json, report.md, the printed findings and ``ragtui
results``; "not checked against your labels" where the person graded none of its pairs.

Real bm25 pools of the sample corpus; the person's grades go in through ``label import``,
the labeller's as the labeller command stores them (tests/experiment/test_eval_pooled.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from ragtui.cli import main
from tests.experiment.test_eval_pooled import PLANTED, _eval, _folder, _import, _labeller, _queue
from tests.experiment.test_eval_pooled import imported as imported


def _results_printed(folder: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["results", str(folder)]) == 0  # not a terminal: the findings as text
    return capsys.readouterr().out


def test_a_labeller_without_your_labels_is_not_checked_against_them(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=5)
    folder = _folder(imported)
    for number, line in enumerate(lines):
        _labeller(folder, line, number % 4)
    results, printed, report = _eval(imported, tmp_path / "report", capsys)
    (entry,) = results["labeller_agreement"]
    assert entry["labeller"] == PLANTED.describe() and entry["kappa"]["pairs"] == 0
    words = f"labeller {PLANTED.describe()}: not checked against your labels"
    shown = _results_printed(tmp_path / "report", capsys)
    for text in (printed, report, shown):
        assert words in text


def test_the_agreement_line_states_kappa_as_scikit_learn_with_interval_and_n(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=6)
    assert len(lines) >= 12
    folder = _folder(imported)
    labeller = [(n * 7) % 4 for n in range(len(lines))]
    person = [grade if n % 3 else (grade + 1) % 4 for n, grade in enumerate(labeller)]
    for line, grade in zip(lines, labeller, strict=True):
        _labeller(folder, line, grade)
    for line, grade in zip(lines, person, strict=True):
        line["grade"] = grade
    _import(imported, lines, tmp_path / "graded.jsonl")
    results, printed, report = _eval(imported, tmp_path / "report", capsys)
    (entry,) = results["labeller_agreement"]
    expected = cohen_kappa_score(person, labeller, labels=[0, 1, 2, 3], weights="quadratic")
    kappa = entry["kappa"]
    assert kappa["kappa"] == pytest.approx(expected, abs=1e-12)
    assert kappa["pairs"] == len(lines) and kappa["queries"] == 3
    low, high = kappa["ci"]
    words = (
        f"agrees with your grades κ {expected:.2f} [{low:.2f}, {high:.2f}] "
        f"(n = {len(lines)} pairs, 3 queries)"
    )
    # One retriever: no ranking to compare, and the line says so.
    assert entry["tau"]["retrievers"] == 1
    shown = _results_printed(tmp_path / "report", capsys)
    for text in (printed, report, shown):
        assert f"labeller {PLANTED.describe()}: {words}" in text
        assert "ranking τ needs 3 retrievers or more (1 here)" in text
