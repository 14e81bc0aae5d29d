"""Paired comparisons over queries, percentiles, and Bradley–Terry strengths from votes.

Every resampling function takes a seed, so a report is reproducible run to run. The rules
(floors, the unit of resampling, the corrections) are ``ragtui.evidence_rules``'s.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ragtui.evidence_rules import PAIRWISE_FAMILY

BOOTSTRAP_SAMPLES = 10_000
PERMUTATIONS = 10_000
EXACT_PERMUTATION_MAX_N = 14  # 2**14 sign patterns: cheaper to enumerate than to sample


MULTIPLICITY_CORRECTION = PAIRWISE_FAMILY.correction


def adjust_p_values(rows: Sequence[dict]) -> None:
    """Add ``p_adjusted`` to each row that has a ``p_value``: Benjamini–Hochberg over the
    rows given together (one family of comparisons), through scipy.

    Many pairwise tests in one report make some small p-values by chance; the adjusted
    ones keep the expected share of false findings among those called significant at 5%.
    """
    from scipy.stats import false_discovery_control

    tested = [row for row in rows if row.get("p_value") is not None]
    if not tested:
        return
    adjusted = false_discovery_control([row["p_value"] for row in tested], method="bh")
    for row, value in zip(tested, np.atleast_1d(adjusted).tolist(), strict=True):
        row["p_adjusted"] = float(value)


def percentile(values: Sequence[float | None], q: float) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.percentile(present, q)) if present else None


@dataclass(frozen=True)
class PairedComparison:
    """Mean of ``b - a`` over queries, a bootstrap interval for it and a permutation p."""

    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int


def paired_bootstrap_ci(
    differences: np.ndarray,
    confidence: float = 0.95,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the mean difference, resampling queries with replacement."""
    rng = np.random.default_rng(seed)
    n = len(differences)
    picks = rng.integers(0, n, size=(samples, n))
    means = differences[picks].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_permutation_p(
    differences: np.ndarray, samples: int = PERMUTATIONS, seed: int = 0
) -> float:
    """Two-sided p of the mean difference under random sign flips (paired permutation).

    Small samples enumerate every sign pattern; larger ones sample patterns and count the
    observed one, so p is never 0.
    """
    n = len(differences)
    observed = abs(differences.mean())
    tolerance = 1e-12 * max(1.0, observed)
    if n <= EXACT_PERMUTATION_MAX_N:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        means = np.abs(signs @ differences / n)
        return float(np.mean(means >= observed - tolerance))
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(samples, n))
    means = np.abs(signs @ differences / n)
    return float((np.sum(means >= observed - tolerance) + 1) / (samples + 1))


def compare_paired(
    first: Sequence[float], second: Sequence[float], seed: int = 0
) -> PairedComparison | None:
    """second − first, paired by position (query); None with fewer than two pairs."""
    differences = np.asarray(second, dtype=float) - np.asarray(first, dtype=float)
    if len(differences) < 2:
        return None
    low, high = paired_bootstrap_ci(differences, seed=seed)
    return PairedComparison(
        mean_difference=float(differences.mean()),
        ci_low=low,
        ci_high=high,
        p_value=paired_permutation_p(differences, seed=seed),
        n=len(differences),
    )


