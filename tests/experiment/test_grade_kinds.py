"""Judged faithfulness corrected like judged correctness, by the person's grades of answers
drawn at random (``ragtui.judging.grade_queue``, ``vote_correction.corrected_scores``):

- faithfulness grades correct the faithfulness figure, and the estimate is the
  prediction-powered one computed directly from the arrays;
- a grade corrects only its own kind: correctness figures do not move with faithfulness
  grades, nor the other way round;
- correctness items keep the ids (and so the grades) they had before kinds existed, and a
  grade_items.jsonl written then reads as correctness;
- an exported queue's lines read back with the draw's inclusion probabilities and an
  "imported" source; each bad line is one readable problem naming its line.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from ragtui.experiment.stats.vote_correction import corrected_scores, score_lines
from ragtui.judging.grade_queue import (
    CORRECTNESS,
    FAITHFULNESS,
    GradeItem,
    draw_answers,
    read_graded_lines,
    run_grades,
)

try:
    import ppi_py
except ImportError:  # without the dev extra: the direct formula alone
    ppi_py = None

PIPELINES = ("bm25+extractive", "dense+extractive")


def _items(answers: int = 100) -> list[GradeItem]:
    """Every answer of two pipelines, judged for correctness and for faithfulness."""
    rng = np.random.default_rng(1)
    items = []
    for kind in (CORRECTNESS, FAITHFULNESS):
        for pipeline in PIPELINES:
            for number in range(answers):
                items.append(
                    GradeItem(
                        query_id=f"q{number}",
                        question=f"How long is plan {number}?",
                        reference=f"{number} years" if kind == CORRECTNESS else "",
                        pipeline=pipeline,
                        answer=f"{pipeline} says plan {number} lasts {number % 7} years.",
                        judge_score=float(rng.integers(0, 5)) / 4,
                        kind=kind,
                        passages=(f"Plan {number} lasts {number % 5} years.", "[bold]x[/bold]")
                        if kind == FAITHFULNESS
                        else (),
                    )
                )
    return items


def _person(item: GradeItem) -> int:
    """The person's grade: follows the judge one grade up on every third answer."""
    grade = round((item.judge_score or 0) * 4) + 1
    return min(grade + (int(item.query_id[1:]) % 3 == 0), 5)


def _grades(items: list[GradeItem], kind: str, budget: int, seed: int) -> list[dict]:
    queue = draw_answers([item for item in items if item.kind == kind], budget, seed, "stratified")
    return [queue.record(queued, _person(queued.item), 0.0) for queued in queue.queued]


def test_faithfulness_grades_correct_the_faithfulness_figure() -> None:
    items = _items()
    records = _grades(items, FAITHFULNESS, budget=80, seed=4)
    entries = corrected_scores(items, run_grades(records, items))
    # Only faithfulness was graded: correctness is left out (the judge's own elsewhere).
    assert [(entry["metric"], entry["pipeline"]) for entry in entries] == [
        ("judge_faithfulness", pipeline) for pipeline in PIPELINES
    ]
    graded = {record["queue_item"]: record["grade"] for record in records}
    for entry in entries:
        mine = [i for i in items if i.kind == FAITHFULNESS and i.pipeline == entry["pipeline"]]
        judge = np.array([item.judge_score for item in mine])
        sampled = [row for row, item in enumerate(mine) if item.item_id in graded]
        human = np.array([(graded[mine[row].item_id] - 1) / 4 for row in sampled])
        assert (entry["n_human"], entry["n_automatic"]) == (40, 100)
        # The prediction-powered estimate, computed directly with the λ reported.
        lam = entry["lam"]
        direct = lam * judge.mean() + (human - lam * judge[sampled]).mean()
        assert entry["estimate"] == pytest.approx(direct, rel=1e-12)
        if ppi_py is not None:  # ... and ppi_py's (the dev extra's reference), at that λ
            reference = ppi_py.ppi_mean_pointestimate(human, judge[sampled], judge, lam=lam)
            assert entry["estimate"] == pytest.approx(float(reference[0]), rel=1e-12)
        assert entry["judge_only"] == pytest.approx(judge.mean())
        assert entry["grades_only"]["estimate"] == pytest.approx(human.mean())
        assert entry["ci_low"] <= entry["estimate"] <= entry["ci_high"]
        assert entry["enough"] is True
    lines = score_lines(entries)
    assert lines[0] == "Judged faithfulness, corrected by 80 random grades of answers"
    assert lines[1].startswith(f"Corrected judged faithfulness of {PIPELINES[0]}: 0.")


