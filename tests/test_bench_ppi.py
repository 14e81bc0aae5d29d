"""bench_ppi's two-phase design (a uniform pilot, then Neyman allocation over strata): its
probabilities, and an estimate that stays unbiased although the second batch's
probabilities are chosen from the pilot's grades."""

from __future__ import annotations

import numpy as np

from benchmarks.bench_ppi import design_strata, stratified_inclusion
from ragtui.experiment.stats.ppi import POISSON, HumanSample, prediction_powered


def _pool(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """3,000 pairs, three retrievers' ranks (0: not ranked), grades 0–4 more often
    relevant when ranked high by several, and an 85% labeller."""
    rng = np.random.default_rng(seed)
    size = 3_000
    ranks = np.where(rng.random((3, size)) < 0.5, rng.integers(1, 11, (3, size)), 0)
    ranks[:, ranks.sum(axis=0) == 0] = 10  # every pool pair is someone's
    placed = (ranks > 0).sum(axis=0)
    relevant = rng.random(size) < 0.05 + 0.08 * placed
    grades = np.where(relevant, rng.integers(1, 5, size), 0).astype(float)
    keep = rng.random(size) < 0.85
    labeller = np.where(keep, grades, (grades + rng.integers(1, 5, size)) % 5)
    weights = np.where(ranks > 0, 1 / np.log2(np.where(ranks > 0, ranks, 1) + 1), 0) / 100
    return ranks, grades, labeller, weights


def test_the_second_batch_probabilities() -> None:
    ranks, grades, labeller, weights = _pool(seed=1)
    pilot = np.random.default_rng(2).choice(len(grades), 100, replace=False)
    strata = design_strata(ranks, labeller)
    inclusion = stratified_inclusion(weights, strata, pilot, grades[pilot], labeller, 300)
    rest = np.ones(len(grades), dtype=bool)
    rest[pilot] = False
    assert np.all(inclusion[pilot] == 1.0)
    assert np.all((inclusion[rest] > 0) & (inclusion[rest] <= 1))
    assert abs(inclusion[rest].sum() - 300) < 1e-6
    # Neyman: the labeller's zero grades (rarely wrong in the pilot) are drawn less often
    zero = rest & (labeller == 0)
    assert inclusion[zero].mean() < inclusion[rest & (labeller > 0)].mean()


def test_two_phase_estimate_is_unbiased() -> None:
    """Over 1,500 two-phase samples (a new pilot of 100 each time, then about 300 pairs by
    the pilot's allocation), the corrected DCG-like figures' mean lies within 3 standard
    errors of the truth, with and without the labeller; an estimate that treated the
    second batch as uniform would be far off."""
    ranks, grades, labeller, weights = _pool(seed=1)
    target = weights @ grades
    rng = np.random.default_rng(3)
    size, draws = len(grades), 1_500
    for automatic in (labeller, None):
        strata = design_strata(ranks, automatic)
        estimates = np.empty((draws, len(weights)))
        naive = np.empty((draws, len(weights)))
        for draw in range(draws):
            pilot = rng.choice(size, 100, replace=False)
            inclusion = stratified_inclusion(weights, strata, pilot, grades[pilot], automatic, 300)
            second = np.flatnonzero(rng.random(size) < inclusion)
            rows = np.union1d(pilot, second)  # the pilot's grades, and the new batch's
            sample = HumanSample(rows, grades[rows], inclusion[rows], POISSON, size)
            estimates[draw] = prediction_powered(weights, sample, automatic).estimate
            naive[draw] = weights[:, rows] @ grades[rows] * size / len(rows)
        standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(draws)
        assert np.all(np.abs(estimates.mean(axis=0) - target) < 3 * standard_error)
        assert np.all(np.abs(naive.mean(axis=0) - target) > 10 * standard_error)
