"""A test set's recorded label sample, read back: the population it was drawn from, the
pairs drawn with each one's inclusion probability, and the person's grades of them so far.

A record names its design (``design.sampling``: uniform, rank-prior or labeller; a record
written before designs existed is uniform) and each drawn pair's probability
(``inclusion_probabilities``; an older uniform record holds one ``inclusion_probability``
for every pair).

``label --budget`` records each sample in ``label_samples.jsonl`` (``label_queue``). The
population is rebuilt as the queue builds it (the pool of the design's retrievers and
depth, pairs whose text changed left out); if it no longer has the recorded size, the pool
or the corpus changed since the draw and the caller is told (``changed``).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus
from ragtui.judging.label_designs import DESIGNS, UNIFORM
from ragtui.judging.label_queue import BLIND_SOURCE, SAMPLES_FILE, QueueDesign
from ragtui.judging.labeling import LONGEST_PACE_S
from ragtui.judging.pools import PoolItem, UnitTexts, pool_key, read_pool
from ragtui.judging.store import JsonlLog, JudgmentStore, Label


@dataclass(frozen=True)
class SampledPool:
    design: QueueDesign
    population: tuple[PoolItem, ...]  # in (query id, judged id) order
    sampled: tuple[int, ...]  # rows of the population drawn into the sample
    inclusion: dict[int, float]  # sampled row → its recorded inclusion probability
    grades: dict[int, int]  # population row → the person's grade, for sampled rows graded
    recorded_pool_size: int
    # population row → who made its grade (the label's source: "label screen (blind)",
    # "imported from FILE"; None for the compare screen, where retrievers are in sight)
    grade_sources: dict[int, str | None] = field(default_factory=dict)

    @property
    def random_grades(self) -> dict[int, int]:
        """The grades that read as a random sample: of drawn pairs, given on the blind
        labeling screen or by ``label import`` (of the queue). A drawn pair whose grade was
        made on the compare screen is left out: there the person chose the query and saw
        which retriever ranked the passage where, so whether and how it was graded is not
        the draw's. Eval's corrected figures and ``label plan`` both read these."""
        return {row: grade for row, grade in self.grades.items() if self.random_source(row)}

    @property
    def sighted(self) -> int:
        """Drawn pairs whose (latest) grade was made on the compare screen: left out."""
        return sum(1 for row in self.grades if not self.random_source(row))

    def random_source(self, row: int) -> bool:
        # The compare screen's labels carry no source; the blind screen's and imports do.
        return self.grade_sources.get(row) is not None

    @property
    def sampling(self) -> str:
        """The design that drew the sample (``label_designs.DESIGNS``)."""
        return self.design.sampling

    def graded_inclusion(self, rows: Sequence[int]) -> list[float]:
        """The inclusion probabilities of graded ``rows`` of a Poisson (active) sample.

        A sample graded only in part is read as the recorded draw thinned at random to the
        pairs graded, each π times graded / drawn: the rule a uniform sample's reading
        (graded / pool) follows too. Exact once every drawn pair is graded."""
        share = len(rows) / len(self.sampled) if self.sampled else 1.0
        return [self.inclusion[row] * share for row in rows]

    @property
    def changed(self) -> bool:
        """The population differs from the one the sample was drawn from."""
        return len(self.population) != self.recorded_pool_size


def _design(record: dict[str, Any]) -> QueueDesign | None:
    design = record.get("design")
    if not isinstance(design, dict) or not isinstance(design.get("retrievers"), list):
        return None
    depth, budget, seed = design.get("depth"), design.get("budget"), design.get("seed")
    if not isinstance(depth, int) or not isinstance(budget, int) or not isinstance(seed, int):
        return None
    sampling = design.get("sampling", UNIFORM)
    if sampling not in DESIGNS:
        return None  # a design this version does not know: its weights cannot be trusted
    labeller = design.get("labeller")
    return QueueDesign(
        tuple(str(name) for name in design["retrievers"]),
        depth,
        budget,
        seed,
        bool(design.get("only_differing")),
        sampling,
        labeller if isinstance(labeller, str) else None,
    )


def _probability(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1


def _probabilities(record: dict[str, Any]) -> list[float] | None:
    """Each recorded pair's inclusion probability, in the order of ``pairs`` (None when
    the record holds none usable)."""
    pairs = record.get("pairs") or []
    per_pair = record.get("inclusion_probabilities")
    if isinstance(per_pair, list):
        if len(per_pair) == len(pairs) and all(_probability(value) for value in per_pair):
            return [float(value) for value in per_pair]
        return None
    design = _design(record)
    single = record.get("inclusion_probability")
    # An older record: one probability for every pair, of a uniform sample.
    if design is not None and design.sampling == UNIFORM and _probability(single):
        return [float(single)] * len(pairs)
    return None


def latest_sample(folder: Path) -> dict[str, Any] | None:
    """The last usable record of ``label_samples.jsonl`` (None when there is none)."""
    chosen = None
    for record in JsonlLog(folder / SAMPLES_FILE).records():
        if _design(record) is not None and _probabilities(record) is not None:
            chosen = record
    return chosen


def _label_key(label: Label) -> tuple[str, str, int, int, str]:
    return (
        label.query_id,
        label.doc_id,
        int(label.start or 0),
        int(label.end or 0),
        str(label.text_sha256),
    )


def sampled_pool(
    folder: Path,
    corpus: Corpus,
    unit: str,
    queries: dict[str, str],
    store: JudgmentStore,
    record: dict[str, Any],
) -> SampledPool:
    """The sample of ``record`` (from ``latest_sample``) with its population and grades."""
    design = _design(record)
    if design is None:
        raise ValueError("not a label sample record")
    pool = read_pool(folder, unit, pool_key(corpus))
    texts = UnitTexts(corpus, unit)
    population = []
    for item in pool.pairs(design.retrievers, design.depth, only_differing=design.only_differing):
        judged = texts.get(item.judged_id) if item.query_id in queries else None
        if judged is not None and judged.text_sha256 == item.text_sha256:
            population.append(item)
    row_of = {
        (item.query_id, item.judged_id, item.text_sha256): row
        for row, item in enumerate(population)
    }
    probabilities = _probabilities(record)
    if probabilities is None:
        raise ValueError("the label sample record holds no inclusion probabilities")
    inclusion: dict[int, float] = {}
    for pair, probability in zip(record.get("pairs") or [], probabilities, strict=True):
        key = tuple(pair) if isinstance(pair, list) else None
        if key in row_of:
            inclusion[row_of[key]] = probability
    sampled = sorted(inclusion)
    graded: dict[tuple, Label] = {}
    for query_id in {population[row].query_id for row in sampled}:
        for label in store.labels().get(query_id, {}).values():
            if label.anchored and label.grade is not None:
                graded[_label_key(label)] = label
    grades, sources = {}, {}
    for row in sampled:
        item = population[row]
        key = (item.query_id, item.doc_id, item.start, item.end, item.text_sha256)
        if key in graded:
            grades[row] = int(graded[key].grade or 0)
            sources[row] = graded[key].source
    return SampledPool(
        design,
        tuple(population),
        tuple(sampled),
        inclusion,
        grades,
        int(record.get("pool_size") or 0),
        sources,
    )


def measured_pace_s(store: JudgmentStore, query_ids: set[str]) -> tuple[float, int] | None:
    """Median seconds between consecutive grades on the blind screen, and how many gaps
    it rests on; breaks (over ``LONGEST_PACE_S``) are left out. None below three gaps."""
    times = sorted(
        label.time
        for query_id in query_ids
        for label in store.labels().get(query_id, {}).values()
        if label.source == BLIND_SOURCE and label.grade is not None and label.time
    )
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    gaps = [gap for gap in gaps if 0 < gap <= LONGEST_PACE_S]
    if len(gaps) < 3:
        return None
    return statistics.median(gaps), len(gaps)