def test_a_grade_corrects_only_its_own_kind() -> None:
    items = _items()
    correctness = _grades(items, CORRECTNESS, budget=70, seed=1)
    faithfulness = _grades(items, FAITHFULNESS, budget=90, seed=2)

    def by_metric(records: list[dict]) -> dict[str, list[dict]]:
        entries = corrected_scores(items, run_grades(records, items))
        out: dict[str, list[dict]] = {}
        for entry in entries:
            out.setdefault(entry["metric"], []).append(entry)
        return out

    alone_c = by_metric(correctness)
    alone_f = by_metric(faithfulness)
    both = by_metric(correctness + faithfulness)
    assert set(alone_c) == {"judge_correctness"} and set(alone_f) == {"judge_faithfulness"}
    assert both["judge_correctness"] == alone_c["judge_correctness"]
    assert both["judge_faithfulness"] == alone_f["judge_faithfulness"]
    assert [entry["n_human"] for entry in both["judge_correctness"]] == [35, 35]
    assert [entry["n_human"] for entry in both["judge_faithfulness"]] == [45, 45]
    # Both kinds judge the same answers: the same answer's two grades never mix.
    assert {i.item_id for i in items if i.kind == CORRECTNESS}.isdisjoint(
        i.item_id for i in items if i.kind == FAITHFULNESS
    )


def test_correctness_items_keep_their_ids_and_old_files_read_as_correctness() -> None:
    item = _items(1)[0]
    assert item.kind == CORRECTNESS

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # The id before kinds existed: grades made then still belong to their answers.
    before = sha("\0".join((item.query_id, item.pipeline, sha(item.answer))))[:16]
    assert item.item_id == before
    old = {key: value for key, value in item.to_record().items() if key not in ("kind", "passages")}
    assert GradeItem.from_record(old) == item
    faithful = GradeItem.from_record(json.loads(json.dumps(_items(1)[2].to_record())))
    assert faithful == _items(1)[2] and faithful.passages[1] == "[bold]x[/bold]"


def _exported(items: list[GradeItem], kind: str) -> tuple[object, list[dict]]:
    queue = draw_answers([item for item in items if item.kind == kind], 20, 5, "uniform")
    return queue, [queue.export_line(queued) for queued in queue.queued]


def test_exported_lines_read_back_with_their_draw_and_source() -> None:
    items = _items()
    queue, lines = _exported(items, FAITHFULNESS)
    for line in lines:  # nothing names a pipeline or the judge's score
        assert set(line) == {
            "run_id",
            "item_id",
            "kind",
            "design",
            "seed",
            "budget",
            "question",
            "passages",
            "answer",
            "asked",
            "grade",
        }
        assert line["asked"].startswith("Is every claim of the answer supported by the passages?")
    for number, line in enumerate(lines):
        line["grade"] = number % 5 + 1
    lines[-1]["grade"] = None  # not graded yet
    text = [json.dumps(line) for line in lines]
    read = read_graded_lines(text, items, [], "graded.jsonl", 7.0)
    assert read.problems == [] and read.ungraded == 1 and len(read.records) == 19
    for record, queued in zip(read.records, queue.queued, strict=False):
        assert record["queue_item"] == queued.item.item_id and record["kind"] == FAITHFULNESS
        assert record["inclusion"] == pytest.approx(20 / 200)
        assert record["queue_draw"]["design"] == "uniform" and record["queue_draw"]["seed"] == 5
        assert record["source"].endswith("imported from graded.jsonl")
    # Read again with those stored: nothing twice, the earlier grade kept.
    again = read_graded_lines(text, items, read.records, "graded.jsonl", 8.0)
    assert again.records == [] and again.already == 19


def test_each_bad_line_is_one_problem_naming_its_line() -> None:
    items = _items()
    _, lines = _exported(items, CORRECTNESS)
    for line in lines:
        line["grade"] = 4
    text = [json.dumps(line) for line in lines[:6]]
    text[1] = '{"grade": 4, '  # cut short
    text[2] = text[2].replace('"grade": 4', '"grade": 9')
    text[3] = text[3].replace('"grade": 4', '"grade": true')
    edited = dict(lines[4], answer="Another answer.")
    text[4] = json.dumps(edited)
    other = dict(lines[5], run_id="gr-0000000000000000")
    text.append(json.dumps(other))
    text.append(json.dumps(dict(lines[6], seed=-1)))
    text.insert(0, "")  # a blank line is no problem
    read = read_graded_lines(text, items, [], "f.jsonl", 0.0)
    assert read.problems == [
        "f.jsonl:3: not JSON (Expecting property name enclosed in double quotes)",
        "f.jsonl:4: grade 9: use a whole number from 1 to 5, or null to leave the answer ungraded",
        "f.jsonl:5: grade True: use a whole number from 1 to 5, or null to leave the answer "
        "ungraded",
        "f.jsonl:6: its answer differs from the run's: not stored",
        "f.jsonl:8: from another eval run's answers (run id differs)",
        "f.jsonl:9: seed -1: use 0 or more",
    ]
    # Nothing good is lost: the two sound lines (2 and 7) are stored.
    assert [record["queue_item"] for record in read.records] == [
        lines[0]["item_id"],
        lines[5]["item_id"],
    ]
