"""An eval with the judge (the scripted OpenAI-compatible server), votes on its random vote
queue made elsewhere (``ragtui vote queue`` / ``vote import``), and the same eval again:
results.json, the report, the printed findings and ``ragtui results`` carry the corrected
win rates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ragtui.cli import main
from tests.judging.test_judge_cli import SAMPLE
from tests.judging.test_judge_cli import judge_env as judge_env

PIPELINES = ("bm25+extractive", "bm25:okapi+extractive")


def _eval(sample: Path, out: Path) -> None:
    args = ["eval", str(sample), "--retrievers", "bm25,bm25:okapi", "--generators"]
    args += ["extractive", "--judge", "openai:judge-planted", "--yes"]
    assert main([*args, "--judge-kinds", "pairwise", "--out", str(out)]) == 0


def test_queue_votes_correct_the_judge_in_the_next_eval(judge_env: Path, capsys) -> None:
    sample = judge_env.parent / "sample"
    shutil.copytree(SAMPLE, sample)
    out = judge_env.parent / "eval"
    _eval(sample, out)
    capsys.readouterr()
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["answer_correction"]["used_for_correction"] == 0
    items = (out / "vote_items.jsonl").read_text(encoding="utf-8").splitlines()
    population = len(items)
    assert population >= 30

    # Every judged pair drawn (a census): the corrected rate must be the person's own.
    queue = judge_env.parent / "queue.jsonl"
    budget = ["--budget", str(population), "--seed", "3"]
    # Outside a terminal the screen names the queue that draws the same items.
    assert main(["vote", str(out), *budget, "--design", "stratified"]) == 1
    hint = f"vote queue {out} --budget {population} --seed 3 --design stratified --out FILE"
    assert hint in capsys.readouterr().err
    assert main(["vote", "queue", str(out), *budget, "--out", str(queue)]) == 0
    lines = [json.loads(line) for line in queue.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == population
    for line in lines:  # nothing names a pipeline or the judge's verdict
        assert set(line) == {
            "run_id",
            "item_id",
            "design",
            "seed",
            "budget",
            "question",
            "answer_a",
            "answer_b",
            "vote",
        }
    # The person prefers the longer answer, a tie when the two are the same length.
    for line in lines[:-1]:
        left, right = len(line["answer_a"]), len(line["answer_b"])
        line["vote"] = "tie" if left == right else ("a" if left > right else "b")
    queue.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert main(["vote", "import", str(out), str(queue)]) == 0
    assert f"{population - 1} votes stored" in capsys.readouterr().out
    # Imported again: nothing stored twice.
    assert main(["vote", "import", str(out), str(queue)]) == 0
    assert "0 votes stored" in capsys.readouterr().out

    data = judge_env.parent / "data" / "corpora"
    (store,) = list(data.iterdir())
    records = [json.loads(line) for line in (store / "votes.jsonl").read_text().splitlines()]
    assert len(records) == population - 1
    assert {record["inclusion"] for record in records} == {1.0}
    first = sorted(PIPELINES)[0]

    def person(record: dict) -> float:
        if record["choice"] == "tie":
            return 0.5
        winner = record["pipeline_a"] if record["choice"] == "a" else record["pipeline_b"]
        return 1.0 if winner == first else 0.0

    own_rate = sum(person(record) for record in records) / len(records)

    _eval(sample, out)
    printed = capsys.readouterr().out
    correction = json.loads((out / "results.json").read_text(encoding="utf-8"))["answer_correction"]
    assert correction["used_for_correction"] == population - 1
    assert correction["draw"]["design"] == "uniform" and correction["draw"]["seed"] == 3
    (pair,) = correction["pairs"]
    assert (pair["first"], pair["second"]) == tuple(sorted(PIPELINES))
    assert (pair["n_human"], pair["n_automatic"]) == (population - 1, population)
    assert pair["enough"] is True
    # All but one pair voted: the votes alone are the person's rate on those pairs, and the
    # corrected rate differs from it only by the one unvoted pair's share.
    assert pair["votes_only"]["estimate"] == pytest.approx(own_rate)
    assert abs(pair["estimate"] - own_rate) <= 1 / population + 1e-9
    assert pair["ci_low"] <= pair["estimate"] <= pair["ci_high"]
    assert pair["ci_high"] - pair["ci_low"] < 0.2
    # The planted judge ties every extractive pair (no answer holds PREFERRED).
    assert pair["judge_only"] == pytest.approx(0.5)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert main(["results", str(out)]) == 0
    shown = capsys.readouterr().out
    sentence = f"corrected by {population - 1} random queue votes"
    for text in (printed, report, shown):
        assert sentence in text
        assert (
            f"{first} over {sorted(PIPELINES)[1]}: corrected win rate" in text
            and f"{pair['words']}" in text
        )


def test_grades_of_drawn_answers_correct_the_judged_correctness(judge_env: Path, capsys) -> None:
    from ragtui.corpus.model import location_key
    from ragtui.judging.grade_queue import draw_answers, read_grade_items
    from ragtui.judging.store import JudgmentStore

    sample = judge_env.parent / "sample"
    shutil.copytree(SAMPLE, sample)
    out = judge_env.parent / "eval"
    args = ["eval", str(sample), "--retrievers", "bm25,bm25:okapi", "--generators"]
    args += ["extractive", "--judge", "openai:judge-planted", "--yes", "--limit", "20"]
    args += ["--judge-kinds", "correctness", "--out", str(out)]
    assert main(args) == 0
    items = read_grade_items(out)
    assert len(items) == 40 and {item.judge_score for item in items} == {0.25}
    assert not (out / "vote_items.jsonl").exists()  # no pairwise verdicts to vote on
    # Every answer drawn (20 per pipeline) and graded.
    queue = draw_answers(items, 40, seed=2, design="stratified")
    assert {queued.inclusion for queued in queue.queued} == {1.0}
    root = json.loads((out / "results.json").read_text())["dataset"]["path"]
    store = JudgmentStore.for_corpus(Path(root), location_key(Path(root)))
    grades = {}
    for queued in queue.queued:
        grade = 5 if len(queued.item.answer) % 2 else 3
        grades[queued.item.item_id] = grade
        store.add_answer_grade(queue.record(queued, grade, 0.0))
    assert main(args) == 0
    printed = capsys.readouterr().out
    scores = json.loads((out / "results.json").read_text())["answer_correction"]["scores"]
    assert [entry["pipeline"] for entry in scores] == sorted(
        {"bm25+extractive", "bm25:okapi+extractive"}
    )
    for entry in scores:
        mine = [
            (grades[item.item_id] - 1) / 4 for item in items if item.pipeline == entry["pipeline"]
        ]
        # All of the pipeline's answers graded: the corrected score is the person's own.
        assert (entry["n_human"], entry["n_automatic"]) == (20, 20)
        assert entry["estimate"] == pytest.approx(sum(mine) / len(mine))
        assert entry["judge_only"] == pytest.approx(0.25)
        assert entry["enough"] is False and entry["words"] == "too few grades to tell (n = 20)"
    assert "Judged correctness, corrected by 40 random grades of answers" in printed


def test_faithfulness_grades_made_elsewhere_correct_the_judged_faithfulness(
    judge_env: Path, capsys
) -> None:
    """'vote grade RUN --kind faithfulness --out FILE' writes the drawn answers with their
    passages; graded elsewhere, 'vote grade import RUN FILE' stores the grades (a bad line
    named, the rest kept); the same eval again corrects judged faithfulness, and judged
    correctness stays the judge's own (no correctness grade was made)."""
    sample = judge_env.parent / "sample"
    shutil.copytree(SAMPLE, sample)
    out = judge_env.parent / "eval"
    args = ["eval", str(sample), "--retrievers", "bm25,bm25:okapi", "--generators"]
    args += ["extractive", "--judge", "openai:judge-planted", "--yes", "--limit", "20"]
    args += ["--judge-kinds", "correctness,faithfulness", "--out", str(out)]
    assert main(args) == 0
    queue = judge_env.parent / "grades.jsonl"
    command = ["vote", "grade", str(out), "--kind", "faithfulness", "--budget", "40"]
    assert main([*command, "--seed", "2", "--design", "stratified"]) == 1  # no terminal
    hint = "--kind faithfulness --budget 40 --seed 2 --design stratified --out FILE"
    assert hint in capsys.readouterr().err
    assert main([*command, "--design", "stratified", "--out", str(queue)]) == 0
    assert "wrote 40 answers" in capsys.readouterr().out
    lines = [json.loads(line) for line in queue.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 40
    for line in lines:  # the passages and the answer; no pipeline, no judge's score
        assert line["kind"] == "faithfulness" and line["passages"] and line["grade"] is None
        assert "pipeline" not in line and "judge_score" not in line
    for line in lines:
        line["grade"] = 5 if len(line["answer"]) % 2 else 2
    mine = {
        pipeline: [
            (line["grade"] - 1) / 4
            for line in lines
            if any(line["item_id"] == item.item_id for item in _faithfulness_items(out, pipeline))
        ]
        for pipeline in PIPELINES
    }
    written = [json.dumps(line) for line in lines]
    written.insert(3, "{not json")
    queue.write_text("\n".join(written) + "\n", encoding="utf-8")
    assert main(["vote", "grade", "import", str(out), str(queue)]) == 0
    captured = capsys.readouterr()
    assert "40 grades stored" in captured.out and "1 lines skipped" in captured.out
    assert captured.err.count("\n") == 1 and f"{queue}:4: not JSON" in captured.err
    assert main(["vote", "grade", "import", str(out), str(queue)]) == 0
    assert "0 grades stored" in capsys.readouterr().out

    assert main(args) == 0
    printed = capsys.readouterr().out
    scores = json.loads((out / "results.json").read_text())["answer_correction"]["scores"]
    assert {entry["metric"] for entry in scores} == {"judge_faithfulness"}
    for entry in scores:
        # Every answer of the pipeline graded: the corrected score is the person's own.
        assert (entry["n_human"], entry["n_automatic"]) == (20, 20)
        expected = sum(mine[entry["pipeline"]]) / len(mine[entry["pipeline"]])
        assert entry["estimate"] == pytest.approx(expected)
        assert entry["judge_only"] == pytest.approx(0.25)  # the planted judge: 2 of 5
    report = (out / "report.md").read_text(encoding="utf-8")
    assert main(["results", str(out)]) == 0
    shown = capsys.readouterr().out
    for text in (printed, report, shown):
        assert "Judged faithfulness, corrected by 40 random grades of answers" in text
        assert "Judged correctness, corrected" not in text
    assert "| judged faithfulness | `bm25+extractive` |" in report


def _faithfulness_items(out: Path, pipeline: str) -> list:
    from ragtui.judging.grade_queue import read_grade_items

    return [item for item in read_grade_items(out, "faithfulness") if item.pipeline == pipeline]
