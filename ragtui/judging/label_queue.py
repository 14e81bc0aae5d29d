"""The labeling queue: which pool pairs a person is asked about, in which order, and grades
read back from another tool.

The queue is the comparison's pool (``ragtui.judging.pools``), optionally only the pairs
where the compared retrievers' top lists differ, optionally a seeded random sample of
about ``budget`` pairs drawn by one of ``ragtui.judging.label_designs``: uniform without
replacement (each pair's inclusion probability budget / pool size), or Poisson with each
pair's own probability from the retrievers' ranks (``rank-prior``) or a labeller's
uncertainty (``labeller``). Each drawn pair's probability is recorded per pair, in the
queue and in the set's ``label_samples.jsonl`` with the design's name. Its order is a
seeded shuffle, query by query: a person reads a question once and grades its passages.

The labeling screen and ``ragtui label queue`` use the same queue, so the file holds
exactly the pairs the screen would ask about. Neither shows which retriever found a pair
or at what rank.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragtui.corpus.model import Corpus
from ragtui.judged_unit import id_in_unit
from ragtui.judging.automatic_grades import AutomaticGrade, PairKey
from ragtui.judging.label_designs import (
    LABELLER,
    RANK_PRIOR,
    UNIFORM,
    correction_spread,
    labeller_inclusion,
    poisson_draw,
    rank_prior_inclusion,
)
from ragtui.judging.pools import JudgedText, Pool, PoolItem, UnitTexts
from ragtui.judging.store import GRADES, JsonlLog, JudgmentStore, JudgmentStoreError, Label
from ragtui.judging.trec_ids import from_trec_id

SAMPLES_FILE = "label_samples.jsonl"
BLIND_SOURCE = "label screen (blind)"


@dataclass(frozen=True)
class QueuePair:
    query_id: str
    query: str
    judged: JudgedText
    inclusion_probability: float

    def to_record(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "query": self.query,
            "doc_id": self.judged.doc_id,
            "passage_id": self.judged.passage_id,
            "start": self.judged.start,
            "end": self.judged.end,
            "text": self.judged.text,
            "text_sha256": self.judged.text_sha256,
            "inclusion_probability": self.inclusion_probability,
        }

    def label(self, grade: int | None, chunking: str, source: str) -> Label:
        """A grade of this pair, anchored to its text as the app's labels are."""
        judged = self.judged
        return Label(
            query_id=self.query_id,
            query=self.query,
            passage_id=judged.passage_id or judged.doc_id,
            doc_id=judged.doc_id,
            grade=grade,
            start=judged.start,
            end=judged.end,
            text_sha256=judged.text_sha256,
            text=judged.text,
            chunking=chunking,
            time=time.time(),
            source=source,
        )


@dataclass(frozen=True)
class QueueDesign:
    retrievers: tuple[str, ...]
    depth: int
    budget: int | None
    seed: int
    only_differing: bool
    sampling: str = UNIFORM  # how a budget draws: one of label_designs.DESIGNS
    labeller: str | None = None  # the labeller whose uncertainty steered a labeller design

    @property
    def poisson(self) -> bool:
        """Each pair drawn independently with its own probability (the active designs)."""
        return self.sampling != UNIFORM

    def flags(self) -> str:
        """The `ragtui label` flags that draw this design again (defaults left out)."""
        words = [f"--retrievers {','.join(self.retrievers)}"]
        if self.depth != 10:
            words.append(f"--depth {self.depth}")
        if self.budget is not None:
            words.append(f"--budget {self.budget}")
        if self.seed != 0:
            words.append(f"--seed {self.seed}")
        if self.only_differing:
            words.append("--only-differing")
        if self.poisson:
            words.append(f"--design {self.sampling}")
        return " ".join(words)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "retrievers": list(self.retrievers),
            "depth": self.depth,
            "budget": self.budget,
            "seed": self.seed,
            "only_differing": self.only_differing,
            "sampling": self.sampling,
        }
        if self.labeller is not None:
            record["labeller"] = self.labeller
        return record


@dataclass(frozen=True)
class LabelQueue:
    pairs: tuple[QueuePair, ...]
    pool_size: int  # pairs the sample was drawn from
    stale: int  # pool pairs whose text changed or left the corpus (not asked)
    design: QueueDesign


