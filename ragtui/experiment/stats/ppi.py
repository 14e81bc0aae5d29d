"""Prediction-powered estimates: automatic grades on every pool pair, corrected by the
person's grades on a random sample of them.

**What is estimated.** A figure that is linear in the grades of a fixed pool of
(query, passage) pairs: θ = Σ_p w_p y_p, with known weights w (a retriever's P@k or DCG@k
over the test set's queries is one; so is the gap between two retrievers). y_p is the
grade the *person* would give pair p. The target is finite: the figure the person's grades
of the **whole pool, on these queries,** would give. The interval covers that value: the
uncertainty of not having graded every pair. It does not cover the spread from drawing
other queries (``ragtui.evidence_rules`` resamples queries for claims that generalise
beyond the set); a claim about queries not in the set needs that spread added.

**The estimator** (Horvitz–Thompson rectifier, PPI++ power tuning). With automatic grades
f_p on every pair and the person's grades on a sample S drawn with known inclusion
probabilities π_p > 0:

    θ̂(λ) = λ Σ_all w_p f_p + Σ_{p∈S} w_p (y_p − λ f_p) / π_p

For any fixed λ it is unbiased over the draw of S, however wrong f is: the second sum
estimates the automatic grades' error without bias. λ = 1 is classic PPI, λ = 0 the
person's grades alone (Horvitz–Thompson); ``lam=None`` picks the λ in [0, 1] that minimises
the estimated variance (PPI++), so a labeller without signal gets λ ≈ 0 and the interval is
no wider than the person's grades alone would give (up to the noise of estimating λ).
Since f is known on the whole pool, Σ_all w f λ has no sampling variance: all of the
variance is the rectifier's, for the design that drew S:

- ``UNIFORM``: n pairs drawn uniformly without replacement from N (``label --budget``):
  Var = N² (1 − n/N) S²_z / n with z_p = w_p (y_p − λ f_p), S²_z estimated by the sample
  variance.
- ``POISSON``: each pair drawn independently with its own π_p (active or stratified
  sampling): Var = Σ_all (1 − π_p) z_p² / π_p, estimated by Σ_S (1 − π_p) z_p² / π_p².

The interval is normal: θ̂ ± z_{0.975} · SE. With no automatic grades the same function
gives the person-only weighted estimate (``n_automatic`` 0).

**Metrics.** P@k and DCG@k (trec_eval's: gain = grade, discount log2(rank + 1)) are linear
in the grades, so they are estimated directly. nDCG@k is not: each query's DCG is divided by
its ideal DCG, which sorts all of that query's grades. A ratio or delta-method estimator
would be needed per query, and a sample of a few hundred pairs puts one or two pairs in
most queries, where a per-query ratio is badly biased. So the corrected figures are P@k and
DCG@k, whose estimates stay unbiased at any sample size.

``ppi_py`` (ppi-python) is the reference in the tests: for a uniform sample its
``ppi_mean_ci`` assumes labelled and unlabelled draws from an infinite population
(with replacement); this module's finite-population interval equals it when n/N → 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ragtui.evidence_rules import CONFIDENCE

UNIFORM = "uniform without replacement"
POISSON = "poisson"
DESIGNS = (UNIFORM, POISSON)

METHOD_CORRECTED = "prediction-powered (PPI++, Horvitz-Thompson)"
METHOD_HUMAN_ONLY = "Horvitz-Thompson (your grades only)"

LINEAR_METRICS = ("P", "DCG")


def _normal_quantile(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


@dataclass(frozen=True)
class HumanSample:
    """The person's grades of a random sample of the pool, and how it was drawn.

    ``rows`` index the pool's pairs (the columns of the weights); ``inclusion`` is each
    pair's probability of having been drawn, as recorded when it was drawn.
    """

    rows: np.ndarray
    grades: np.ndarray
    inclusion: np.ndarray
    design: str
    pool_size: int

    def __post_init__(self) -> None:
        rows, grades, inclusion = (np.asarray(a) for a in (self.rows, self.grades, self.inclusion))
        if self.design not in DESIGNS:
            raise ValueError(f"design {self.design!r}: use one of {DESIGNS}")
        if not (len(rows) == len(grades) == len(inclusion)):
            raise ValueError("rows, grades and inclusion probabilities differ in length")
        if len(rows) and (rows.min() < 0 or rows.max() >= self.pool_size):
            raise ValueError("a sampled row lies outside the pool")
        if len(np.unique(rows)) != len(rows):
            raise ValueError("a pair is in the sample twice: the designs draw without replacement")
        if len(inclusion) and (np.any(inclusion <= 0) or np.any(inclusion > 1)):
            raise ValueError("inclusion probabilities must lie in (0, 1]")
        if self.design == UNIFORM and len(rows):
            expected = len(rows) / self.pool_size
            if not np.allclose(inclusion, expected, rtol=1e-9, atol=0.0):
                raise ValueError(
                    f"a uniform sample of {len(rows)} of {self.pool_size} pairs has inclusion "
                    f"probability {expected:.6g} for every pair; these differ (use {POISSON!r})"
                )
        object.__setattr__(self, "rows", rows.astype(np.intp))
        object.__setattr__(self, "grades", grades.astype(float))
        object.__setattr__(self, "inclusion", inclusion.astype(float))

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Interval:
    estimate: float
    ci_low: float
    ci_high: float
    std_error: float


@dataclass(frozen=True)
class CorrectedEstimate:
    """One figure: the corrected estimate, and what each source alone says."""

    estimate: float
    ci_low: float
    ci_high: float
    std_error: float
    lam: float  # the weight of the automatic grades (0: the person's grades alone)
    n_human: int
    n_automatic: int
    method: str
    human_only: Interval
    automatic_only: float | None  # no interval: its bias is unknown without the person's grades
    # Labels a person-only estimate would need for the corrected one's variance, over the
    # labels used (1.0: the automatic grades gained nothing).
    effective_labels: float


@dataclass(frozen=True)
class CorrectedTotals:
    """Vectorised results for K figures estimated from one sample (arrays of length K)."""

    estimate: np.ndarray
    std_error: np.ndarray
    lam: np.ndarray
    human_only_estimate: np.ndarray
    human_only_std_error: np.ndarray
    automatic_only: np.ndarray | None
    n_human: int
    n_automatic: int
    confidence: float

    @property
    def half_width(self) -> np.ndarray:
        return _normal_quantile(self.confidence) * self.std_error

    @property
    def ci_low(self) -> np.ndarray:
        return self.estimate - self.half_width

    @property
    def ci_high(self) -> np.ndarray:
        return self.estimate + self.half_width

    def entry(self, index: int = 0) -> CorrectedEstimate:
        z = _normal_quantile(self.confidence)
        se, human_se = float(self.std_error[index]), float(self.human_only_std_error[index])
        estimate, human = float(self.estimate[index]), float(self.human_only_estimate[index])
        gained = (human_se / se) ** 2 if se > 0 else 1.0
        return CorrectedEstimate(
            estimate=estimate,
            ci_low=estimate - z * se,
            ci_high=estimate + z * se,
            std_error=se,
            lam=float(self.lam[index]),
            n_human=self.n_human,
            n_automatic=self.n_automatic,
            method=METHOD_CORRECTED if self.n_automatic else METHOD_HUMAN_ONLY,
            human_only=Interval(human, human - z * human_se, human + z * human_se, human_se),
            automatic_only=None
            if self.automatic_only is None
            else float(self.automatic_only[index]),
            effective_labels=gained,
        )


def _tuned_lambda(
    weighted_human: np.ndarray,
    weighted_auto: np.ndarray,
    sample: HumanSample,
    weights: np.ndarray,
    automatic: np.ndarray,
) -> np.ndarray:
    """The λ in [0, 1] minimising each figure's estimated rectifier variance."""
    if sample.design == UNIFORM:
        # Var ∝ S²(wy − λ wf), so λ* = S(wy, wf) / S²(wf): the covariance estimated from
        # the sample, the variance of the automatic grades known over the whole pool.
        centred_auto = weighted_auto - weighted_auto.mean(axis=1, keepdims=True)
        centred_human = weighted_human - weighted_human.mean(axis=1, keepdims=True)
        numerator = (centred_human * centred_auto).sum(axis=1) / max(sample.size - 1, 1)
        denominator = (weights * automatic).var(axis=1, ddof=1)
    else:
        # Var = Σ_all (1 − π)/π w²(y − λ f)²: both sums estimated over the sample (HT).
        factor = (1 - sample.inclusion) / sample.inclusion**2
        numerator = (factor * weighted_human * weighted_auto).sum(axis=1)
        denominator = (factor * weighted_auto**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(denominator > 0, numerator / denominator, 0.0)
    return np.clip(lam, 0.0, 1.0)


def _rectifier(residual: np.ndarray, sample: HumanSample) -> tuple[np.ndarray, np.ndarray]:
    """Horvitz–Thompson total of the residuals over the sample and its standard error."""
    n, pool = sample.size, sample.pool_size
    if sample.design == UNIFORM:
        total = residual.sum(axis=1) * pool / n
        if n < 2:
            return total, np.full(len(residual), np.inf)
        variance = pool**2 * (1 - n / pool) * residual.var(axis=1, ddof=1) / n
    else:
        total = (residual / sample.inclusion).sum(axis=1)
        variance = ((1 - sample.inclusion) * residual**2 / sample.inclusion**2).sum(axis=1)
    return total, np.sqrt(np.maximum(variance, 0.0))


def prediction_powered(
    weights: np.ndarray,
    sample: HumanSample,
    automatic: np.ndarray | None = None,
    lam: float | None = None,
    confidence: float = CONFIDENCE,
) -> CorrectedTotals:
    """Estimate Σ_p w_p y_p for each row of ``weights`` (K figures × N pool pairs).

    ``automatic``: a grade of every pool pair (length N), or None for the person's grades
    alone. ``lam``: the automatic grades' weight (None: tuned per figure, PPI++).
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    if weights.shape[1] != sample.pool_size:
        raise ValueError(f"weights cover {weights.shape[1]} pairs, the pool {sample.pool_size}")
    if sample.size == 0:
        raise ValueError("no graded pairs in the sample")
    if lam is not None and not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam {lam}: use a value in [0, 1] or None")
    sampled_weights = weights[:, sample.rows]
    weighted_human = sampled_weights * sample.grades
    human_total, human_se = _rectifier(weighted_human, sample)
    if automatic is None:
        return CorrectedTotals(
            human_total,
            human_se,
            np.zeros(len(weights)),
            human_total,
            human_se,
            None,
            sample.size,
            0,
            confidence,
        )
    automatic = np.asarray(automatic, dtype=float)
    if automatic.shape != (sample.pool_size,):
        raise ValueError("automatic grades must cover every pool pair")
    weighted_auto = sampled_weights * automatic[sample.rows]
    lams = (
        _tuned_lambda(weighted_human, weighted_auto, sample, weights, automatic)
        if lam is None
        else np.full(len(weights), float(lam))
    )
    automatic_total = weights @ automatic
    residual_total, se = _rectifier(weighted_human - lams[:, None] * weighted_auto, sample)
    return CorrectedTotals(
        lams * automatic_total + residual_total,
        se,
        lams,
        human_total,
        human_se,
        automatic_total,
        sample.size,
        sample.pool_size,
        confidence,
    )


def labels_for_width(
    weights: np.ndarray,
    sample: HumanSample,
    width: float,
    automatic: np.ndarray | None = None,
    confidence: float = CONFIDENCE,
) -> np.ndarray:
    """Uniform sample sizes whose intervals would be ``width`` wide, per figure.

    The variance of one label, S²_z with z = w(y − λ f), is estimated from the sample
    (with each figure's tuned λ), then the uniform design's variance is solved for n:
    width = 2 z_q N √((1/n − 1/N) S²_z). At most the pool size (the whole pool, graded,
    has no sampling error).
    """
    if width <= 0:
        raise ValueError(f"width {width}: use a positive number")
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    sampled_weights = weights[:, sample.rows]
    residual = sampled_weights * sample.grades
    if automatic is not None:
        weighted_auto = sampled_weights * np.asarray(automatic, dtype=float)[sample.rows]
        lams = _tuned_lambda(residual, weighted_auto, sample, weights, np.asarray(automatic, float))
        residual = residual - lams[:, None] * weighted_auto
    pool = sample.pool_size
    if sample.design == UNIFORM:
        unit_variance = residual.var(axis=1, ddof=1) if sample.size > 1 else np.zeros(len(weights))
    else:
        # The population variance of z, with both moments estimated by Horvitz–Thompson.
        total = (residual / sample.inclusion).sum(axis=1)
        squares = (residual**2 / sample.inclusion).sum(axis=1)
        unit_variance = np.maximum(squares - total**2 / pool, 0.0) / max(pool - 1, 1)
    allowed = (width / (2 * _normal_quantile(confidence) * pool)) ** 2
    with np.errstate(divide="ignore"):
        needed = 1.0 / (allowed / unit_variance + 1.0 / pool)
    needed = np.where(unit_variance > 0, needed, 1.0)
    return np.minimum(np.ceil(needed), pool).astype(int)


# metrics ----------------------------------------------------------------------------------


def parse_linear_metric(name: str) -> tuple[str, int]:
    """("P" | "DCG", k) from "P@10" or "DCG@10"; ValueError names the choices otherwise."""
    head, _, depth = name.partition("@")
    if head not in LINEAR_METRICS or not depth.isdigit() or int(depth) < 1:
        raise ValueError(
            f"metric {name!r}: corrected estimates are made for P@k and DCG@k (linear in the "
            "grades); nDCG@k's per-query normaliser makes it a ratio"
        )
    return head, int(depth)


def metric_weights(ranks: np.ndarray, metric: str, queries: int) -> np.ndarray:
    """Weights of P@k or DCG@k over ``queries`` queries, per retriever (rows) and pair.

    ``ranks``: R × N, each retriever's rank of each pool pair (from 1; 0 where it did not
    rank it). The figure is the mean over queries, as trec_eval's.
    """
    kind, k = parse_linear_metric(metric)
    ranks = np.asarray(ranks)
    inside = (ranks >= 1) & (ranks <= k)
    if kind == "P":
        return inside / (k * queries)
    discount = np.log2(np.where(inside, ranks, 1) + 1.0)
    return np.where(inside, 1.0 / discount, 0.0) / queries


def metric_gains(grades: np.ndarray | Sequence[float], metric: str) -> np.ndarray:
    """What a grade adds to the metric: relevant or not (grade ≥ 1) for P@k, the grade for
    DCG@k (trec_eval's relevance level 1 and linear gains)."""
    kind, _ = parse_linear_metric(metric)
    grades = np.asarray(grades, dtype=float)
    return (grades >= 1).astype(float) if kind == "P" else grades


def pair_differences(weights: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Weights of every gap a − b between rows a < b: each gap is linear in the grades."""
    pairs = [(a, b) for a in range(len(weights)) for b in range(a + 1, len(weights))]
    if not pairs:
        return np.zeros((0, weights.shape[1])), []
    first, second = zip(*pairs, strict=True)
    return weights[list(first)] - weights[list(second)], pairs
