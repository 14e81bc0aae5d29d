"""How far a labeller model agrees with *this person on this corpus*: the line shown beside
every figure that rests on its grades.

Two figures, both over what the person and the labeller graded alike (the same (query,
judged id) of the corpus as it is now):

- **κ over pairs.** Cohen's κ with quadratic weights on the 0–3 grades. The grades are
  ordered and eval uses them as gains (nDCG), so a 2 against a 3 is a small disagreement
  and a 0 against a 3 a large one; unweighted κ would count both as one miss, and κ on
  grades binarised at ≥ 1 would hide a labeller that calls every marginal passage highly
  relevant, which is exactly what inflates nDCG. Quadratic weights make κ the share of
  the squared grade difference not explained by chance (≈ an intraclass correlation).
  The categories are always 0–3, whichever grades were used (scikit-learn's
  ``cohen_kappa_score(..., labels=[0, 1, 2, 3], weights="quadratic")``).
- **τ over retrievers.** Kendall's τ-b between the retrievers' order by mean nDCG′@k
  under the person's grades and under the labeller's, on the queries where both graded a
  pair and on those pairs only (condensed lists: the pairs neither graded count for no
  retriever). So τ measures the labeller's grades, not that the two judged different
  pairs; the labeller's figures in eval rest on more pairs than that.

Intervals resample the query (``evidence_rules.RESAMPLING_UNIT``): a query's pairs are
drawn together, since one query's grades are not independent of each other. Below
``AGREEMENT_FLOOR`` pairs (κ) or ``CORRELATION_FLOOR`` queries (τ), or from an interval of
no width, the line says "too few of your labels to tell (n = …)"; with none of the person's
grades on the labeller's pairs, "not checked against your labels".

Pure numbers in, figures out: the caller gathers the grades (``ragtui.experiment.run.
labeller_checks``) so the same figures serve eval, ``ragtui results``, ``ragtui judge
relevance`` and the app. scipy and pytrec_eval are imported inside functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ragtui.evidence_rules import AGREEMENT_FLOOR, CONFIDENCE, CORRELATION_FLOOR

GRADE_LEVELS = (0, 1, 2, 3)
BOOTSTRAP_SAMPLES = 2000
NOT_CHECKED = "not checked against your labels"
KAPPA_KIND = "quadratic-weighted κ on 0–3 grades"
# Kendall's τ of two retrievers is ±1 whatever the data: no ranking to compare.
LEAST_RETRIEVERS = 3

Grades = Mapping[str, Mapping[str, int]]  # query id → judged id → grade 0–3
Runs = Mapping[str, Mapping[str, Mapping[str, float]]]  # retriever → query → id → score


def _confusion(first: Sequence[int], second: Sequence[int]) -> np.ndarray:
    table = np.zeros((len(GRADE_LEVELS), len(GRADE_LEVELS)))
    np.add.at(table, (np.asarray(first, dtype=int), np.asarray(second, dtype=int)), 1)
    return table


_WEIGHTS = np.subtract.outer(np.arange(len(GRADE_LEVELS)), np.arange(len(GRADE_LEVELS))) ** 2


def _kappa_of_table(table: np.ndarray) -> float | None:
    total = table.sum()
    if total == 0:
        return None
    observed = table / total
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    chance = float((_WEIGHTS * expected).sum())
    if chance <= 0:
        return None  # both raters gave one and the same grade throughout: κ is undefined
    return 1.0 - float((_WEIGHTS * observed).sum()) / chance


def weighted_kappa(first: Sequence[int], second: Sequence[int]) -> float | None:
    """Quadratic-weighted Cohen's κ of two raters' 0–3 grades of the same items."""
    return _kappa_of_table(_confusion(first, second))


def _percentile_interval(draws: Sequence[float]) -> tuple[float, float] | None:
    values = [value for value in draws if value is not None and np.isfinite(value)]
    if not values:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _query_draws(queries: int, seed: int) -> np.ndarray:
    """Per bootstrap draw, how many times each query was drawn (queries resampled)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, queries, size=(BOOTSTRAP_SAMPLES, queries))
    return np.stack([np.bincount(row, minlength=queries) for row in picks])


@dataclass(frozen=True)
class KappaFigure:
    kappa: float | None
    ci: tuple[float, float] | None
    pairs: int  # graded by both
    queries: int  # the queries those pairs belong to

    @property
    def enough(self) -> bool:
        # No interval (every graded pair from one query: nothing to resample) is not enough.
        return (
            self.kappa is not None
            and self.ci is not None
            and AGREEMENT_FLOOR.met(self.pairs, self.ci)
        )

    def words(self) -> str:
        if not self.enough:
            return f"too few of your labels to tell (n = {self.pairs} pairs graded by both)"
        assert self.kappa is not None and self.ci is not None
        return (
            f"agrees with your grades κ {self.kappa:.2f} [{self.ci[0]:.2f}, {self.ci[1]:.2f}] "
            f"(n = {self.pairs} pairs, {self.queries} queries)"
        )


def kappa_figure(human: Grades, automatic: Grades, seed: int = 0) -> KappaFigure:
    """κ over the pairs both graded, with a 95% interval resampling queries."""
    tables = []
    for query_id, grades in human.items():
        theirs = automatic.get(query_id, {})
        shared = [judged_id for judged_id in grades if judged_id in theirs]
        if shared:
            tables.append(_confusion([grades[i] for i in shared], [theirs[i] for i in shared]))
    if not tables:
        return KappaFigure(None, None, 0, 0)
    per_query = np.stack(tables)
    pairs = int(per_query.sum())
    kappa = _kappa_of_table(per_query.sum(axis=0))
    interval = None
    if kappa is not None and len(tables) > 1:
        counts = _query_draws(len(tables), seed)
        resampled = np.tensordot(counts, per_query, axes=1)  # draw → 4×4 table
        interval = _percentile_interval([_kappa_of_table(table) for table in resampled])
    return KappaFigure(kappa, interval, pairs, len(tables))


