"""The random grade queue: answers of an eval run drawn at random for the person to grade on
the judge's scale (1–5), so the grades can correct the judge's per-answer scores
(``ragtui.experiment.stats.vote_correction.corrected_scores``): correctness, or
faithfulness to the passages the generator read.

An eval run whose judge graded correctness or faithfulness writes every graded answer to
``grade_items.jsonl``, once per kind graded (``GradeItem.kind``): the question, the
reference answer where the query has one (correctness: the judge saw it too) or the
passages (faithfulness: what the judge checked the answer against), the answer, the
pipeline and the judge's score. A file written before kinds existed holds correctness
items only, and reads as such. The draw is the vote queue's (``vote_queue.drawn_rows``),
over the items of one kind: uniform over all answers or in equal shares per pipeline,
seeded, each answer's inclusion probability recorded with its grade.

A drawn queue also goes out as JSONL (``export_line``), to be graded in another tool and
read back (``ragtui vote grade import``): only what the screen shows, plus the draw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragtui.errors import RagtuiError
from ragtui.judging.vote_queue import drawn_rows, read_items, run_id, write_items

GRADE_ITEMS_FILE = "grade_items.jsonl"
ANSWER_GRADES = (1, 2, 3, 4, 5)  # the judge's scale (judge_prompts.SCALE)
GRADE_NAMES = ("wrong or no answer", "mostly wrong", "partly right", "mostly right", "fully")
GRADE_SOURCE = "grade queue (blind, drawn at random)"
IMPORT_SOURCE = "grade queue file (blind, drawn at random), graded elsewhere and imported"
CORRECTNESS = "correctness"
FAITHFULNESS = "faithfulness"
GRADE_KINDS = (CORRECTNESS, FAITHFULNESS)


@dataclass(frozen=True)
class GradeScale:
    """What the person is asked about one kind of answer grade: the judge's own question
    and scale ends (``judge_prompts.JudgeTemplates``), so a grade of 4 means to the person
    what it means to the judge."""

    asked: str
    names: tuple[str, ...]  # each grade's name, 1 first
    metric: str  # the judge's metric the grades correct


SCALES = {
    CORRECTNESS: GradeScale(
        "How correct and complete is the answer? 1 (wrong or no answer) to 5 (fully correct)",
        GRADE_NAMES,
        "judge_correctness",
    ),
    FAITHFULNESS: GradeScale(
        "Is every claim of the answer supported by the passages? 1 (mostly unsupported) to "
        "5 (fully supported)",
        (
            "mostly unsupported",
            "some claims supported",
            "about half supported",
            "mostly supported",
            "fully supported",
        ),
        "judge_faithfulness",
    ),
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GradeItem:
    """One answer the judge graded for one kind (correctness or faithfulness)."""

    query_id: str
    question: str
    reference: str  # "" where the query has no reference answer (and for faithfulness)
    pipeline: str
    answer: str
    judge_score: float | None  # the judge's score of this kind on 0–1 (None: it abstained)
    kind: str = CORRECTNESS
    passages: tuple[str, ...] = ()  # faithfulness: the passages the generator read

    @property
    def item_id(self) -> str:
        parts = [self.query_id, self.pipeline, _sha256(self.answer)]
        if self.kind != CORRECTNESS:
            # Correctness ids stay what they were before kinds existed, so grades made then
            # still count; another kind's id differs, so its grades never mix with them.
            parts += [self.kind, _sha256("\0".join(map(_sha256, self.passages)))]
        return _sha256("\0".join(parts))[:16]

    @property
    def stratum(self) -> str:
        return self.pipeline

    @property
    def metric(self) -> str:
        return SCALES[self.kind].metric

    def shown(self) -> dict[str, Any]:
        """What the person sees of this item (the screen, an exported line): never the
        pipeline or the judge's score."""
        if self.kind == FAITHFULNESS:
            return {
                "question": self.question,
                "passages": list(self.passages),
                "answer": self.answer,
            }
        return {"question": self.question, "reference": self.reference, "answer": self.answer}

    def to_record(self) -> dict[str, Any]:
        return {"item_id": self.item_id, **asdict(self), "passages": list(self.passages)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GradeItem | None:
        texts = ("query_id", "question", "reference", "pipeline", "answer")
        if not all(isinstance(record.get(name), str) for name in texts):
            return None
        score = record.get("judge_score")
        if score is not None and not isinstance(score, int | float):
            return None
        kind = record.get("kind", CORRECTNESS)  # a file from before kinds: correctness
        passages = record.get("passages", [])
        if kind not in GRADE_KINDS or not isinstance(passages, list):
            return None
        if not all(isinstance(text, str) for text in passages):
            return None
        return cls(
            *(record[name] for name in texts),
            judge_score=score,
            kind=kind,
            passages=tuple(passages),
        )


def grade_run_id(items: Sequence[GradeItem]) -> str:
    return run_id(items, prefix="gr-")


def write_grade_items(path: Path, items: Iterable[GradeItem]) -> None:
    write_items(path, items)


def read_grade_items(folder: Path, kind: str | None = CORRECTNESS) -> list[GradeItem]:
    """The run's graded answers of ``kind`` (None: every kind); a RagtuiError in one line
    when the run graded none of that kind."""
    wanted = kind or "correctness or faithfulness"
    items = read_items(
        folder / GRADE_ITEMS_FILE,
        GradeItem.from_record,
        f"that graded {wanted} (--judge-kinds including {wanted})",
        "a graded answer",
        "no graded answers",
    )
    if kind is None:
        return items
    chosen = [item for item in items if item.kind == kind]
    if not chosen:
        graded = sorted({item.kind for item in items})
        raise RagtuiError(
            f"{folder / GRADE_ITEMS_FILE} holds no answers the judge graded for {kind}: use "
            f"--kind {' or '.join(graded)}, or run the eval again with --judge-kinds "
            f"including {kind}"
        )
    return chosen


def run_grades(records: Sequence[dict[str, Any]], items: Sequence[GradeItem]) -> dict[str, Any]:
    """The latest grade of each of ``items``, each kind from its own population's run (a
    kind's run id hashes that kind's items only, as its draw does)."""
    grades: dict[str, Any] = {}
    for kind in GRADE_KINDS:
        population = [item for item in items if item.kind == kind]
        if population:
            grades.update(queue_grades(records, grade_run_id(population)))
    return grades


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
    kind: str = CORRECTNESS

    def describe(self) -> str:
        judged = "judged answers" if self.kind == CORRECTNESS else f"answers judged for {self.kind}"
        return (
            f"a {self.design} random sample of {len(self.queued)} of {self.population} "
            f"{judged} (seed {self.seed})"
        )

    def record(
        self,
        queued: QueuedAnswer,
        grade: int | None,
        now: float,
        source: str = GRADE_SOURCE,
    ) -> dict[str, Any]:
        """The stored grade (None: cleared by an undo), with the draw beside it."""
        return {
            "queue_run": self.run_id,
            "queue_item": queued.item.item_id,
            "kind": self.kind,
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
            "source": source,
            "time": now,
        }

    def export_line(self, queued: QueuedAnswer) -> dict[str, Any]:
        """One line of an exported queue: what the screen shows, the question asked, the
        draw (so an import finds the item and its inclusion probability), and ``grade``
        left empty for the person. No pipeline name, no judge's score."""
        return {
            "run_id": self.run_id,
            "item_id": queued.item.item_id,
            "kind": self.kind,
            "design": self.design,
            "seed": self.seed,
            "budget": self.budget,
            **queued.item.shown(),
            "asked": SCALES[self.kind].asked,
            "grade": None,
        }


def draw_answers(items: Sequence[GradeItem], budget: int, seed: int, design: str) -> GradeDraw:
    """Draw ``budget`` of ``items`` (answers of one kind) by ``design``, seeded."""
    kinds = {item.kind for item in items}
    if len(kinds) > 1:
        raise ValueError(f"one kind of graded answer per draw, not {sorted(kinds)}")
    chosen, rng = drawn_rows(items, budget, seed, design)
    order = rng.permutation(len(chosen))
    queued = tuple(
        QueuedAnswer(item, inclusion, position, size, share)
        for position, index in enumerate(order)
        for item, inclusion, size, share in [chosen[int(index)]]
    )
    kind = next(iter(kinds), CORRECTNESS)
    return GradeDraw(grade_run_id(items), design, seed, budget, len(items), queued, kind)


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


@dataclass
class ReadGrades:
    """What an exported queue's lines hold: the grade records to store, one readable
    problem per line that cannot be stored (``FILE:LINE: why``), and the lines left
    ungraded or graded before (the earlier grade is kept)."""

    records: list[dict[str, Any]]
    problems: list[str]
    ungraded: int = 0
    already: int = 0


def read_graded_lines(
    lines: Sequence[str],
    items: Sequence[GradeItem],
    earlier: Sequence[dict[str, Any]],
    file: str,
    now: float,
) -> ReadGrades:
    """The grades of an exported queue (``GradeDraw.export_line``, graded elsewhere), each
    matched to its draw: a line's kind, design, seed and budget redraw the queue of this
    run's ``items`` of that kind, so the stored grade carries the inclusion probability of
    the draw it was made on, and its source says it was imported (and from which file). A
    line whose run, item or shown texts differ from the run's is refused: a grade of other
    text corrects nothing. ``earlier``: the answer-grade records already stored."""
    from ragtui.queue_files import queue_lines

    by_kind = {kind: [item for item in items if item.kind == kind] for kind in GRADE_KINDS}
    runs = {kind: grade_run_id(found) for kind, found in by_kind.items() if found}
    graded = {kind: set(queue_grades(earlier, run)) for kind, run in runs.items()}
    draws: dict[tuple[str, str, int, int], GradeDraw] = {}
    out = ReadGrades([], [])
    source = f"{IMPORT_SOURCE} from {file}"
    for line in queue_lines(lines, file):
        where, record = line.where, line.record
        if record is None:
            out.problems.append(str(line.problem))
            continue
        grade = record.get("grade")
        if grade is None:
            out.ungraded += 1
            continue
        if isinstance(grade, bool) or not isinstance(grade, int) or grade not in ANSWER_GRADES:
            out.problems.append(
                f"{where}: grade {grade!r}: use a whole number from 1 to 5, or null to leave "
                "the answer ungraded"
            )
            continue
        kind = record.get("kind")
        design, seed, budget = record.get("design"), record.get("seed"), record.get("budget")
        if kind not in GRADE_KINDS or not (
            isinstance(design, str)
            and isinstance(seed, int)
            and isinstance(budget, int)
            and not isinstance(seed, bool)
            and not isinstance(budget, bool)
        ):
            out.problems.append(
                f"{where}: no kind, design, seed and budget (write the file with "
                "'ragtui vote grade RUN --out FILE')"
            )
            continue
        if kind not in runs or record.get("run_id") != runs[kind]:
            out.problems.append(f"{where}: from another eval run's answers (run id differs)")
            continue
        key = (kind, design, seed, budget)
        if key not in draws:
            try:
                draws[key] = draw_answers(by_kind[kind], budget, seed, design)
            except RagtuiError as error:
                out.problems.append(f"{where}: {error}")
                continue
        queue = draws[key]
        found = [queued for queued in queue.queued if queued.item.item_id == record.get("item_id")]
        if not found:
            out.problems.append(f"{where}: item {record.get('item_id')!r} is not in this draw")
            continue
        queued = found[0]
        differing = [
            name for name, value in queued.item.shown().items() if record.get(name) != value
        ]
        if differing:
            out.problems.append(
                f"{where}: its {' and '.join(differing)} "
                f"{'differs' if len(differing) == 1 else 'differ'} from the run's: not stored"
            )
            continue
        if queued.item.item_id in graded[kind]:
            out.already += 1  # graded already (on the screen, or earlier in an import)
            continue
        out.records.append(queue.record(queued, grade, now, source=source))
        graded[kind].add(queued.item.item_id)
    return out