def build_queue(
    pool: Pool,
    corpus: Corpus,
    queries: dict[str, str],
    design: QueueDesign,
    labeller_grades: Mapping[PairKey, AutomaticGrade] | None = None,
    folder: Path | None = None,
) -> LabelQueue:
    """The pairs to ask about, in the order to ask them.

    ``labeller_grades``: the labeller's grades of the pool, for ``design.sampling``
    ``labeller`` (a pair without one counts as the most uncertain). ``folder``: the set's,
    where an active design's earlier draw is kept as it was (``earlier_draw``)."""
    texts = UnitTexts(corpus, pool.unit)
    population: list[QueuePair] = []
    items: list[PoolItem] = []
    stale = 0
    for item in pool.pairs(design.retrievers, design.depth, only_differing=design.only_differing):
        if item.query_id not in queries:
            continue
        judged = texts.get(item.judged_id)
        if judged is None or judged.text_sha256 != item.text_sha256:
            stale += 1
            continue
        population.append(QueuePair(item.query_id, queries[item.query_id], judged, 1.0))
        items.append(item)
    rng = random.Random(design.seed)
    earlier = (
        earlier_draw(folder, design, len(population))
        if folder is not None and design.poisson
        else None
    )
    chosen = population
    if design.budget is not None and design.budget < len(population):
        if design.poisson and earlier is not None:
            chosen = [
                QueuePair(p.query_id, p.query, p.judged, earlier[key])
                for p in population
                if (key := (p.query_id, p.judged.judged_id, p.judged.text_sha256)) in earlier
            ]
        elif design.poisson:
            inclusion = design_inclusion(design, items, population, labeller_grades)
            chosen = []
            for row in poisson_draw(inclusion, design.seed):
                pair = population[row]
                chosen.append(
                    QueuePair(pair.query_id, pair.query, pair.judged, float(inclusion[row]))
                )
        else:
            probability = design.budget / len(population)
            rows = sorted(rng.sample(range(len(population)), design.budget))
            chosen = [
                QueuePair(p.query_id, p.query, p.judged, probability)
                for p in (population[row] for row in rows)
            ]
    by_query: dict[str, list[QueuePair]] = {}
    for pair in chosen:
        by_query.setdefault(pair.query_id, []).append(pair)
    order = sorted(by_query)
    rng.shuffle(order)
    ordered: list[QueuePair] = []
    for query_id in order:
        pairs = by_query[query_id]
        rng.shuffle(pairs)
        ordered.extend(pairs)
    return LabelQueue(tuple(ordered), len(population), stale, design)


def design_inclusion(
    design: QueueDesign,
    items: Sequence[PoolItem],
    population: Sequence[QueuePair],
    labeller_grades: Mapping[PairKey, AutomaticGrade] | None,
) -> np.ndarray:
    """Each population pair's inclusion probability under an active (Poisson) design, for
    an expected sample of ``design.budget`` pairs."""
    assert design.budget is not None
    if design.sampling == RANK_PRIOR:
        ranks = np.array(
            [
                [
                    rank if (rank := item.placed.get(name, 0)) <= design.depth else 0
                    for item in items
                ]
                for name in design.retrievers
            ],
            dtype=int,
        ).reshape(len(design.retrievers), len(items))
        return rank_prior_inclusion(ranks, design.budget)
    if design.sampling == LABELLER:
        grades = labeller_grades or {}
        spread = []
        for pair in population:
            grade = grades.get(pair_key(pair))
            # pointwise and one-shot keep the expected grade (from log-probabilities) as
            # their score; answer-based's score is an answer match, not a grade
            graded = grade is not None and grade.source.method != "answer-based"
            expected = grade.score if graded and grade is not None else None
            spread.append(correction_spread(None if grade is None else grade.grade, expected))
        return labeller_inclusion(spread, design.budget)
    raise ValueError(f"design {design.sampling!r} is not a Poisson design")


def earlier_draw(
    folder: Path, design: QueueDesign, pool_size: int
) -> dict[tuple[str, str, str], float] | None:
    """The pairs and chances of the first recorded draw of exactly this active design on a
    pool of this size, or None. A labeller design's chances follow the labeller's grades
    at the time of the draw: redrawn after ``judge relevance`` added grades, the same seed
    would pick other pairs, and the grades already made would no longer be of the sample
    the estimate weights. So a recorded draw is kept as it was."""
    wanted = design.to_record()
    for record in JsonlLog(folder / SAMPLES_FILE).records():
        if record.get("design") != wanted or record.get("pool_size") != pool_size:
            continue
        pairs, chances = record.get("pairs"), record.get("inclusion_probabilities")
        if not isinstance(pairs, list) or not isinstance(chances, list):
            continue
        if len(pairs) != len(chances):
            continue
        return {
            (str(pair[0]), str(pair[1]), str(pair[2])): float(chance)
            for pair, chance in zip(pairs, chances, strict=True)
            if isinstance(pair, list) and len(pair) == 3 and isinstance(chance, int | float)
        }
    return None


def record_sample(folder: Path, queue: LabelQueue) -> None:
    """Keep a budgeted sample's design and inclusion probabilities with the set (once).

    ``inclusion_probabilities`` holds each drawn pair's π, in the order of ``pairs``; the
    single ``inclusion_probability`` is kept for a uniform sample only (a reader that knows
    only that one reads an active sample as no sample rather than as a uniform one)."""
    if queue.design.budget is None:
        return
    pairs = sorted(queue.pairs, key=lambda p: (p.query_id, p.judged.judged_id))
    uniform = not queue.design.poisson
    record = {
        "design": queue.design.to_record(),
        "pool_size": queue.pool_size,
        "pairs": [
            [pair.query_id, pair.judged.judged_id, pair.judged.text_sha256] for pair in pairs
        ],
        "inclusion_probabilities": [pair.inclusion_probability for pair in pairs],
        "inclusion_probability": queue.pairs[0].inclusion_probability
        if queue.pairs and uniform
        else None,
    }
    log = JsonlLog(folder / SAMPLES_FILE)
    for earlier in log.records():
        if {key: earlier.get(key) for key in record} == record:
            return
    log.append({**record, "time": time.time()})


