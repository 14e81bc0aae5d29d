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

**The interval** (``interval=ADJUSTED``, the default). The normal interval θ̂ ± z·SE
(``WALD``, kept as the reference) covers too rarely when a figure rests on a few relevant
pairs in the sample: the estimate is skewed, its SE is estimated from the same few pairs
(small exactly when the sample drew too few of them), and λ tuned on the sample adds
optimism. On Cranfield's pool (``benchmarks/bench_ppi.py``) it covered 0.80–0.89 for the
lowest retriever at 100–200 labels. ``ADJUSTED`` uses, per case:

- the person's grades alone, or gains that are 0/1 (P@k): a **score interval**, the set of
  θ₀ with (θ̂ − θ₀)² ≤ z² Var(θ̂ | θ₀): the variance is taken at the hypothesised value,
  not at the estimate. Var(θ̂ | θ₀) follows from a compound model: a different θ₀ comes
  from a different share of pairs with a nonzero grade, with the same spread of values
  among them (κ = Σ a²/Σ a over the sample, a = N w y; and for PPI the automatic grades'
  share among them, ρ = Σ ab/Σ a). For a 0/1 gain with one weight per figure (P@k, person
  only) this is exactly Wilson's interval with the finite-population correction; for a
  Poisson sample, the score interval of a Poisson total (Var ∝ θ₀).
