"""Paired tests against scipy, and Bradley–Terry on votes drawn from known strengths."""

import numpy as np
import pytest
from scipy import stats

from ragtui.experiment.stats.comparisons import (
    bradley_terry,
    bradley_terry_with_intervals,
    clustered_comparison,
    compare_paired,
    paired_bootstrap_ci,
    paired_permutation_p,
    percentile,
)


def _scipy_paired_p(a: np.ndarray, b: np.ndarray, resamples: int) -> float:
    result = stats.permutation_test(
        (b, a),
        lambda x, y: np.mean(x - y),
        permutation_type="samples",
        n_resamples=resamples,
        alternative="two-sided",
        random_state=1,
    )
    return float(result.pvalue)


def test_exact_permutation_p_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(0.5, 0.2, 12)
    b = a + rng.normal(0.08, 0.15, 12)
    ours = paired_permutation_p(b - a)
    # 2**12 patterns: scipy enumerates them all as well.
    assert ours == pytest.approx(_scipy_paired_p(a, b, 10_000), abs=1e-9)


def test_sampled_permutation_p_agrees_with_scipy() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(0.5, 0.2, 60)
    b = a + rng.normal(0.04, 0.2, 60)
    ours = paired_permutation_p(b - a, samples=20_000, seed=2)
    assert ours == pytest.approx(_scipy_paired_p(a, b, 20_000), abs=0.015)


def test_bootstrap_interval_agrees_with_scipy_percentile_interval() -> None:
    rng = np.random.default_rng(5)
    differences = rng.normal(0.1, 0.3, 80)
    low, high = paired_bootstrap_ci(differences, samples=20_000)
    reference = stats.bootstrap(
        (differences,), np.mean, n_resamples=20_000, method="percentile", random_state=1
    ).confidence_interval
    assert low == pytest.approx(reference.low, abs=0.01)
    assert high == pytest.approx(reference.high, abs=0.01)
    assert low < differences.mean() < high


def test_compare_paired_finds_a_real_difference_and_not_a_null_one() -> None:
    rng = np.random.default_rng(6)
    base = rng.uniform(0, 1, 50)
    better = compare_paired(base, base + 0.1 + rng.normal(0, 0.05, 50))
    same = compare_paired(base, base + rng.normal(0, 0.05, 50))
    assert better is not None and same is not None
    assert better.p_value < 0.001 and better.ci_low > 0.05
    assert same.p_value > 0.01 and same.ci_low < 0 < same.ci_high
    assert compare_paired([0.5], [0.7]) is None


def test_percentile_skips_missing_values() -> None:
    assert percentile([1.0, None, 3.0], 50) == 2.0
    assert percentile([None], 95) is None


def test_bradley_terry_recovers_known_strengths() -> None:
    truth = {"x": 1.0, "y": 0.0, "z": -1.0}
    rng = np.random.default_rng(7)
    outcomes = []
    for first, second in [("x", "y"), ("y", "z"), ("x", "z")] * 400:
        p_first = 1 / (1 + np.exp(truth[second] - truth[first]))
        outcomes.append((first, second, float(rng.random() < p_first)))
    estimated = bradley_terry(outcomes)
    for name, value in truth.items():
        assert estimated[name] == pytest.approx(value, abs=0.15)


def test_bradley_terry_intervals_order_and_stay_finite_for_a_clean_sweep() -> None:
    outcomes = [("a", "b", 1.0)] * 8 + [("b", "c", 1.0)] * 8 + [("a", "c", 0.5)] * 2
    strengths = bradley_terry_with_intervals(outcomes, samples=200)
    assert strengths[0].name == "a"
    for strength in strengths:
        assert np.isfinite(strength.log_strength)
        assert strength.ci_low <= strength.log_strength <= strength.ci_high


def test_bradley_terry_intervals_resample_whole_queries() -> None:
    # 30 queries, each judged once per pair of pipelines; the same outcomes copied five
    # times within their query add no evidence, and resampling queries sees that.
    rng = np.random.default_rng(3)
    base, queries = [], []
    for number in range(30):
        for first, second, p_first in (("a", "b", 0.7), ("b", "c", 0.6), ("a", "c", 0.8)):
            base.append((first, second, float(rng.random() < p_first)))
            queries.append(f"q{number}")
    copied = [outcome for outcome in base for _ in range(5)]
    copied_queries = [query for query in queries for _ in range(5)]

    def width(outcomes, units=None) -> float:
        strengths = bradley_terry_with_intervals(outcomes, samples=300, queries=units)
        top = next(s for s in strengths if s.name == "a")
        return top.ci_high - top.ci_low

    by_query = width(base, queries)
    assert width(copied, copied_queries) == pytest.approx(by_query, rel=0.25)
    assert width(copied) < 0.6 * by_query  # per-outcome resampling: falsely narrow
    with pytest.raises(ValueError):
        bradley_terry_with_intervals(base, samples=10, queries=queries[:-1])


def test_adjusted_p_values_equal_statsmodels_benjamini_hochberg() -> None:
    from statsmodels.stats.multitest import multipletests

    from ragtui.experiment.stats.comparisons import adjust_p_values

    raw = [0.001, 0.04, 0.03, 0.5, 0.011, None, 0.2]
    rows = [{"p_value": p} for p in raw]
    adjust_p_values(rows)
    tested = [p for p in raw if p is not None]
    _, expected, _, _ = multipletests(tested, method="fdr_bh")
    got = [row["p_adjusted"] for row in rows if row["p_value"] is not None]
    assert got == pytest.approx(list(expected), abs=1e-12)
    assert "p_adjusted" not in rows[5]  # nothing was tested there
    assert all(row["p_adjusted"] >= row["p_value"] for row in rows if row["p_value"])


def test_grouped_differences_resample_whole_queries() -> None:
    """Three retrievers' answers to one query are one draw: an interval over 3 × 20 units
    drawn one by one is about √3 narrower than the 20 queries support."""
    rng = np.random.default_rng(21)
    per_query = rng.normal(-0.05, 0.2, 20)
    groups = [[value] * 3 for value in per_query]  # each query's 3 units agree
    grouped = clustered_comparison(groups, seed=4)
    # With equal group sizes the query-level bootstrap is the bootstrap of query means.
    assert (grouped.ci_low, grouped.ci_high) == paired_bootstrap_ci(per_query, seed=4)
    assert grouped.n == 20 and grouped.mean_difference == pytest.approx(per_query.mean())
    as_units = compare_paired(np.zeros(60), np.repeat(per_query, 3))
    ratio = (grouped.ci_high - grouped.ci_low) / (as_units.ci_high - as_units.ci_low)
    assert 1.4 < ratio < 2.1  # about √3
    # The permutation test flips whole queries: its p is the paired test's on query sums.
    assert grouped.p_value == paired_permutation_p(np.array([sum(g) for g in groups]), seed=4)
    assert clustered_comparison([[0.1, 0.2]]) is None  # one query: nothing to resample