def pair_key(label_or_pair: Label | QueuePair) -> tuple[str, str, int, int, str]:
    """What makes a grade belong to a pair: query, document, span, text hash."""
    if isinstance(label_or_pair, QueuePair):
        judged = label_or_pair.judged
        return (
            label_or_pair.query_id,
            judged.doc_id,
            judged.start,
            judged.end,
            judged.text_sha256,
        )
    label = label_or_pair
    return (
        label.query_id,
        label.doc_id,
        int(label.start or 0),
        int(label.end or 0),
        str(label.text_sha256),
    )


def graded_pairs(store: JudgmentStore, queue: LabelQueue) -> dict[tuple, int]:
    """Pair key → grade, for queue pairs the store already holds a grade of that text.

    In a random sample (``--budget``), a grade made on the compare screen (no source) does
    not count as done: it is not part of the sample (``SampledPool.random_grades``), so the
    blind screen and the queue file ask for the pair again."""
    labels = store.labels()
    wanted = {pair_key(pair) for pair in queue.pairs}
    sample = queue.design.budget is not None
    graded: dict[tuple, int] = {}
    for query_id in {pair.query_id for pair in queue.pairs}:
        for label in labels.get(query_id, {}).values():
            if sample and label.source is None:
                continue
            if label.anchored and label.grade is not None and pair_key(label) in wanted:
                graded[pair_key(label)] = label.grade
    return graded


# reading grades back ----------------------------------------------------------------------


@dataclass
class GradeImport:
    stored: int = 0
    ungraded: int = 0  # queue lines without a grade yet
    problems: list[str] = field(default_factory=list)  # "FILE:LINE: what is wrong"


def _grade(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def import_grades(
    path: Path,
    corpus: Corpus,
    unit: str,
    queries: dict[str, str],
    store: JudgmentStore,
    testset: str,
) -> GradeImport:
    """Grades from a queue file with a ``grade`` per line, or from TREC qrels, stored as
    the person's labels anchored to their text. Each unusable line is reported, including a
    JSONL line without the ``text_sha256`` the queue wrote (its text cannot be checked)."""
    try:
        # utf-8-sig: a file saved by a spreadsheet or an editor on Windows starts with a BOM
        lines = path.read_text(encoding="utf-8-sig", errors="replace").split("\n")
    except OSError as error:
        raise JudgmentStoreError(f"cannot read {path} ({error.strerror})") from None
    texts = UnitTexts(corpus, unit)
    first = next((line.strip() for line in lines if line.strip()), "")
    jsonl = first.startswith("{")
    source = f"imported from {path.name}"
    result = GradeImport()
    problems = result.problems
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        if jsonl:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not JSON ({error.msg})")
                continue
            if not isinstance(record, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            if record.get("grade") is None:
                result.ungraded += 1
                continue
            query_id = str(record.get("query_id") or "")
            doc_id, passage_id = record.get("doc_id"), record.get("passage_id")
            judged_id = id_in_unit(str(doc_id or ""), str(passage_id or ""), unit)
            raw_grade, expected_sha = record.get("grade"), record.get("text_sha256")
        else:
            columns = line.split()
            if len(columns) != 4:
                problems.append(f"{where}: not a qrels line (query-id 0 doc-id grade)")
                continue
            query_id, judged_id = from_trec_id(columns[0]), from_trec_id(columns[2])
            raw_grade, expected_sha = columns[3], None
        grade = _grade(raw_grade)
        if grade is None or grade not in GRADES:
            problems.append(f"{where}: grade {raw_grade!r} is out of range (use 0, 1, 2 or 3)")
            continue
        if query_id not in queries:
            problems.append(f"{where}: query id {query_id!r} is not in test set {testset!r}")
            continue
        judged = texts.get(judged_id)
        if judged is None:
            problems.append(f"{where}: no {unit} {judged_id!r} in {corpus.root}")
            continue
        if jsonl and not isinstance(expected_sha, str):
            # A grade says which text it graded: without the hash the queue wrote, a grade
            # made on an older text of this id would be stored as if made on today's.
            # TREC qrels carry no text by nature; they are taken as grades of today's text.
            problems.append(
                f"{where}: no text_sha256; grade it from a queue written by 'ragtui label queue'"
            )
            continue
        if expected_sha is not None and expected_sha != judged.text_sha256:
            problems.append(
                f"{where}: the text of {judged_id!r} changed since the queue was written; "
                "grade it again from a new queue"
            )
            continue
        pair = QueuePair(query_id, queries[query_id], judged, 1.0)
        store.add_label(pair.label(grade, corpus.chunking.key, source))
        result.stored += 1
    return result
