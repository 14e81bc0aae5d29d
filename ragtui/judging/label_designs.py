"""How ``label --budget`` draws the person's sample: the designs and their inclusion
probabilities.

- ``uniform``: ``budget`` pairs without replacement, each with probability budget / N
  (drawn in ``label_queue``, as before).
- ``rank-prior``: Poisson, each pair with its own probability from where the compared
  retrievers ranked it (``rank_prior_inclusion``).
- ``labeller``: Poisson, each pair's probability growing with a labeller model's
  uncertainty about it (``labeller_inclusion``).

A Poisson design draws every pair independently with its probability π (``poisson_draw``):
the number drawn is random, ``budget`` on average, and π is each pair's exact chance of
being drawn, so the Horvitz–Thompson weights 1/π make the estimate unbiased however the
probabilities were chosen. A share of every active design is spread evenly over the pool
(``UNIFORM_SHARE``) so that no pair has π = 0: a pair that could never be drawn would be
missing from the estimate whatever its grade. ``benchmarks/bench_ppi.py`` measures the
rank prior against the uniform sample on Cranfield.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

UNIFORM = "uniform"
RANK_PRIOR = "rank-prior"
LABELLER = "labeller"
DESIGNS = (UNIFORM, RANK_PRIOR, LABELLER)

UNIFORM_SHARE = 0.3  # of an active sample's expected size spread evenly (every π > 0)
TOP_GRADE = 3  # the person's and the labellers' 0–3 scale


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
    inside = ranks > 0
    prior = np.where(inside, 1.0 / np.log2(np.where(inside, ranks, 1) + 1.0), 0.0).mean(axis=0)
    placed = inside.sum(axis=0)
    spread = placed + placed * (count - placed)
    return _mixed(np.sqrt(prior * spread), expected)


def grade_uncertainty(grade: int | None, expected_grade: float | None = None) -> float:
    """How unsure a labeller is of a pair's grade on the 0–3 scale: √(s (3 − s)), the
    largest standard deviation a 0–3 grade with mean s can have.

    s is the expected grade where the labeller gave one (read from its log-probabilities
    of "0".."3"), else its grade: then the middle grades 1 and 2 count as unsure and 0 or 3
    as sure (the sample stratified by the labeller's grade). A pair it did not grade, or
    abstained on, is as unsure as can be (s = 1.5)."""
    if expected_grade is not None and 0.0 <= expected_grade <= TOP_GRADE:
        value = float(expected_grade)
    elif grade is not None:
        value = float(grade)
    else:
        value = TOP_GRADE / 2
    value = min(max(value, 0.0), float(TOP_GRADE))
    return float(np.sqrt(value * (TOP_GRADE - value)))


def labeller_inclusion(uncertainty: Iterable[float], expected: float) -> np.ndarray:
    """Poisson inclusion probabilities growing with the labeller's uncertainty of each pair
    (``grade_uncertainty``), mixed with a uniform share so every π > 0.

    Where the labeller is sure its grade is probably right and the correction has little to
    fix; where it is unsure the person's grade moves the estimate most (active inference,
    Zrnic & Candès 2024: π ∝ the prediction's uncertainty)."""
    return _mixed(np.asarray(list(uncertainty), dtype=float), expected)


def _mixed(score: np.ndarray, expected: float) -> np.ndarray:
    """``expected`` × (UNIFORM_SHARE evenly + the rest in proportion to ``score``), capped
    at 1 with the excess handed to the other pairs in proportion (Σπ stays ``expected``
    until every pair is certain)."""
    size = len(score)
    if size == 0:
        return np.zeros(0)
    total = float(score.sum())
    if total > 0:
        inclusion = expected * (UNIFORM_SHARE / size + (1 - UNIFORM_SHARE) * score / total)
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
