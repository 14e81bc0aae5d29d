"""The judge end to end against scripted judges on a loopback OpenAI-compatible server.

The judges are scripted (tests/servers/scripted_openai.py) because their behaviour must be
known exactly: one that always prefers the first position, one that follows a planted
vote file, one that never names a verdict.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.judging.store import JudgmentStore, Vote

SAMPLE = Path(__file__).resolve().parents[2] / "sample_corpus"


@pytest.fixture
def judge_env(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGTUI_CACHE_DIR", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("overview.md", "warranty.md", "noise.txt"):
        shutil.copy(SAMPLE / name, corpus / name)
    return corpus


# (user's choice, answer A, answer B): the answer the user preferred holds PREFERRED.
PLANTED = [
    ("a", "PREFERRED: it weighs 142 kg.", "It is heavy."),
    ("b", "Ten years.", "PREFERRED: ten years or 6,000 cycles."),
    ("a", "PREFERRED: below 25 dB.", "Quiet."),
    ("tie", "Yes.", "Yes, it does."),
    ("b", "No idea.", "PREFERRED: the gateway G2."),
    ("both_bad", "Maybe.", "Perhaps."),
    ("a", "PREFERRED: 48 V.", "It uses a battery."),
]


def plant_votes(corpus: Path, planted=PLANTED) -> JudgmentStore:
    loaded = load_corpus(corpus)
    store = JudgmentStore.for_corpus(loaded.root, loaded.source_key)
    for number, (choice, answer_a, answer_b) in enumerate(planted):
        store.add_vote(
            Vote(
                query=f"question {number}?",
                query_id=f"q{number}",
                pipeline_a="bm25+openai:ok",
                pipeline_b="dense+openai:ok",
                choice=choice,
                answer_a=answer_a,
                answer_b=answer_b,
                stats_a=None,
                stats_b=None,
                time=time.time(),
            )
        )
    return store


def calibrate(corpus: Path, judge: str, capsys, *extra: str) -> dict:
    code = main(["judge", "calibrate", str(corpus), "--judge", judge, "--json", "--yes", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_a_judge_that_follows_the_votes_agrees_fully(judge_env: Path, capsys) -> None:
    store = plant_votes(judge_env)
    record = calibrate(judge_env, "openai:judge-planted", capsys)
    figures = record["figures"]
    assert figures["n"] == len(PLANTED) and figures["abstentions"] == 0
    assert figures["agreement"] == 1.0 and figures["kappa"] == pytest.approx(1.0)
    assert figures["non_tie"] == 5 and figures["position_inconsistency"] == 0.0
    assert figures["confusion"]["tie"]["tie"] == 2 and figures["confusion"]["a"]["a"] == 3
    assert record["judge"]["spec"] == "openai:judge-planted" and record["judge"]["method"] == "text"
    # Stored beside the votes, under the judge's identity.
    stored = [json.loads(line) for line in (store.folder / "judge_calibrations.jsonl").open()]
    assert stored[-1]["figures"]["kappa"] == pytest.approx(1.0)
    assert stored[-1]["judge"]["model_identity"] == record["judge"]["model_identity"]
    # Asked again, every verdict comes from the judge cache.
    again = calibrate(judge_env, "openai:judge-planted", capsys)
    assert again["judge"]["calls"] == 0 and again["judge"]["from_cache"] == 2 * len(PLANTED)


def test_a_judge_that_always_picks_the_first_answer_is_inconsistent_and_ties(
    judge_env: Path, capsys
) -> None:
    plant_votes(judge_env)
    figures = calibrate(judge_env, "openai:judge-first", capsys)["figures"]
    assert figures["position_inconsistency"] == 1.0
    assert figures["agreement"] == 0.0
    assert sum(row["tie"] for row in figures["confusion"].values()) == len(PLANTED)


def test_unparseable_verdicts_are_counted_as_abstentions(judge_env: Path, capsys) -> None:
    plant_votes(judge_env)
    figures = calibrate(judge_env, "openai:judge-garbage", capsys)["figures"]
    assert figures["abstentions"] == len(PLANTED)
    assert figures["agreement"] is None and figures["position_inconsistency"] is None
    assert sum(row["abstain"] for row in figures["confusion"].values()) == len(PLANTED)


def test_a_paid_judge_shows_its_cost_and_waits_for_yes(judge_env: Path, capsys) -> None:
    plant_votes(judge_env)
    config = judge_env.parent / "ragtui.toml"
    config.write_text(
        '[prices."openai:judge-planted"]\ninput_per_million = 2.5\noutput_per_million = 10.0\n'
    )
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted"]
    code = main([*args, "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"up to {2 * len(PLANTED)} calls" in err and "about $" in err
    assert "pass --yes" in err
    loaded = load_corpus(judge_env)
    folder = JudgmentStore.for_corpus(loaded.root, loaded.source_key).folder
    assert not (folder / "judge_calibrations.jsonl").exists()  # nothing was sent


def test_calibrating_without_votes_or_with_a_bad_judge_is_one_line(judge_env: Path, capsys) -> None:
    code = main(["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted"])
    err = capsys.readouterr().err
    assert code == 1 and "no votes" in err and len(err.strip().splitlines()) == 1
    plant_votes(judge_env)
    code = main(["judge", "calibrate", str(judge_env), "--judge", "extractive", "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and "extractive cannot judge" in err and "Traceback" not in err
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted"]
    code = main([*args, "--judge-method", "logprob", "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and "no token probabilities" in err
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:http500", "--yes"]
    code = main(args)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("ragtui: error:")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in err
    assert "judge openai:http500:" in errors[0] and "out of memory" in errors[0]


def test_eval_with_a_judge_scores_answers_and_ranks_pipelines(judge_env: Path, capsys) -> None:
    out = judge_env.parent / "eval"
    args = ["eval", str(SAMPLE), "--retrievers", "bm25,dense", "--generators", "extractive"]
    args += ["--limit", "4", "--judge", "openai:judge-first", "--yes", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "judge openai:judge-first (text)" in printed and "not calibrated" in printed
    results = json.loads((out / "results.json").read_text())
    judge = results["judge"]
    # judge-first always prefers the answer shown first: every pair changes side when
    # swapped, so every verdict is a tie and no pipeline is stronger than another.
    assert judge["position_inconsistency"] == 1.0 and judge["pairs_judged"] == 4
    assert judge["pairwise"][0]["ties"] == 4
    assert {round(row["log_strength"], 6) for row in judge["bradley_terry"]} == {0.0}
    assert judge["calibration"] is None
    # It grades every answer 3 of 5: 0.5 on the 0–1 scale, an answer metric like F1.
    for data in results["pipelines"].values():
        assert data["mean"]["judge_correctness"] == 0.5
        assert data["mean"]["judge_faithfulness"] == 0.5
    assert "judge_correctness" in results["attribution"]
    report = (out / "report.md").read_text()
    assert "## The judge" in report and "not calibrated" in report
    pairs = [json.loads(line) for line in (out / "judge_pairs.jsonl").open()]
    assert len(pairs) == 4 and {p["forward"]["verdict"] for p in pairs} == {"1"}
    assert all(p["backward"]["raw"] == "1" and p["outcome"] == "tie" for p in pairs)
    with (out / "per_query.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["judge_correctness"] for row in rows} == {"0.5"}
    assert "Judged correctness (judge not calibrated" in report


def test_eval_prints_the_judges_calibration_once_there_is_one(judge_env: Path, capsys) -> None:
    sample = judge_env.parent / "sample"
    shutil.copytree(SAMPLE, sample)
    # Twice over: 10 votes with a winner, the floor of a calibration sentence (evidence_rules).
    plant_votes(sample, PLANTED * 2)
    calibrate(sample, "openai:judge-planted", capsys)
    out = judge_env.parent / "eval"
    args = ["eval", str(sample), "--retrievers", "bm25", "--generators", "extractive"]
    args += ["--limit", "3", "--judge", "openai:judge-planted", "--yes", "--out", str(out)]
    args += ["--judge-kinds", "correctness"]
    assert main(args) == 0
    sentence = "agrees with your votes 100%, κ 1.00, n = 10"
    assert sentence in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["judge"]["calibration"]["figures"]["kappa"] == pytest.approx(1.0)
    assert results["judge"]["kinds"] == ["correctness"] and results["judge"]["pairs_judged"] == 0
    assert sentence in (out / "report.md").read_text()
