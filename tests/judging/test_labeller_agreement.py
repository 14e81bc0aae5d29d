"""A labeller's agreement with the person: κ equals scikit-learn's quadratic-weighted
Cohen's κ on the same pairs, τ equals scipy's Kendall τ between the two rankings (each
computed by hand here), intervals resample queries, and the floors and the "not checked"
words hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn.metrics import cohen_kappa_score

from ragtui.evidence_rules import AGREEMENT_FLOOR
from ragtui.judging.labeller_agreement import (
    kappa_figure,
    labeller_agreement,
    tau_figure,
    weighted_kappa,
)


def _grades(seed: int, queries: int = 15, per_query: int = 6, agree: float = 0.6):
    """The person's and a labeller's grades of the same pairs (plus some each alone)."""
    rng = np.random.default_rng(seed)
    human: dict[str, dict[str, int]] = {}
    automatic: dict[str, dict[str, int]] = {}
    for q in range(queries):
        query_id = f"q{q}"
        for p in range(per_query):
            judged_id = f"d{q}-{p}"
            grade = int(rng.integers(0, 4))
            other = grade if rng.random() < agree else int(rng.integers(0, 4))
            human.setdefault(query_id, {})[judged_id] = grade
            automatic.setdefault(query_id, {})[judged_id] = other
        # Graded by one side only: never part of the figures.
        human[query_id][f"only-person-{q}"] = 3
        automatic[query_id][f"only-labeller-{q}"] = 0
    return human, automatic


def _shared(human, automatic) -> tuple[list[int], list[int]]:
    first, second = [], []
    for query_id, grades in human.items():
        for judged_id, grade in grades.items():
            if judged_id in automatic.get(query_id, {}):
                first.append(grade)
                second.append(automatic[query_id][judged_id])
    return first, second


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kappa_equals_scikit_learns_quadratic_weighted_kappa(seed: int) -> None:
    human, automatic = _grades(seed)
    first, second = _shared(human, automatic)
    expected = cohen_kappa_score(first, second, labels=[0, 1, 2, 3], weights="quadratic")
    figure = kappa_figure(human, automatic)
    assert figure.kappa == pytest.approx(expected, abs=1e-12)
    assert figure.pairs == len(first) == 15 * 6 and figure.queries == 15
    assert figure.ci is not None and figure.ci[0] < figure.kappa < figure.ci[1]


def test_kappa_keeps_the_grade_distances_when_a_grade_is_never_used() -> None:
    # Only 0, 2 and 3 used: a 0 against a 3 is three steps, not two.
    first, second = [0, 0, 2, 3, 3, 2], [0, 3, 2, 3, 0, 2]
    expected = cohen_kappa_score(first, second, labels=[0, 1, 2, 3], weights="quadratic")
    assert weighted_kappa(first, second) == pytest.approx(expected, abs=1e-12)
    assert weighted_kappa([1, 1], [1, 1]) is None  # one grade throughout: undefined


def test_kappa_interval_resamples_queries_not_pairs() -> None:
    # Each query is all agreement or all disagreement: resampling whole queries gives a
    # much wider interval than resampling pairs would.
    human = {f"q{i}": {f"d{i}-{j}": j % 4 for j in range(8)} for i in range(12)}
    automatic = {
        query_id: {
            judged_id: grade if int(query_id[1:]) % 2 else 3 - grade
            for judged_id, grade in grades.items()
        }
        for query_id, grades in human.items()
    }
    figure = kappa_figure(human, automatic)
    low, high = figure.ci
    assert high - low > 0.8  # pair resampling gives about 0.3 here


def _ndcg_by_hand(grades: dict[str, int], ranking: list[str], k: int) -> float:
    """nDCG′@k: the ranking condensed to the graded ids, gains = grades, log2 discount."""
    condensed = [judged_id for judged_id in ranking if judged_id in grades][:k]
    dcg = sum(grades[i] / math.log2(rank + 2) for rank, i in enumerate(condensed))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / best if best else 0.0


@pytest.mark.parametrize("seed", [0, 5])
def test_tau_equals_scipys_kendall_tau_between_the_two_rankings(seed: int) -> None:
    human, automatic = _grades(seed, queries=12, per_query=8, agree=0.5)
    rng = np.random.default_rng(seed + 100)
    names = ["bm25", "dense", "hybrid", "static", "splade"]
    rankings = {
        name: {
            query_id: list(rng.permutation(sorted({*human[query_id], *automatic[query_id]})))
            for query_id in human
        }
        for name in names
    }
    runs = {
        name: {
            query_id: {judged_id: float(len(ids) - rank) for rank, judged_id in enumerate(ids)}
            for query_id, ids in by_query.items()
        }
        for name, by_query in rankings.items()
    }
    k = 5
    means = {}
    for side, grades in (("person", human), ("labeller", automatic)):
        means[side] = []
        for name in names:
            values = []
            for query_id in human:
                both = {i: grades[query_id][i] for i in human[query_id] if i in automatic[query_id]}
                values.append(_ndcg_by_hand(both, rankings[name][query_id], k))
            means[side].append(sum(values) / len(values))
    expected = scipy_stats.kendalltau(means["person"], means["labeller"]).statistic
    figure = tau_figure(human, automatic, runs, k)
    assert figure.tau == pytest.approx(expected, abs=1e-12)
    assert (figure.queries, figure.retrievers) == (12, 5)
    assert figure.ci is not None and figure.ci[0] <= figure.tau <= figure.ci[1]


def test_without_your_labels_it_says_not_checked() -> None:
    _human, automatic = _grades(0)
    agreement = labeller_agreement("openai:big (pointwise)", {}, automatic)
    assert agreement.sentence() == (
        "labeller openai:big (pointwise): not checked against your labels "
        "(you have graded none of this set's pairs ('ragtui label'))"
    )
    # Grades of other pairs are no check either.
    elsewhere = {"q0": {"not-graded-by-it": 2}}
    assert (
        "none of your 1 grades is of a pair it graded"
        in labeller_agreement("x", elsewhere, automatic).sentence()
    )


def test_below_the_floor_it_says_too_few_of_your_labels() -> None:
    human, automatic = _grades(0, queries=3, per_query=3)
    agreement = labeller_agreement("x", human, automatic)
    assert agreement.kappa.pairs == 9 < AGREEMENT_FLOOR.minimum
    assert "too few of your labels to tell (n = 9 pairs graded by both)" in agreement.sentence()
    runs = {name: {"q0": {"d0-0": 1.0}} for name in ("a", "b", "c")}
    tau = labeller_agreement("x", human, automatic, runs, k=10).tau
    assert "ranking τ: too few of your labels to tell (n = 3 queries)" in tau.words()
    two = labeller_agreement("x", human, automatic, {"a": {}, "b": {}}, k=10).tau
    assert "needs 3 retrievers or more (2 here)" in two.words()


def test_enough_labels_give_kappa_with_interval_and_n() -> None:
    human, automatic = _grades(0)
    sentence = labeller_agreement("x", human, automatic).sentence()
    figure = kappa_figure(human, automatic)
    assert sentence == (
        f"labeller x: agrees with your grades κ {figure.kappa:.2f} "
        f"[{figure.ci[0]:.2f}, {figure.ci[1]:.2f}] (n = 90 pairs, 15 queries)"
    )


def test_pairs_of_one_query_give_no_interval_and_say_too_few() -> None:
    """Twelve graded pairs, all of one query: κ is defined but a query-resampled interval
    has nothing to draw. That is too little to tell, said in words (it raised an
    AssertionError from the compare screen's live figures)."""
    grades = [0, 1, 2, 3, 0, 1, 2, 3, 0, 0, 3, 1]
    human = {"q0": {f"d{i}": grade for i, grade in enumerate(grades)}}
    automatic = {"q0": {f"d{i}": min(grade + i % 2, 3) for i, grade in enumerate(grades)}}
    figure = kappa_figure(human, automatic)
    assert figure.kappa is not None and figure.ci is None and figure.pairs == 12
    assert not figure.enough
    assert figure.words() == "too few of your labels to tell (n = 12 pairs graded by both)"
