"""The rules every figure follows (ragtui.evidence_rules), as `ragtui eval` applies them:
no verdict from too few queries, failures counted as failures on the same queries for
every contender, and every question and spec check before any work."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ragtui.config.settings_file import Settings
from ragtui.evidence_rules import (
    CALIBRATION_FLOOR,
    FAILED_SCORE,
    THRESHOLD_BIN_FLOOR,
    align,
    failure_outcome,
)
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, GridRun, run_grid
from ragtui.experiment.run.judged_grid import failure_outcomes
from ragtui.experiment.run.scoring import summarize
from ragtui.judging.calibration import calibration_sentence
from tests.cli_runner import ragtui
from tests.conftest import SAMPLE_CORPUS


def test_two_queries_give_no_good_enough_verdict_and_say_there_are_too_few(
    tmp_path: Path,
) -> None:
    """The issue's done-when: two queries gave "dense+extractive is good enough" from an
    interval of [0, 0]."""
    out = tmp_path / "out"
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--limit", "2", "--retrievers", "bm25,dense",
        "--generators", "extractive", "--out", str(out), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "good enough" not in done.stdout  # neither "good enough" nor "not good enough"
    assert "too few queries to tell (n = 2)" in done.stdout
    results = json.loads((out / "results.json").read_text())
    assert all(entry["verdict"] == "too few queries" for entry in results["good_enough"])
    report = (out / "report.md").read_text()
    assert "too few queries to tell (n = 2)" in report
    # The pairwise tables give no interval or p from 2 queries either.
    assert "too few queries (n = 2)" in report


def _flaky_run(tmp_path: Path) -> GridRun:
    """bm25 × extractive for real, plus a generator that answered 4 of 34 queries exactly
    right, quickly, and failed on the other 30 (its cells made here from the real ones)."""
    dataset = load_dataset(SAMPLE_CORPUS)
    real = run_grid(
        dataset, GridPlan(("bm25",), ("extractive",)), Settings(), cache_root=tmp_path / "c"
    )
    plan = GridPlan(("bm25",), ("extractive", "openai:flaky"))
    run = GridRun(dataset=dataset, plan=plan, retrievals=real.retrievals, cells=list(real.cells))
    for number, cell in enumerate(real.cells):
        if number < 4:
            answer = dataset.answers[cell.query_id][0]
            stats = replace(cell.stats, total_ms=cell.stats.retrieval_ms + 0.01)
            flaky = replace(cell, generator="openai:flaky", answer=answer, stats=stats)
        else:
            flaky = replace(cell, generator="openai:flaky", answer="", stats=None, error="HTTP 500")
        run.cells.append(flaky)
    return run


def test_a_pipeline_that_fails_on_most_queries_gains_nothing_by_failing(tmp_path: Path) -> None:
    run = _flaky_run(tmp_path)
    results = summarize(run)
    flaky, steady = (
        results["pipelines"]["bm25+openai:flaky"],
        results["pipelines"]["bm25+extractive"],
    )
    assert flaky["failed"] == 30
    # Its 30 failures count as wrong answers: 4 right of 34, not 4 of 4.
    assert flaky["mean"]["f1"] == pytest.approx(4 / 34)
    assert steady["mean"]["f1"] > flaky["mean"]["f1"]
    for entry in results["good_enough"]:
        assert entry["best"] != "bm25+openai:flaky" and entry["best"] != "openai:flaky"
        assert not (entry["candidate"].endswith("flaky") and entry["verdict"] == "good enough")
    # Failures count as slower than any answer: with most failed there is no median time,
    # so it is neither faster nor on the frontier.
    assert "bm25+openai:flaky" not in results["pareto"]
    report_lines = [line for line in results["good_enough"] if "flaky" in line["candidate"]]
    assert report_lines == []
    assert {item["candidate"] for item in results["not_tested"]} >= {"bm25+openai:flaky"}


def test_a_failure_decides_a_pairwise_comparison_without_the_judge(tmp_path: Path) -> None:
    run = _flaky_run(tmp_path)
    outcomes = failure_outcomes(run)
    assert len(outcomes) == 30  # one pair per query, where the flaky answer failed
    assert {outcome for _, first, _, outcome in outcomes if first == "bm25+extractive"} == {"a"}
    assert failure_outcome(True, True) == "tie" and failure_outcome(False, False) is None


def test_align_keeps_only_the_shared_queries() -> None:
    aligned, left_out = align(
        {"a": {"q1": 0.5, "q2": None, "q3": 1.0}, "b": {"q1": 0.0, "q3": FAILED_SCORE}}
    )
    assert aligned == {"a": {"q1": 0.5, "q3": 1.0}, "b": {"q1": 0.0, "q3": 0.0}}
    assert left_out == ["q2"]


def test_an_eval_whose_answers_all_failed_says_so_and_exits_3(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25", "--generators", "openai:gpt-x",
        "--limit", "2", "--yes", "--out", str(out), cache=tmp_path / "cache",
        env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Failed answers: 2 of 2" in done.stdout  # in the terminal's findings
    assert "2 of 2 answers failed" in done.stderr.strip().splitlines()[-1]
    assert (out / "report.md").exists()  # the report is written all the same
    assert "Failed answers: 2 of 2" in (out / "report.md").read_text()


def test_a_backends_error_text_reaches_the_terminal_without_its_control_codes(
    scripted_openai: str, tmp_path: Path
) -> None:
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25",
        "--generators", "openai:http500-hostile", "--limit", "2", "--yes",
        "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
        env={"OPENAI_BASE_URL": f"{scripted_openai}/v1", "OPENAI_API_KEY": "k"},
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "crashed" in done.stdout  # the failure is named in the findings…
    assert "\x1b" not in done.stdout and "\x9b" not in done.stdout  # …as text only


@pytest.mark.parametrize(
    "models",
    [
        ["--generators", "extractive,llamacpp:/missing.gguf"],
        ["--generators", "extractive", "--judge", "llamacpp:/missing.gguf"],
    ],
)
def test_a_missing_model_fails_before_any_retrieval(tmp_path: Path, models: list[str]) -> None:
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25,dense", *models,
        "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 1
    assert "retrieving" not in done.stderr and "embedding" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "/missing.gguf" in lines[0], done.stderr


@pytest.mark.parametrize(
    ("primary", "message"),
    [
        ("MRR@10,MAP", "one retrieval metric, not 2 (MRR@10, MAP)"),
        ("f1,groundedness", "one answer metric, not 2 (f1, groundedness)"),
        ("", "--primary '' names no metric"),
        ("f1,", "an empty name"),
        ("bleu", "--primary 'bleu': use one of"),
    ],
)
def test_primary_refuses_what_it_will_not_use(tmp_path: Path, primary: str, message: str) -> None:
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25", "--primary", primary,
        "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_margin_takes_a_share_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    bad = ragtui("eval", str(SAMPLE_CORPUS), "--margin", "five", "--out", str(tmp_path / "x"))
    assert bad.returncode == 1 and "--margin 'five'" in bad.stderr.strip().splitlines()[-1]
    out = tmp_path / "out"
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25,bm25:okapi", "--margin", "5%",
        "--out", str(out), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["margin_spec"] == "5%"
    for entry in results["good_enough"]:
        assert entry["margin"] == pytest.approx(0.05 * entry["best_mean"])
    assert "`--margin` 5% of the best's mean" in (out / "report.md").read_text()


def test_a_paid_judges_question_comes_before_any_work(scripted_openai: str, tmp_path: Path) -> None:
    config = tmp_path / "ragtui.toml"
    config.write_text(
        '[prices."openai:judge-planted"]\ninput_per_million = 2.5\noutput_per_million = 10.0\n'
    )
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25,dense", "--limit", "3",
        "--judge", "openai:judge-planted", "--config", str(config),
        "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
        env={"OPENAI_BASE_URL": f"{scripted_openai}/v1", "OPENAI_API_KEY": "k"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "retrieving" not in done.stderr and "embedding" not in done.stderr
    # 2 pipelines × 3 queries graded twice, plus both orders of the one pair per query:
    # 18 verdicts, each up to two requests (a text judge retries a reply with no verdict).
    assert "judge openai:judge-planted: up to 36 calls" in done.stderr
    assert "pass --yes" in done.stderr.strip().splitlines()[-1]


def test_threshold_gaps_resample_queries_and_need_ten_of_them(
    scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    dataset = load_dataset(SAMPLE_CORPUS, limit=14)
    plan = GridPlan(("bm25", "dense", "hybrid"), ("extractive", "openai:ok"))
    run = run_grid(dataset, plan, Settings(), cache_root=tmp_path)
    threshold = summarize(run)["threshold"]
    assert threshold["unit"] == "document" and threshold["floor"] == THRESHOLD_BIN_FLOOR.minimum
    for row in threshold["bins"]:
        assert row["n"] <= 14 and row["units"] <= 3 * row["n"]
        for gap in row["gaps"]:
            assert gap["n"] <= row["n"]  # queries, not (retriever, query) units
            if gap["n"] < THRESHOLD_BIN_FLOOR.minimum:
                assert gap.get("too_few") and "ci_low" not in gap
            else:
                assert gap["ci_low"] <= gap["diff"] <= gap["ci_high"] and "p_adjusted" in gap
    rank_one = next(row for row in threshold["bins"] if row["bin"] == "rank 1")
    assert rank_one["units"] > rank_one["n"] >= THRESHOLD_BIN_FLOOR.minimum
    assert any("too few queries to tell" in line for line in threshold["findings"]) or all(
        row["n"] >= THRESHOLD_BIN_FLOOR.minimum for row in threshold["bins"]
    )


def test_a_calibration_from_few_votes_states_no_agreement() -> None:
    def record(compared: int) -> dict:
        sentence = f"agrees with your votes 100%, κ 1.00, n = {compared}"
        return {"figures": {"non_tie": compared}, "sentence": sentence}

    few = calibration_sentence(record(CALIBRATION_FLOOR.minimum - 1))
    assert "too few votes to tell (n = 9)" in few and "100%" not in few
    enough = calibration_sentence(record(CALIBRATION_FLOOR.minimum))
    assert enough == "agrees with your votes 100%, κ 1.00, n = 10"


def test_primary_refuses_a_metric_the_dataset_cannot_score(tmp_path: Path) -> None:
    from tests.experiment.test_eval_errors import GOOD_QRELS, GOOD_QUERIES, make_dataset

    dataset = make_dataset(tmp_path / "ds", GOOD_QUERIES, GOOD_QRELS)  # no answers.jsonl
    done = ragtui(
        "eval", str(dataset), "--retrievers", "bm25", "--primary", "f1",
        "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert "--primary f1: the dataset has no reference answers" in lines[-1], done.stderr
    assert "retrieving" not in done.stderr


def test_a_rank_correlation_from_few_queries_is_not_given(tmp_path: Path) -> None:
    """nDCG vs F1's Spearman ρ had its own floor of 3 queries; it now has the rules' floor."""
    out = tmp_path / "out"
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--limit", "5", "--retrievers", "bm25",
        "--generators", "extractive", "--out", str(out), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    correlation = results["retrieval_vs_answer"]["extractive"]["spearman_ndcg_f1"]
    assert correlation["rho"] is None and 3 <= correlation["n"] < 10
    assert f"too few queries to tell (n = {correlation['n']})" in (out / "report.md").read_text()
