"""The random grade queue: answers of an eval run drawn at random for the person to grade on
the judge's correctness scale (1–5), so the grades can correct the judge's per-answer
correctness scores (``ragtui.experiment.stats.vote_correction.corrected_scores``).

An eval run whose judge graded correctness writes every graded answer to
``grade_items.jsonl``: the question, the reference answer where the query has one (the
judge saw it too), the answer, the pipeline and the judge's score. The draw is the vote
queue's (``vote_queue.drawn_rows``): uniform over all answers or in equal shares per
pipeline, seeded, each answer's inclusion probability recorded with its grade.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragtui.judging.vote_queue import drawn_rows, read_items, run_id, write_items

GRADE_ITEMS_FILE = "grade_items.jsonl"
ANSWER_GRADES = (1, 2, 3, 4, 5)  # the judge's scale (judge_prompts.SCALE)
GRADE_NAMES = ("wrong or no answer", "mostly wrong", "partly right", "mostly right", "fully")
GRADE_SOURCE = "grade queue (blind, drawn at random)"


@dataclass(frozen=True)
class GradeItem:
    """One answer the judge graded for correctness."""

    query_id: str
    question: str
    reference: str  # "" where the query has no reference answer
    pipeline: str
    answer: str
    judge_score: float | None  # the judge's correctness on 0–1 (None: it abstained)

    @property
    def item_id(self) -> str:
        answer_hash = hashlib.sha256(self.answer.encode("utf-8")).hexdigest()
        parts = (self.query_id, self.pipeline, answer_hash)
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]

    @property
    def stratum(self) -> str:
        return self.pipeline

    def to_record(self) -> dict[str, Any]:
        return {"item_id": self.item_id, **asdict(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GradeItem | None:
        texts = ("query_id", "question", "reference", "pipeline", "answer")
        if not all(isinstance(record.get(name), str) for name in texts):
            return None
        score = record.get("judge_score")
        if score is not None and not isinstance(score, int | float):
            return None
        return cls(*(record[name] for name in texts), judge_score=score)


def grade_run_id(items: Sequence[GradeItem]) -> str:
    return run_id(items, prefix="gr-")


def write_grade_items(path: Path, items: Iterable[GradeItem]) -> None:
    write_items(path, items)


def read_grade_items(folder: Path) -> list[GradeItem]:
    return read_items(
        folder / GRADE_ITEMS_FILE,
        GradeItem.from_record,
        "that graded correctness (--judge-kinds including correctness)",
        "a graded answer",
        "no graded answers",
    )


@dataclass(frozen=True)
class QueuedAnswer:
    item: GradeItem
    inclusion: float
    position: int
    stratum_size: int
    stratum_sample: int


@dataclass(frozen=True)
class GradeDraw:
    run_id: str
    design: str
    seed: int
    budget: int
    population: int
    queued: tuple[QueuedAnswer, ...]

    def describe(self) -> str:
        return (
            f"a {self.design} random sample of {len(self.queued)} of {self.population} judged "
            f"answers (seed {self.seed})"
        )

    def record(self, queued: QueuedAnswer, grade: int | None, now: float) -> dict[str, Any]:
        """The stored grade (None: cleared by an undo), with the draw beside it."""
        return {
            "queue_run": self.run_id,
            "queue_item": queued.item.item_id,
            "grade": grade,
            "inclusion": queued.inclusion,
            "query_id": queued.item.query_id,
            "pipeline": queued.item.pipeline,
            "answer_sha256": hashlib.sha256(queued.item.answer.encode("utf-8")).hexdigest(),
            "queue_draw": {
                "design": self.design,
                "seed": self.seed,
                "budget": self.budget,
                "population": self.population,
                "stratum_size": queued.stratum_size,
                "stratum_sample": queued.stratum_sample,
                "position": queued.position,
            },
            "source": GRADE_SOURCE,
            "time": now,
        }


def draw_answers(items: Sequence[GradeItem], budget: int, seed: int, design: str) -> GradeDraw:
    chosen, rng = drawn_rows(items, budget, seed, design)
    order = rng.permutation(len(chosen))
    queued = tuple(
        QueuedAnswer(item, inclusion, position, size, share)
        for position, index in enumerate(order)
        for item, inclusion, size, share in [chosen[int(index)]]
    )
    return GradeDraw(grade_run_id(items), design, seed, budget, len(items), queued)


def queue_grades(records: Iterable[dict[str, Any]], run: str) -> dict[str, dict[str, Any]]:
    """The latest grade of each item of run ``run`` (an undo's cleared grade removes it)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("queue_run") != run or not isinstance(record.get("queue_item"), str):
            continue
        inclusion = record.get("inclusion")
        if not (isinstance(inclusion, int | float) and 0 < inclusion <= 1):
            continue  # a damaged record: no known chance of having been drawn
        if record.get("grade") in ANSWER_GRADES:
            latest[record["queue_item"]] = record
        elif record.get("grade") is None:
            latest.pop(record["queue_item"], None)
    return latest