@dataclass(frozen=True)
class TauFigure:
    tau: float | None
    ci: tuple[float, float] | None
    queries: int
    retrievers: int
    metric: str

    @property
    def enough(self) -> bool:
        return (
            self.tau is not None
            and self.retrievers >= LEAST_RETRIEVERS
            and CORRELATION_FLOOR.met(self.queries, self.ci)
        )

    def words(self) -> str:
        if self.retrievers < LEAST_RETRIEVERS:
            return f"ranking τ needs {LEAST_RETRIEVERS} retrievers or more ({self.retrievers} here)"
        if self.queries < CORRELATION_FLOOR.minimum:
            return f"ranking τ: too few of your labels to tell (n = {self.queries} queries)"
        if self.tau is None:
            return (
                f"ranking τ undefined: every retriever scores alike under one of the two "
                f"(n = {self.queries} queries)"
            )
        if not self.enough:
            return f"ranking τ: too few of your labels to tell (n = {self.queries} queries)"
        assert self.ci is not None
        return (
            f"ranking τ {self.tau:.2f} [{self.ci[0]:.2f}, {self.ci[1]:.2f}] "
            f"(n = {self.queries} queries, {self.retrievers} retrievers, {self.metric})"
        )


def _kendall(first: np.ndarray, second: np.ndarray) -> float | None:
    from scipy import stats as scipy_stats

    value = scipy_stats.kendalltau(first, second).statistic
    return None if value is None or not np.isfinite(value) else float(value)


def tau_figure(human: Grades, automatic: Grades, runs: Runs, k: int, seed: int = 0) -> TauFigure:
    """τ between the retrievers' order under each source's grades (see the module's
    docstring), with a 95% interval resampling queries."""
    from ragtui.metrics import condensed_ndcg

    metric = f"nDCG'@{k} on the pairs graded by both"
    names = list(runs)
    shared: dict[str, dict[str, int]] = {}
    theirs: dict[str, dict[str, int]] = {}
    for query_id, grades in human.items():
        other = automatic.get(query_id, {})
        both = [judged_id for judged_id in grades if judged_id in other]
        if both:
            shared[query_id] = {judged_id: grades[judged_id] for judged_id in both}
            theirs[query_id] = {judged_id: other[judged_id] for judged_id in both}
    queries = sorted(shared)
    if not queries or len(names) < LEAST_RETRIEVERS:
        return TauFigure(None, None, len(queries), len(names), metric)
    # query × retriever figures under each source's grades, computed once.
    by_person = np.zeros((len(queries), len(names)))
    by_labeller = np.zeros((len(queries), len(names)))
    for column, name in enumerate(names):
        person = condensed_ndcg(shared, runs[name], k)
        labeller = condensed_ndcg(theirs, runs[name], k)
        for row, query_id in enumerate(queries):
            by_person[row, column] = person.get(query_id, 0.0)
            by_labeller[row, column] = labeller.get(query_id, 0.0)
    tau = _kendall(by_person.mean(axis=0), by_labeller.mean(axis=0))
    interval = None
    if tau is not None and len(queries) > 1:
        counts = _query_draws(len(queries), seed)
        person_means = counts @ by_person / len(queries)
        labeller_means = counts @ by_labeller / len(queries)
        interval = _percentile_interval(
            [_kendall(one, other) for one, other in zip(person_means, labeller_means, strict=True)]
        )
    return TauFigure(tau, interval, len(queries), len(names), metric)


@dataclass(frozen=True)
class LabellerAgreement:
    """One labeller against the person, on one test set of one corpus."""

    labeller: str  # the source's description
    your_grades: int  # the person's grades on the set's queries, shared with it or not
    kappa: KappaFigure
    tau: TauFigure | None  # None where no retriever rankings were given

    def sentence(self) -> str:
        """``labeller X: agrees with your grades κ 0.41 [0.22, 0.58] (n = 57 pairs, …);
        ranking τ …``, or that it was not checked."""
        head = f"labeller {self.labeller}"
        if self.kappa.pairs == 0:
            why = (
                "you have graded none of this set's pairs ('ragtui label')"
                if self.your_grades == 0
                else f"none of your {self.your_grades} grades is of a pair it graded"
            )
            return f"{head}: {NOT_CHECKED} ({why})"
        parts = [self.kappa.words()]
        if self.tau is not None:
            parts.append(self.tau.words())
        return f"{head}: " + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "labeller": self.labeller,
            "your_grades": self.your_grades,
            "kappa": {**asdict(self.kappa), "kind": KAPPA_KIND, "enough": self.kappa.enough},
            "tau": None if self.tau is None else {**asdict(self.tau), "enough": self.tau.enough},
            "sentence": self.sentence(),
        }


def labeller_agreement(
    labeller: str,
    human: Grades,
    automatic: Grades,
    runs: Runs | None = None,
    k: int = 10,
    seed: int = 0,
) -> LabellerAgreement:
    """κ (and τ where ``runs`` are given) of one labeller's grades against the person's."""
    your_grades = sum(len(grades) for grades in human.values())
    kappa = kappa_figure(human, automatic, seed)
    tau = None if runs is None else tau_figure(human, automatic, runs, k, seed)
    return LabellerAgreement(labeller, your_grades, kappa, tau)