- automatic grades with graded gains (DCG@k), uniform sample: the rectifier's residuals
  are skewed both
  ways (missed relevant pairs, false alarms), and the compound model does not hold; the
  interval is **Hall's (1992) skewness-corrected** one: the studentised estimate is
  transformed by g(t) = t + a t²/3 + a² t³/27 + a/6, a = the estimator's estimated skewness
  (with the design's finite-population or Poisson factors), and the bounds are θ̂ − SE ·
  g⁻¹(±z). With λ tuned (``lam=None``) the estimate there is **cross-fitted**: each sampled
  pair is corrected by a λ tuned on the other n − 1, which removes the bias of tuning λ on
  the residuals it then shrinks (5–9 standard errors of the mean over 1,000 draws in
  tests/experiment/test_ppi.py), and the SE adds λ's own noise (``_cross_fitted``). On
  Cranfield's DCG@10 with the 85% labeller the tuned-λ interval covered 0.91–0.94 for the
  lowest retriever at 200–800 labels, lying below the truth twice as often as above it.
- every gap between two retrievers (weights of both signs) on a uniform sample: the
  normal interval (see the comments in ``prediction_powered``).
- automatic grades on a Poisson (active) sample, every figure: a symmetric interval with
  **Student's t** on the variance's Satterthwaite degrees of freedom (``_effective_pairs``)
  instead of the normal quantile: the variance there often rests on a few pairs drawn
  with a small π, and is as noisy as one from a handful of pairs. With λ tuned, around the
  cross-fitted estimate (``_cross_fitted_poisson``).

Below ``evidence_rules.SAMPLED_LABELS_FLOOR`` graded pairs no interval reaches 93% coverage
in the simulation; ``CorrectedEstimate.enough`` is False there and ``words()`` prints
"too few labels to tell (n = …)". With no automatic grades the same function gives the
person-only weighted estimate (``n_automatic`` 0).

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

from ragtui.evidence_rules import CONFIDENCE, SAMPLED_LABELS_FLOOR, too_few

UNIFORM = "uniform without replacement"
POISSON = "poisson"
DESIGNS = (UNIFORM, POISSON)

METHOD_CORRECTED = "prediction-powered (PPI++, Horvitz-Thompson)"
METHOD_HUMAN_ONLY = "Horvitz-Thompson (your grades only)"

LINEAR_METRICS = ("P", "DCG")

WALD = "normal (Wald)"
ADJUSTED = "score / skewness-corrected"
INTERVALS = (ADJUSTED, WALD)


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

    @classmethod
    def uniform(cls, rows: Sequence[int], grades: np.ndarray, pool_size: int) -> HumanSample:
        """The graded pairs read as a uniform sample without replacement of ``pool_size``
        pairs: each drawn with probability n / N. A sample graded only in part is read so
        too (the rule eval's corrected figures and ``label plan`` share; the report says how
        many of the drawn pairs are graded)."""
        inclusion = np.full(len(rows), len(rows) / pool_size)
        return cls(np.asarray(rows), grades, inclusion, UNIFORM, pool_size)

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
    interval: str = ADJUSTED
    # At least SAMPLED_LABELS_FLOOR graded pairs: below, the interval is not to be read.
    enough: bool = True

    def words(self, digits: int = 3) -> str:
        """The figure with its interval, or "too few labels to tell (n = …)"."""
        if not self.enough:
            return too_few(self.n_human, "labels")
        return f"{self.estimate:.{digits}f} [{self.ci_low:.{digits}f}, {self.ci_high:.{digits}f}]"


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
    ci_low: np.ndarray
    ci_high: np.ndarray
    human_only_low: np.ndarray
    human_only_high: np.ndarray
    interval: str = ADJUSTED

    @property
    def half_width(self) -> np.ndarray:
        return (self.ci_high - self.ci_low) / 2

    @property
    def enough(self) -> bool:
        """Enough graded pairs for the intervals to be read (``SAMPLED_LABELS_FLOOR``)."""
        return SAMPLED_LABELS_FLOOR.met(self.n_human)

    def entry(self, index: int = 0) -> CorrectedEstimate:
        se, human_se = float(self.std_error[index]), float(self.human_only_std_error[index])
        estimate, human = float(self.estimate[index]), float(self.human_only_estimate[index])
        gained = (human_se / se) ** 2 if se > 0 else 1.0
        return CorrectedEstimate(
            estimate=estimate,
            ci_low=float(self.ci_low[index]),
            ci_high=float(self.ci_high[index]),
            std_error=se,
            lam=float(self.lam[index]),
            n_human=self.n_human,
            n_automatic=self.n_automatic,
            method=METHOD_CORRECTED if self.n_automatic else METHOD_HUMAN_ONLY,
            human_only=Interval(
                human,
                float(self.human_only_low[index]),
                float(self.human_only_high[index]),
                human_se,
            ),
            automatic_only=None
            if self.automatic_only is None
            else float(self.automatic_only[index]),
            effective_labels=gained,
            interval=self.interval,
            enough=self.enough,
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


def _cross_fitted_units(
    weighted_human: np.ndarray,
    weighted_auto: np.ndarray,
    sample: HumanSample,
    weights: np.ndarray,
    automatic: np.ndarray,
) -> np.ndarray:
    """u_i = N (w y_i − λ₋ᵢ (w f_i − mean_pool w f)), λ₋ᵢ tuned on the other n − 1 pairs
    (the sample's sums less pair i); uniform design, n ≥ 3."""
    n, pool = sample.size, sample.pool_size
    pool_variance = (weights * automatic).var(axis=1, ddof=1)
    pool_mean = (weights * automatic).mean(axis=1, keepdims=True)
    sum_h = weighted_human.sum(axis=1, keepdims=True)
    sum_a = weighted_auto.sum(axis=1, keepdims=True)
    sum_ha = (weighted_human * weighted_auto).sum(axis=1, keepdims=True)
    rest = n - 1
    left_h, left_a = sum_h - weighted_human, sum_a - weighted_auto
    covariance = (sum_ha - weighted_human * weighted_auto - left_h * left_a / rest) / (rest - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_out = np.where(pool_variance[:, None] > 0, covariance / pool_variance[:, None], 0.0)
    lam_out = np.clip(lam_out, 0.0, 1.0)
    return pool * (weighted_human - lam_out * (weighted_auto - pool_mean))


def _cross_fitted(
    weighted_human: np.ndarray,
    weighted_auto: np.ndarray,
    sample: HumanSample,
    weights: np.ndarray,
    automatic: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The estimate with each sampled pair corrected by a λ tuned without it, its standard
    error with λ's own noise, and the estimate's skewness (uniform design, n ≥ 3).

    θ̂ = (N/n) Σ_i u_i, u_i = w y_i − λ₋ᵢ (w f_i − mean_pool w f), λ₋ᵢ tuned on the other
    n − 1 pairs (closed form: the sample's sums less pair i). Pair i's own residual no
    longer picks the λ that makes it small, so the bias of a λ tuned on the same sample
    (O(1/n), towards the automatic grades' total, and on Cranfield's DCG@10 the reason the
    interval fell below the truth twice as often as above it) goes. The variance adds
    Var(λ̂)·Var(R_f), the term of (λ̂ − λ*)(R_f − A) that the normal approximation drops
    (R_f: the sample's total of the automatic grades, A: theirs over the pool); Var(R_f) is
    known exactly (f is known on the whole pool), Var(λ̂) by the delta method.
    """
    n, pool = sample.size, sample.pool_size
    fraction = 1 - n / pool
    pool_variance = (weights * automatic).var(axis=1, ddof=1)
    units = _cross_fitted_units(weighted_human, weighted_auto, sample, weights, automatic)
    estimate = units.mean(axis=1)
    variance = fraction * units.var(axis=1, ddof=1) / n
    centred_h = weighted_human - weighted_human.mean(axis=1, keepdims=True)
    centred_a = weighted_auto - weighted_auto.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_variance = np.where(
            pool_variance > 0,
            fraction * (centred_h * centred_a).var(axis=1, ddof=1) / n / pool_variance**2,
            0.0,
        )
    automatic_variance = pool**2 * fraction * pool_variance / n
    se = np.sqrt(variance + lam_variance * automatic_variance)
    skew = _skewness(units, sample)
    with np.errstate(divide="ignore", invalid="ignore"):
        # the units' skewness is the total's over its own variance; the SE is larger
        skew = np.where(se > 0, skew * (np.sqrt(variance) / se) ** 3, 0.0)
    return estimate, se, skew


def _cross_fitted_poisson(
    weighted_human: np.ndarray,
    weighted_auto: np.ndarray,
    sample: HumanSample,
    weights: np.ndarray,
    automatic: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_cross_fitted`` for a Poisson sample: the estimate, its standard error, and the
    residuals w y_i − λ₋ᵢ w f_i.

    θ̂ = λ̂ A + Σ_S (w y_i − λ₋ᵢ w f_i)/π_i + Σ_S (λ₋ᵢ − λ̂) w f_i, λ₋ᵢ tuned without pair
    i (the HT sums of ``_tuned_lambda`` less i's terms). λ₋ᵢ depends only on the other
    pairs' draws, which a Poisson design makes independent of i's, so θ̂ is exactly unbiased
    for any labeller. The variance is the rectifier's with these residuals plus
    Var(λ̂)·Var(R_f), Var(R_f) = Σ_all (1 − π) (w f)²/π estimated over the sample (the
    sample does not carry the unsampled pairs' π), Var(λ̂) by the delta method. Pairs
    drawn with certainty (π = 1: a pilot batch graded before the rest was drawn) have no
    sampling error and do not inform λ.
    """
    pi = sample.inclusion
    factor = (1 - pi) / pi**2
    numerator_terms = factor * weighted_human * weighted_auto
    denominator_terms = factor * weighted_auto**2
    numerator = numerator_terms.sum(axis=1, keepdims=True)
    denominator = denominator_terms.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        full = np.where(denominator > 0, numerator / denominator, 0.0)
        left = denominator - denominator_terms
        lam_out = np.where(left > 0, (numerator - numerator_terms) / left, full)
    full, lam_out = np.clip(full, 0.0, 1.0), np.clip(lam_out, 0.0, 1.0)
    residual = weighted_human - lam_out * weighted_auto
    automatic_total = weights @ automatic
    estimate = (
        full[:, 0] * automatic_total
        + (residual / pi).sum(axis=1)
        + ((lam_out - full) * weighted_auto).sum(axis=1)
    )
    variance = ((1 - pi) * residual**2 / pi**2).sum(axis=1)
    spread = (1 - pi) / pi * weighted_auto * (weighted_human - full * weighted_auto)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_variance = np.where(
            denominator[:, 0] > 0,
            ((1 - pi) * spread**2 / pi**2).sum(axis=1) / denominator[:, 0] ** 2,
            0.0,
        )
    # Var(R_f) by Horvitz–Thompson (the sample does not carry the unsampled pairs' π)
    automatic_variance = denominator[:, 0]
    return estimate, np.sqrt(variance + lam_variance * automatic_variance), residual


def _effective_pairs(residual: np.ndarray, sample: HumanSample) -> np.ndarray:
    """The degrees of freedom of a Poisson sample's variance estimate V̂ = Σ_S v_i,
    v_i = (1 − π_i) r_i² / π_i², per figure, by Satterthwaite's (1946) moment matching: V̂
    read as V χ²_d / d, d = 2 V² / Var(V̂). Each pair is in the sample with probability π,
    independently, so Var(V̂) = Σ_all π (1 − π) v² (= Σ_all (1 − π)³ r⁴ / π³), estimated
    by Σ_S (1 − π_i) v_i²; so d = 2 (Σ v)² / Σ (1 − π) v² (about 2n when the terms are
    equal and π small, 2 when one pair carries it all).

    Why: on an active sample the variance is often carried by a few pairs drawn with a
    small π (weights 1/π of 20–90), so the SE is as noisy as a variance from a handful of
    pairs, and the normal quantile treats it as exact. On Cranfield with the 85% labeller
    at 200 labels the lowest retriever's DCG@10 covered 0.902 (rank prior) and 0.896 (two
    phases) with the normal quantile, 0.920 and 0.932 with this one (benchmarks/bench_ppi.py,
    500 draws; README)."""
    pi = sample.inclusion
    terms = (1 - pi) * residual**2 / pi**2
    total, squares = terms.sum(axis=1), ((1 - pi) * terms**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(squares > 0, 2 * total**2 / squares, np.inf)


def _student_quantile(freedom: np.ndarray, confidence: float) -> np.ndarray:
    """Student's t quantile for a two-sided ``confidence`` interval (normal at ∞)."""
    from scipy.stats import t

    freedom = np.maximum(np.asarray(freedom, dtype=float), 1.0)
    return np.where(
        np.isfinite(freedom),
        t.ppf(0.5 + confidence / 2, np.where(np.isfinite(freedom), freedom, 1.0)),
        _normal_quantile(confidence),
    )


def _wald(estimate: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    return estimate - z * se, estimate + z * se


def _skewness(residual: np.ndarray, sample: HumanSample) -> np.ndarray:
    """The estimated skewness of the Horvitz–Thompson total of the residuals.

    Uniform without replacement: the sample skewness γ of the residuals times
    (1 − 2f)/√(n(1 − f)), f = n/N (the third and second central moments of a mean drawn
    without replacement). Poisson: the total's third central moment
    Σ (1 − π)(1 − 2π) r³/π² over its variance^1.5, both estimated over the sample.
    """
    n, pool = sample.size, sample.pool_size
    with np.errstate(divide="ignore", invalid="ignore"):
        if sample.design == UNIFORM:
            fraction = n / pool
            centred = residual - residual.mean(axis=1, keepdims=True)
            second = (centred**2).mean(axis=1)
            gamma = np.where(second > 0, (centred**3).mean(axis=1) / second**1.5, 0.0)
            if fraction >= 1:  # the whole pool: no sampling error, nothing to skew
                return np.zeros(len(residual))
            return gamma * (1 - 2 * fraction) / np.sqrt(n * (1 - fraction))
        pi = sample.inclusion
        third = ((1 - pi) * (1 - 2 * pi) * residual**3 / pi**3).sum(axis=1)
        variance = ((1 - pi) * residual**2 / pi**2).sum(axis=1)
        return np.where(variance > 0, third / variance**1.5, 0.0)


def _hall(
    estimate: np.ndarray, se: np.ndarray, skew: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Hall's (1992) skewness-corrected interval: invert g(t) = t + a t²/3 + a² t³/27 + a/6
    (monotone in t), the transformation that removes the studentised estimate's skewness a
    to second order."""

    def inverse(x: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (3 / skew) * (np.cbrt(1 + skew * (x - skew / 6)) - 1)
        return np.where(np.abs(skew) > 1e-9, t, x)

    return estimate - se * inverse(z), estimate - se * inverse(-z)


def _score(
    estimate: np.ndarray,
    weighted_human: np.ndarray,
    weighted_auto: np.ndarray | None,
    lams: np.ndarray,
    sample: HumanSample,
    weights: np.ndarray,
    automatic: np.ndarray | None,
    top_grade: float,
    z: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The score interval: {θ₀ : (θ̂ − θ₀)² ≤ z² Var(θ̂ | θ₀)} under the compound model
    (see the module's docstring); a quadratic in θ₀, solved in closed form. For figures
    with weights ≥ 0 (a gap between two retrievers goes to ``_hall``)."""
    n, pool = sample.size, sample.pool_size
    mean_weight = _mean_over(weights, weights > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if sample.design == POISSON:
            # Var(T̂) = Σ_all (1 − π) w² y²/π, proportional to the total T under the model:
            # V(θ₀) = κ θ₀, the score interval of a Poisson total. With no nonzero grade in
            # the sample, κ is what one relevant pair of the figure would give.
            pi = sample.inclusion
            variance = ((1 - pi) * weighted_human**2 / pi**2).sum(axis=1)
            total = (weighted_human / pi).sum(axis=1)
            typical = float(np.median(pi))
            fallback = (1 - typical) / typical * top_grade * mean_weight
            kappa = np.where(total > 0, variance / total, fallback)
            centre = estimate + z**2 * kappa / 2
            spread = z * np.sqrt(np.maximum(kappa * estimate + z**2 * kappa**2 / 4, 0.0))
            return np.maximum(centre - spread, 0.0), centre + spread
        # Uniform: the figure is the pool's mean of a = N w y; Var(θ̂) = (1 − n/N)/n S²,
        # S² = θ₀(κ − θ₀) − 2λθ₀(ρ − mean b) + λ² S²_b (b = N w f, known on the pool).
        scaled = pool * weighted_human
        positive = scaled.sum(axis=1)
        kappa = np.where(positive > 0, (scaled**2).sum(axis=1) / positive, pool * mean_weight)
        linear, constant = kappa, np.zeros(len(weights))
        if weighted_auto is not None and automatic is not None:
            b_pool = pool * weights * automatic
            mean_b, var_b = b_pool.mean(axis=1), b_pool.var(axis=1, ddof=1)
            rho = np.where(
                positive > 0, (scaled * pool * weighted_auto).sum(axis=1) / positive, mean_b
            )
            linear = kappa - 2 * lams * (rho - mean_b)
            constant = lams**2 * var_b
    factor = z**2 * (1 - n / pool) / n
    # (θ̂ − θ₀)² = factor (θ₀ (linear − θ₀) + constant), a quadratic in θ₀
    quad_a = 1 + factor
    quad_b = -(2 * estimate + factor * linear)
    quad_c = estimate**2 - factor * constant
    root = np.sqrt(np.maximum(quad_b**2 - 4 * quad_a * quad_c, 0.0))
    return (-quad_b - root) / (2 * quad_a), (-quad_b + root) / (2 * quad_a)


def _mean_over(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    counts = mask.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, (values * mask).sum(axis=1) / counts, 0.0)


def _choose(
    first: np.ndarray, when: tuple[np.ndarray, np.ndarray], otherwise: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    return np.where(first, when[0], otherwise[0]), np.where(first, when[1], otherwise[1])


def _binary(values: np.ndarray) -> bool:
    return bool(np.all((values == 0) | (values == 1)))


def prediction_powered(
    weights: np.ndarray,
    sample: HumanSample,
    automatic: np.ndarray | None = None,
    lam: float | None = None,
    confidence: float = CONFIDENCE,
    interval: str = ADJUSTED,
    cross_fit: bool = True,
) -> CorrectedTotals:
    """Estimate Σ_p w_p y_p for each row of ``weights`` (K figures × N pool pairs).

    ``automatic``: a grade of every pool pair (length N), or None for the person's grades
    alone. ``lam``: the automatic grades' weight (None: tuned per figure, PPI++).
    ``interval``: ``ADJUSTED`` (score or skewness-corrected, see the module) or ``WALD``.
    ``cross_fit``: with λ tuned, cross-fit it (see ``_cross_fitted``); False keeps the
    tuned λ's estimate, for a caller whose own interval was validated on it (the vote
    correction widens the interval instead).
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    if weights.shape[1] != sample.pool_size:
        raise ValueError(f"weights cover {weights.shape[1]} pairs, the pool {sample.pool_size}")
    if sample.size == 0:
        raise ValueError("no graded pairs in the sample")
    if lam is not None and not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam {lam}: use a value in [0, 1] or None")
    if interval not in INTERVALS:
        raise ValueError(f"interval {interval!r}: use one of {INTERVALS}")
    z = _normal_quantile(confidence)
    sampled_weights = weights[:, sample.rows]
    weighted_human = sampled_weights * sample.grades
    human_total, human_se = _rectifier(weighted_human, sample)
    top_grade = max(float(sample.grades.max()), 1.0)
    if automatic is not None:
        automatic = np.asarray(automatic, dtype=float)
        if automatic.shape != (sample.pool_size,):
            raise ValueError("automatic grades must cover every pool pair")
        top_grade = max(top_grade, float(automatic.max()))
    # A gap between two retrievers (weights of both signs) keeps the normal interval: the
    # two totals share most pairs, their skews largely cancel, and in the simulation a
    # skewness correction there ordered near-ties and wrong pairs 3-5 times as often.
    signed = (weights < 0).any(axis=1)
    if interval == WALD or sample.size < 2:
        human_low, human_high = _wald(human_total, human_se, z)
    else:
        human_low, human_high = _choose(
            signed,
            _wald(human_total, human_se, z),
            _score(
                human_total,
                weighted_human,
                None,
                np.zeros(len(weights)),
                sample,
                weights,
                None,
                top_grade,
                z,
            ),
        )
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
            human_low,
            human_high,
            human_low,
            human_high,
            interval,
        )
    weighted_auto = sampled_weights * automatic[sample.rows]
    lams = (
        _tuned_lambda(weighted_human, weighted_auto, sample, weights, automatic)
        if lam is None
        else np.full(len(weights), float(lam))
    )
    automatic_total = weights @ automatic
    residual = weighted_human - lams[:, None] * weighted_auto
    residual_total, se = _rectifier(residual, sample)
    estimate = lams * automatic_total + residual_total
    if interval == WALD or sample.size < 2:
        low, high = _wald(estimate, se, z)
    else:
        low, high = _hall(estimate, se, _skewness(residual, sample), z)
        graded = not (_binary(sample.grades) and _binary(automatic))
        crossable = 3 <= sample.size < sample.pool_size  # the whole pool graded is exact
        if sample.design == UNIFORM and lam is None and graded and crossable and cross_fit:
            # λ tuned on the sample: cross-fitted (see ``_cross_fitted``) for the figures of
            # one retriever; a gap keeps the tuned λ and the normal interval (below).
            crossed, crossed_se, crossed_skew = _cross_fitted(
                weighted_human, weighted_auto, sample, weights, automatic
            )
            estimate = np.where(signed, estimate, crossed)
            se = np.where(signed, se, crossed_se)
            low, high = _hall(estimate, se, crossed_skew, z)
        if sample.design == POISSON:
            # The Horvitz–Thompson third moment (weights 1/π³) is too noisy to correct by:
            # on a weighted sample Hall's interval covered 0.92 where the normal one held
            # 0.95 (tests/experiment/test_ppi.py), so the interval stays symmetric; with λ
            # tuned, around the cross-fitted estimate (a gap keeps the tuned λ, as above).
            terms = residual
            if lam is None and cross_fit:
                crossed, crossed_se, crossed_residual = _cross_fitted_poisson(
                    weighted_human, weighted_auto, sample, weights, automatic
                )
                estimate = np.where(signed, estimate, crossed)
                se = np.where(signed, se, crossed_se)
                terms = np.where(signed[:, None], residual, crossed_residual)
            # Student's t on the variance's effective number of pairs, for every figure
            # (gaps too): see ``_effective_pairs``.
            spread = _student_quantile(_effective_pairs(terms, sample), confidence) * se
            low, high = estimate - spread, estimate + spread
        elif _binary(sample.grades) and _binary(automatic):
            low, high = _score(
                estimate,
                weighted_human,
                weighted_auto,
                lams,
                sample,
                weights,
                automatic,
                top_grade,
                z,
            )
        if sample.design != POISSON:
            low, high = _choose(signed, _wald(estimate, se, z), (low, high))
    return CorrectedTotals(
        estimate,
        se,
        lams,
        human_total,
        human_se,
        automatic_total,
        sample.size,
        sample.pool_size,
        confidence,
        low,
        high,
        human_low,
        human_high,
        interval,
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
    has no sampling error). Where the estimate is cross-fitted (graded gains, a labeller, a
    uniform sample, one retriever's figure), the variance also holds λ's noise, which
    shrinks as 1/n² (``_cross_fitted``): the equation is then a quadratic in 1/n − 1/N.
    """
    if width <= 0:
        raise ValueError(f"width {width}: use a positive number")
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    sampled_weights = weights[:, sample.rows]
    residual = sampled_weights * sample.grades
    pool = sample.pool_size
    noise = np.zeros(len(weights))  # N² Var-of-λ factor: the 1/n² term's coefficient
    if automatic is not None:
        automatic = np.asarray(automatic, dtype=float)
        weighted_auto = sampled_weights * automatic[sample.rows]
        lams = _tuned_lambda(residual, weighted_auto, sample, weights, automatic)
        graded = not (_binary(sample.grades) and _binary(automatic))
        if sample.design == UNIFORM and graded and sample.size > 2:
            centred_h = residual - residual.mean(axis=1, keepdims=True)
            centred_a = weighted_auto - weighted_auto.mean(axis=1, keepdims=True)
            products = (centred_h * centred_a).var(axis=1, ddof=1)
            spread = (weights * automatic).var(axis=1, ddof=1)
            signed = (weights < 0).any(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                noise = np.where(~signed & (spread > 0), products / spread, 0.0)
        tuned = residual - lams[:, None] * weighted_auto
        if noise.any():
            # the cross-fitted residuals: those tuned on the same sample are optimistic
            crossed = _cross_fitted_units(residual, weighted_auto, sample, weights, automatic)
            tuned = np.where((noise > 0)[:, None], crossed / pool, tuned)
        residual = tuned
    if sample.design == UNIFORM:
        unit_variance = residual.var(axis=1, ddof=1) if sample.size > 1 else np.zeros(len(weights))
    else:
        # The population variance of z, with both moments estimated by Horvitz–Thompson.
        total = (residual / sample.inclusion).sum(axis=1)
        squares = (residual**2 / sample.inclusion).sum(axis=1)
        unit_variance = np.maximum(squares - total**2 / pool, 0.0) / max(pool - 1, 1)
    allowed = (width / (2 * _normal_quantile(confidence) * pool)) ** 2
    # allowed = S²_z u + noise u², u = 1/n − 1/N
    with np.errstate(divide="ignore", invalid="ignore"):
        linear = allowed / unit_variance
        root = (np.sqrt(unit_variance**2 + 4 * noise * allowed) - unit_variance) / (2 * noise)
        u = np.where(noise > 0, root, linear)
        needed = 1.0 / (u + 1.0 / pool)
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