def clustered_comparison(
    groups: Sequence[Sequence[float]],
    confidence: float = 0.95,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> PairedComparison | None:
    """Mean of paired differences that come in groups, one group per query, with the query
    as the unit of resampling; None with fewer than two queries.

    A query answered from several retrievers' passages gives several differences, which are
    not independent: drawing them one by one would narrow the interval by up to the square
    root of the group size. The bootstrap draws whole queries (the mean over the drawn
    units), and the permutation test flips the sign of a whole query's differences.
    """
    present = [list(group) for group in groups if len(group)]
    if len(present) < 2:
        return None
    sums = np.array([sum(group) for group in present], dtype=float)
    sizes = np.array([len(group) for group in present], dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(present), size=(samples, len(present)))
    means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return PairedComparison(
        mean_difference=float(sums.sum() / sizes.sum()),
        ci_low=float(low),
        ci_high=float(high),
        # Under sign flips of whole queries the total count is fixed, so the mean of the
        # flipped per-query sums orders the patterns exactly as the mean difference does.
        p_value=paired_permutation_p(sums, seed=seed),
        n=len(present),
    )


# Bradley–Terry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Strength:
    """log-strength (0 = average) with a bootstrap interval; win chance against average."""

    name: str
    log_strength: float
    ci_low: float
    ci_high: float
    comparisons: int

    @property
    def p_beats_average(self) -> float:
        return 1 / (1 + math.exp(-self.log_strength))


def bradley_terry(
    outcomes: Sequence[tuple[str, str, float]], iterations: int = 500, prior: float = 0.5
) -> dict[str, float]:
    """Log-strengths from (first, second, score of first: 1 win, 0.5 tie, 0 loss).

    Hunter's MM updates. Each pair also gets ``prior`` virtual ties, a light
    regularisation that keeps strengths finite when one side won every time.
    """
    return bradley_terry_counts(
        [(first, second, score, 1.0) for first, second, score in outcomes], iterations, prior
    )


def bradley_terry_counts(
    records: Sequence[tuple[str, str, float, float]], iterations: int = 500, prior: float = 0.5
) -> dict[str, float]:
    """Log-strengths from (first, second, wins of first, games): ``bradley_terry`` on
    outcomes already summed per pair (wins may be fractional: ties, or a corrected rate
    times the pair's games)."""
    names = sorted({name for first, second, _, _ in records for name in (first, second)})
    if len(names) < 2:
        return {name: 0.0 for name in names}
    index = {name: position for position, name in enumerate(names)}
    size = len(names)
    wins = np.zeros(size)
    games = np.zeros((size, size))
    for first, second, won, played in records:
        i, j = index[first], index[second]
        wins[i] += won
        wins[j] += played - won
        games[i, j] += played
        games[j, i] += played
    for i, j in itertools.combinations(range(size), 2):
        if games[i, j]:
            games[i, j] += prior
            games[j, i] += prior
            wins[i] += prior / 2
            wins[j] += prior / 2
    strengths = np.ones(size)
    for _ in range(iterations):
        totals = strengths[:, None] + strengths[None, :]
        denominators = (games / totals).sum(axis=1)
        updated = np.where(denominators > 0, wins / np.maximum(denominators, 1e-300), strengths)
        updated = np.maximum(updated, 1e-300)
        updated /= np.exp(np.mean(np.log(updated)))
        if np.max(np.abs(updated - strengths)) < 1e-10:
            strengths = updated
            break
        strengths = updated
    return {name: float(np.log(strengths[index[name]])) for name in names}


def bradley_terry_with_intervals(
    outcomes: Sequence[tuple[str, str, float]],
    samples: int = 1000,
    seed: int = 0,
    queries: Sequence[str] | None = None,
) -> list[Strength]:
    """Strengths with 95% intervals from resampling; strongest first.

    With ``queries`` (the query of each outcome) whole queries are resampled, the unit
    evidence_rules names: the outcomes of one query (every pair of pipelines on it) share
    that query's difficulty, and resampling them one by one makes the interval too narrow.
    Without it each outcome is its own unit (votes, one per query and pair).
    """
    if not outcomes:
        return []
    if queries is not None and len(queries) != len(outcomes):
        raise ValueError("queries must name the query of every outcome")
    point = bradley_terry(outcomes)
    rng = np.random.default_rng(seed)
    units: list[list[int]]
    if queries is None:
        units = [[position] for position in range(len(outcomes))]
    else:
        by_query: dict[str, list[int]] = {}
        for position, query in enumerate(queries):
            by_query.setdefault(query, []).append(position)
        units = list(by_query.values())
    draws: dict[str, list[float]] = {name: [] for name in point}
    for _ in range(samples):
        picks = rng.integers(0, len(units), size=len(units))
        chosen = [outcomes[position] for pick in picks for position in units[pick]]
        resampled = bradley_terry(chosen, iterations=200)
        for name in point:
            if name in resampled:
                draws[name].append(resampled[name])
    counts = {name: 0 for name in point}
    for first, second, _ in outcomes:
        counts[first] += 1
        counts[second] += 1
    strengths = []
    for name, value in point.items():
        low, high = np.percentile(draws[name], [2.5, 97.5]) if draws[name] else (value, value)
        strengths.append(Strength(name, value, float(low), float(high), counts[name]))
    return sorted(strengths, key=lambda strength: -strength.log_strength)
