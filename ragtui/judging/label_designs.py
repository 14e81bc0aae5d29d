"""How ``label --budget`` draws the person's sample: the designs and their inclusion
probabilities.

- ``uniform``: ``budget`` pairs without replacement, each with probability budget / N
  (drawn in ``label_queue``, as before).
- ``rank-prior``: Poisson, each pair with its own probability from where the compared
  retrievers ranked it (``rank_prior_inclusion``).
- ``labeller``: Poisson, each pair's probability growing with how far the person's grade
  is expected to lie from the labeller's (``correction_spread``, ``labeller_inclusion``).

A Poisson design draws every pair independently with its probability π (``poisson_draw``):
the number drawn is random, ``budget`` on average, and π is each pair's exact chance of
being drawn, so the Horvitz–Thompson weights 1/π make the estimate unbiased however the
probabilities were chosen. A share of every active design is spread evenly over the pool
(``UNIFORM_SHARE``, ``LABELLER_UNIFORM_SHARE``) so that no pair has π = 0: a pair that
could never be drawn would be missing from the estimate whatever its grade.
``benchmarks/bench_ppi.py`` measures both active designs against the uniform sample on
Cranfield.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

UNIFORM = "uniform"
RANK_PRIOR = "rank-prior"
LABELLER = "labeller"
DESIGNS = (UNIFORM, RANK_PRIOR, LABELLER)

UNIFORM_SHARE = 0.3  # of an active sample's expected size spread evenly (every π > 0)
# The labeller design's even share is larger: its steering trusts the labeller's own doubt,
# and where that is wrong (a relevant pair it was sure was a 0) the pair is drawn at the
# floor probability. With a floor of 0.3 the few such pairs carried most of the variance
# and were missing from about one sample in five, so the interval fell below the truth:
# on Cranfield with the 85% labeller, 800 labels, DCG@10's normal interval covered
# 0.76–0.89 with a share of 0.3, 0.87–0.95 with 0.5 and 0.92–0.94 with 0.7 (development
# runs of 300 draws on benchmarks/bench_ppi.py's pool).
LABELLER_UNIFORM_SHARE = 0.7
TOP_GRADE = 3  # the person's and the labellers' 0–3 scale
# The weight the estimate is expected to give the labeller's grades when the sample is
# drawn (the estimate tunes its own λ later). Only steers where labels go; 0.5 sits between
# a labeller without signal (λ ≈ 0) and the 85% labeller of benchmarks/bench_ppi.py (≈ 0.65).
PLANNING_LAMBDA = 0.5


def rank_prior_inclusion(ranks: np.ndarray, expected: float) -> np.ndarray:
    """Poisson inclusion probabilities from where the retrievers ranked each pair.

    ``ranks``: R × N, each retriever's rank of each pool pair (from 1; 0 where it did not
    rank it). Neyman's allocation for a Horvitz–Thompson total samples a pair in proportion
    to the spread of what it contributes: √(P(relevant) · Σ weight²). P(relevant) is guessed
    from the ranks (mean of 1/log2(rank + 1) over the retrievers, 0 where unranked); the
    weights are P@10's for each retriever and for each gap between two, so a document some
    retrievers rank and others do not counts more. A uniform share keeps every π > 0.
    """
    ranks = np.asarray(ranks)
    count = len(ranks)
    placed = (ranks > 0).sum(axis=0)
    spread = placed + placed * (count - placed)
    return _mixed(np.sqrt(rank_prior(ranks) * spread), expected)


def rank_prior(ranks: np.ndarray) -> np.ndarray:
    """A guess of how likely each pool pair is relevant, from where the retrievers ranked
    it: the mean over the retrievers of 1/log2(rank + 1), 0 where one did not rank it
    (``ranks``: R × N, from 1; 0 where not ranked). Not a probability, only a score that
    rises with it: a pair ranked high by several retrievers is more often relevant.

    It steers the rank-prior design, and without a labeller it is the prediction the
    person's grades correct (``ragtui.experiment.run.corrected_estimates``): it depends on
    no grade, so the estimate stays unbiased, and λ tunes how far to follow it."""
    ranks = np.asarray(ranks)
    if ranks.size == 0:
        return np.zeros(ranks.shape[-1] if ranks.ndim else 0)
    inside = ranks > 0
    return np.where(inside, 1.0 / np.log2(np.where(inside, ranks, 1) + 1.0), 0.0).mean(axis=0)


def grade_uncertainty(grade: int | None, expected_grade: float | None = None) -> float:
    """How unsure a labeller is of a pair's grade on the 0–3 scale: √(s (3 − s)), the
    largest standard deviation a 0–3 grade with mean s can have.

    s is the expected grade where the labeller gave one (read from its log-probabilities
    of "0".."3"), else its grade: then the middle grades 1 and 2 count as unsure and 0 or 3
    as sure (the sample stratified by the labeller's grade). A pair it did not grade, or
    abstained on, is as unsure as can be (s = 1.5)."""
    value = _expected(grade, expected_grade)
    return float(np.sqrt(value * (TOP_GRADE - value)))


def correction_spread(grade: int | None, expected_grade: float | None = None) -> float:
    """How far the person's grade y of a pair is expected to lie from what the estimate
    takes from the labeller's, λ s: √(E[(y − λ s)²]) = √(u² + (1 − λ)² s²), with u the
    labeller's ``grade_uncertainty``, s its (expected) grade and λ = ``PLANNING_LAMBDA``.

    A Poisson sample's Horvitz–Thompson correction has variance Σ (1 − π)/π · r² over the
    pool, r the pair's residual y − λ f; it is smallest with π ∝ √E[r²] (Neyman). The
    labeller's uncertainty alone (the older rule) is only right for λ = 1: with λ < 1 a pair
    the labeller is sure is a 3 still leaves a residual of (1 − λ)·3, and drawing those pairs
    at the floor probability gave them weights 1/π of ~90 at 200 labels. On Cranfield
    (benchmarks/bench_ppi.py, 85% labeller, 200 labels) that rule's DCG@10 interval covered
    0.73–0.76 and needed more labels than a uniform sample; see the README's table."""
    value = _expected(grade, expected_grade)
    uncertainty = grade_uncertainty(grade, expected_grade)
    return float(np.sqrt(uncertainty**2 + ((1 - PLANNING_LAMBDA) * value) ** 2))


def _expected(grade: int | None, expected_grade: float | None) -> float:
    """The grade ``grade_uncertainty`` reads: the expected grade, else the grade, else 1.5."""
    if expected_grade is not None and 0.0 <= expected_grade <= TOP_GRADE:
        value = float(expected_grade)
    elif grade is not None:
        value = float(grade)
    else:
        value = TOP_GRADE / 2
    return min(max(value, 0.0), float(TOP_GRADE))


def labeller_inclusion(spread: Iterable[float], expected: float) -> np.ndarray:
    """Poisson inclusion probabilities in proportion to each pair's ``correction_spread``,
    mixed with a uniform share so every π > 0.

    Where the labeller says 0 and is sure, the correction has little to fix; where it is
    unsure, or grades high (the estimate keeps only part of its grade), the person's grade
    moves the estimate most (active inference, Zrnic & Candès 2024: π ∝ the expected size
    of the residual)."""
    return _mixed(np.asarray(list(spread), dtype=float), expected, LABELLER_UNIFORM_SHARE)


def _mixed(score: np.ndarray, expected: float, share: float = UNIFORM_SHARE) -> np.ndarray:
    """``expected`` × (``share`` evenly + the rest in proportion to ``score``), capped at 1
    with the excess handed to the other pairs in proportion (Σπ stays ``expected`` until
    every pair is certain)."""
    size = len(score)
    if size == 0:
        return np.zeros(0)
    total = float(score.sum())
    if total > 0:
        inclusion = expected * (share / size + (1 - share) * score / total)
    else:  # nothing to steer by: the uniform design's probabilities
        inclusion = np.full(size, expected / size)
    for _ in range(50):
        over = inclusion > 1
        if not over.any():
            break
        excess = float((inclusion[over] - 1).sum())
        inclusion[over] = 1.0
        free = inclusion < 1
        if not free.any():
            break
        inclusion[free] += excess * inclusion[free] / inclusion[free].sum()
    return np.minimum(inclusion, 1.0)


def poisson_draw(inclusion: np.ndarray, seed: int) -> np.ndarray:
    """The rows drawn: each pair independently, with probability exactly its π (one
    uniform number per pair, seeded, so the same seed draws the same sample)."""
    inclusion = np.asarray(inclusion, dtype=float)
    uniform = np.random.default_rng(seed).random(len(inclusion))
    return np.flatnonzero(uniform < inclusion)


def sampling_words(sampling: str) -> str:
    """How a sample was drawn, in the report's words ("… of your grades on {words} of …")."""
    weighted = "Poisson, each grade weighted by the inverse of its recorded inclusion probability"
    if sampling == RANK_PRIOR:
        return f"a rank-prior random sample ({weighted})"
    if sampling == LABELLER:
        return f"a labeller-uncertainty random sample ({weighted})"
    return "a random sample"
