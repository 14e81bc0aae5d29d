"""Prediction-powered estimates: against ppi_py on a uniform sample, unbiased on a weighted
one, and the linear metrics against pytrec_eval."""

import numpy as np
import pytest

from ragtui.evidence_rules import SAMPLED_LABELS_FLOOR
from ragtui.experiment.stats.ppi import (
    ADJUSTED,
    METHOD_HUMAN_ONLY,
    POISSON,
    UNIFORM,
    WALD,
    HumanSample,
    metric_gains,
    metric_weights,
    prediction_powered,
)


def _population(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Grades 0–3 and an automatic labeller that is right about two times in three."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(4, size=size, p=[0.6, 0.2, 0.12, 0.08]).astype(float)
    noisy = np.clip(truth + rng.choice([-1, 0, 1], size=size, p=[0.2, 0.6, 0.2]), 0, 3)
    return truth, noisy


def _uniform(truth: np.ndarray, n: int, rng: np.random.Generator) -> HumanSample:
    rows = rng.choice(len(truth), size=n, replace=False)
    return HumanSample(rows, truth[rows], np.full(n, n / len(truth)), UNIFORM, len(truth))


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0, None])
def test_uniform_sample_equals_ppi_py(lam: float | None) -> None:
    """The mean of a pool's grades, from a uniform sample: the estimate and the interval of
    ppi_py's ppi_mean_pointestimate / ppi_mean_ci.

    ppi_py assumes labelled and unlabelled draws from an infinite population (its variance
    adds λ²Var(f)/N for the unlabelled mean and has no finite-population correction; its λ
    uses (1 + n/N) and 1/n where ours uses 1/(n − 1)). Here the automatic grades are known on
    the whole pool, so the first term has no variance and the sample is without
    replacement. The two agree when n/N → 0: here n/N = 1/4000, where every difference is
    below a part in a thousand of the interval's half-width.
    """
    ppi_py = pytest.importorskip("ppi_py")
    truth, automatic = _population(4_000_000, seed=1)
    sample = _uniform(truth, 1_000, np.random.default_rng(2))
    weights = np.full((1, len(truth)), 1 / len(truth))
    ours = prediction_powered(weights, sample, automatic, lam=lam, interval=WALD).entry()
    labelled, predicted = sample.grades, automatic[sample.rows]
    their_estimate = float(
        ppi_py.ppi_mean_pointestimate(labelled, predicted, automatic, lam=lam)[0]
    )
    low, high = ppi_py.ppi_mean_ci(labelled, predicted, automatic, alpha=0.05, lam=lam)
    half_width = (high[0] - low[0]) / 2
    if lam is not None:  # the same formula: equal to rounding
        assert ours.estimate == pytest.approx(their_estimate, rel=1e-12)
    assert ours.estimate == pytest.approx(their_estimate, abs=half_width * 1e-3)
    assert ours.ci_low == pytest.approx(low[0], abs=half_width * 1e-3)
    assert ours.ci_high == pytest.approx(high[0], abs=half_width * 1e-3)
    assert (ours.ci_high - ours.ci_low) / 2 == pytest.approx(half_width, rel=1e-3)
    if lam is None:
        assert 0.3 < ours.lam < 1.0  # a labeller with signal: tuned, not 0 or 1
    # The default (skewness-corrected here: graded gains) is the same estimate for a fixed
    # λ (cross-fitted for a tuned one: within a tenth of the half-width at 1,000
    # labels), and with 1,000 labels its interval is within a few percent of the normal one.
    adjusted = prediction_powered(weights, sample, automatic, lam=lam).entry()
    assert adjusted.interval == ADJUSTED
    if lam is None:
        assert adjusted.estimate == pytest.approx(ours.estimate, abs=half_width * 0.1)
    else:
        assert adjusted.estimate == ours.estimate
    assert adjusted.ci_low < adjusted.estimate < adjusted.ci_high
    assert adjusted.ci_low == pytest.approx(low[0], abs=half_width * 0.05)
    assert adjusted.ci_high == pytest.approx(high[0], abs=half_width * 0.05)


def _poisson_inclusion(automatic: np.ndarray, expected: int) -> np.ndarray:
    """Sample high automatic grades up to seven times as often as grade 0 (as active
    sampling would), keeping every pair's probability well above 0."""
    score = 0.5 + automatic
    return np.minimum(expected * score / score.sum(), 1.0)


@pytest.mark.parametrize("lam", [0.0, 0.7, 1.0, None])
def test_weighted_sample_is_unbiased(lam: float | None) -> None:
    """Over 2,000 Poisson samples with unequal inclusion probabilities, the mean estimate of
    P@k-like weighted totals lies within 3 standard errors of the truth, and the intervals
    cover it about 95% of the time. An unweighted mean of the same samples is far off."""
    rng = np.random.default_rng(8)
    truth, automatic = _population(3_000, seed=3)
    # Labeller biased upwards: only the correction by the sampled grades removes the bias.
    automatic = np.clip(automatic + (rng.random(3_000) < 0.3), 0, 3)
    weights = np.vstack([rng.random(3_000) < share for share in (0.2, 0.5)]) / 300.0
    target = weights @ truth
    inclusion = _poisson_inclusion(automatic, expected=300)
    draws = 2_000
    estimates = np.empty((draws, 2))
    covered = np.zeros(2)
    naive = np.empty((draws, 2))
    for draw in range(draws):
        rows = np.flatnonzero(rng.random(3_000) < inclusion)
        sample = HumanSample(rows, truth[rows], inclusion[rows], POISSON, 3_000)
        result = prediction_powered(weights, sample, automatic, lam=lam)
        estimates[draw] = result.estimate
        covered += (result.ci_low <= target) & (target <= result.ci_high)
        naive[draw] = weights[:, rows] @ truth[rows] * 3_000 / len(rows)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(draws)
    assert np.all(np.abs(estimates.mean(axis=0) - target) < 3 * standard_error)
    assert np.all(np.abs(naive.mean(axis=0) - target) > 10 * standard_error)
    # 0.95 − 2.5 standard errors of a coverage over 2,000 draws, and at most the goal's
    # 0.97: Student's t on an active sample's variance (``_effective_pairs``) is a little
    # conservative here (measured 0.948–0.965; the normal quantile's 0.945–0.960)
    assert np.all((covered / draws > 0.937) & (covered / draws < 0.97))


def test_no_automatic_grades_is_the_weighted_human_estimate() -> None:
    rng = np.random.default_rng(6)
    truth, automatic = _population(1_000, seed=5)
    inclusion = _poisson_inclusion(automatic, expected=200)
    rows = np.flatnonzero(rng.random(1_000) < inclusion)
    sample = HumanSample(rows, truth[rows], inclusion[rows], POISSON, 1_000)
    weights = np.full((1, 1_000), 1 / 1_000)
    alone = prediction_powered(weights, sample).entry()
    assert alone.n_automatic == 0 and alone.method == METHOD_HUMAN_ONLY
    assert alone.automatic_only is None
    assert alone.estimate == pytest.approx(float((truth[rows] / inclusion[rows]).sum() / 1_000))
    assert alone.estimate == alone.human_only.estimate
    corrected = prediction_powered(weights, sample, automatic).entry()
    assert corrected.n_automatic == 1_000 and corrected.human_only == alone.human_only
    # A labeller with signal: a narrower interval than the person's grades alone.
    assert corrected.std_error < alone.std_error and corrected.effective_labels > 1.2


def test_useless_labeller_is_no_wider_than_human_alone() -> None:
    """PPI++: grades unrelated to the truth get λ near 0, so the interval stays about as
    wide as the person's grades alone give (classic PPI, λ = 1, is much wider)."""
    rng = np.random.default_rng(12)
    truth, _ = _population(5_000, seed=11)
    random_grades = rng.integers(0, 4, 5_000).astype(float)
    sample = _uniform(truth, 400, rng)
    weights = np.full((1, 5_000), 1 / 5_000)
    tuned = prediction_powered(weights, sample, random_grades).entry()
    classic = prediction_powered(weights, sample, random_grades, lam=1.0).entry()
    assert tuned.lam < 0.2
    assert tuned.std_error <= tuned.human_only.std_error * 1.01
    assert classic.std_error > tuned.human_only.std_error * 1.3


def test_a_uniform_sample_must_have_equal_probabilities() -> None:
    with pytest.raises(ValueError, match="poisson"):
        HumanSample(np.array([0, 1]), np.array([1.0, 0.0]), np.array([0.1, 0.2]), UNIFORM, 20)
    with pytest.raises(ValueError, match="twice"):
        HumanSample(np.array([3, 3]), np.array([1.0, 0.0]), np.array([0.1, 0.1]), POISSON, 20)


def test_linear_metrics_equal_pytrec_eval_on_the_whole_pool() -> None:
    """With every pool pair graded, the weights give trec_eval's P@10, and DCG@10 divided by
    each query's ideal DCG gives its nDCG@10."""
    import pytrec_eval

    rng = np.random.default_rng(9)
    queries, retrievers = 6, 2
    pairs, ranks, grades, qrels, runs = [], [], [], {}, [{}, {}]
    for query in range(queries):
        ids = [f"d{i}" for i in range(14)]
        ranked = [list(rng.permutation(ids)[:10]) for _ in range(retrievers)]
        pooled = sorted(set(ranked[0]) | set(ranked[1]))
        qrels[f"q{query}"] = {d: int(rng.integers(0, 4)) for d in pooled}
        qrels[f"q{query}"]["unpooled"] = 0
        for judged in pooled:
            pairs.append((f"q{query}", judged))
            grades.append(qrels[f"q{query}"][judged])
            ranks.append([r.index(judged) + 1 if judged in r else 0 for r in ranked])
        for index, run in enumerate(runs):
            run[f"q{query}"] = {d: 20.0 - rank for rank, d in enumerate(ranked[index])}
    ranks_by_retriever = np.array(ranks).T
    p10 = metric_weights(ranks_by_retriever, "P@10", queries) @ metric_gains(grades, "P@10")
    dcg_weights = metric_weights(ranks_by_retriever, "DCG@10", queries)
    for index, run in enumerate(runs):
        figures = pytrec_eval.RelevanceEvaluator(qrels, {"P_10", "ndcg_cut_10"}).evaluate(run)
        assert p10[index] == pytest.approx(np.mean([f["P_10"] for f in figures.values()]))
        for query in range(queries):
            in_query = np.array([p[0] == f"q{query}" for p in pairs])
            dcg = dcg_weights[index, in_query] @ np.array(grades)[in_query] * queries
            ideal = sorted(qrels[f"q{query}"].values(), reverse=True)[:10]
            idcg = sum(g / np.log2(r + 2) for r, g in enumerate(ideal))
            assert dcg / idcg == pytest.approx(figures[f"q{query}"]["ndcg_cut_10"])


def _rare_population(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A pool of 4,000 pairs, two figures (P@k-like: one weight on 1,500 and on 2,500 of
    them), 6% relevant; grades 0–3 among the relevant ones; a labeller that keeps the grade
    85% of the time and otherwise gives another one at random."""
    rng = np.random.default_rng(seed)
    size = 4_000
    relevant = rng.random(size) < 0.06
    grades = np.where(relevant, rng.integers(1, 4, size), 0).astype(float)
    keep = rng.random(size) < 0.85
    labeller = np.where(keep, grades, (grades + rng.integers(1, 4, size)) % 4)
    weights = np.vstack([np.arange(size) < 1_500, np.arange(size) >= 1_500]).astype(float)
    return grades, labeller, weights / weights.sum(axis=1, keepdims=True), relevant


def _coverage(
    gains: np.ndarray, automatic: np.ndarray | None, weights: np.ndarray, n: int, interval: str
) -> np.ndarray:
    rng = np.random.default_rng(21)
    target = weights @ gains
    covered = np.zeros(len(weights))
    draws = 1_500
    for _ in range(draws):
        rows = rng.choice(len(gains), n, replace=False)
        sample = HumanSample(rows, gains[rows], np.full(n, n / len(gains)), UNIFORM, len(gains))
        result = prediction_powered(weights, sample, automatic, interval=interval)
        covered += (result.ci_low <= target) & (target <= result.ci_high)
    return covered / draws


@pytest.mark.parametrize("labeller", [False, True])
def test_rare_relevant_pairs_the_adjusted_interval_covers(labeller: bool) -> None:
    """Few relevant pairs in a sample of 200 (about 5 per figure): the normal interval is
    centred where the skewed estimate lands and too short, and covers well under 95%. The
    score interval (Wilson's, with the finite-population correction, for the person's 0/1
    grades alone; its PPI form with the 85% labeller) covers about 95% over 1,500 draws (±
    1.1 points of simulation error)."""
    grades, automatic, weights, _ = _rare_population(seed=13)
    gains = metric_gains(grades, "P@10")
    auto = metric_gains(automatic, "P@10") if labeller else None
    wald = _coverage(gains, auto, weights, 200, WALD)
    adjusted = _coverage(gains, auto, weights, 200, ADJUSTED)
    assert wald.min() < 0.92  # measured 0.89–0.92
    assert np.all((adjusted > 0.935) & (adjusted < 0.98))  # measured 0.957–0.971


def test_rare_graded_pairs_with_a_labeller_the_skewness_corrected_interval_covers() -> None:
    """Graded gains (DCG-like) with the 85% labeller: the rectifier's residuals are skewed
    (a missed relevant pair is a large positive residual) and λ is tuned on the same
    sample; Hall's skewness-corrected interval covers about 95% where the normal one does not."""
    grades, automatic, weights, _ = _rare_population(seed=13)
    wald = _coverage(grades, automatic, weights, 200, WALD)
    adjusted = _coverage(grades, automatic, weights, 200, ADJUSTED)
    assert wald.min() < 0.92  # measured 0.88–0.90
    assert np.all((adjusted > 0.935) & (adjusted < 0.98))  # measured 0.963–0.976


def test_below_the_floor_the_figure_says_too_few_labels() -> None:
    grades, automatic, weights, _ = _rare_population(seed=13)
    rng = np.random.default_rng(3)
    floor = SAMPLED_LABELS_FLOOR.minimum
    for n, enough in ((floor - 1, False), (floor, True)):
        sample = _uniform(grades, n, rng)
        for auto in (None, automatic):
            totals = prediction_powered(weights, sample, auto)
            figure = totals.entry(0)
            assert totals.enough is enough and figure.enough is enough
            if enough:
                assert figure.words() == (
                    f"{figure.estimate:.3f} [{figure.ci_low:.3f}, {figure.ci_high:.3f}]"
                )
            else:
                assert figure.words() == f"too few labels to tell (n = {floor - 1})"
    from ragtui.evidence_rules import describe_rules

    assert f"at least {floor} graded pairs of the sample" in " ".join(describe_rules())


def _graded_population(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cranfield's pool in small: 5,000 pairs, 14% relevant with grades 1–4 in Cranfield's
    proportions, a labeller that keeps the grade 85% of the time and otherwise gives another
    of 0–4 at random (so a false alarm can be a 4), and three DCG@10-like figures (each
    ranks 40% of the pairs, weight 1/log2(rank + 1))."""
    rng = np.random.default_rng(seed)
    size = 5_000
    grades = rng.choice(5, size=size, p=[0.86, 0.025, 0.064, 0.037, 0.014]).astype(float)
    keep = rng.random(size) < 0.85
    labeller = np.where(keep, grades, (grades + rng.integers(1, 5, size)) % 5)
    ranks = np.where(rng.random((3, size)) < 0.4, rng.integers(1, 11, (3, size)), 0)
    weights = np.where(ranks > 0, 1 / np.log2(np.where(ranks > 0, ranks, 1) + 1), 0) / 200
    return grades, labeller, weights


def test_tuned_lambda_graded_gains_the_estimate_is_unbiased_and_covers() -> None:
    """λ tuned on the same sample that corrects by it pulls the estimate towards the
    labeller's total: over 1,000 uniform samples of 200 pairs that bias was 5–9 standard
    errors of the mean estimate (measured -8.7, -6.9, -8.2). With each pair corrected by a
    λ tuned on the other pairs (cross-fitted), the mean lies within 3 standard errors of the
    truth, and the interval (with λ's own noise in its variance) covers 0.93–0.975."""
    grades, labeller, weights = _graded_population(seed=0)
    target = weights @ grades
    rng = np.random.default_rng(21)
    draws, n = 1_000, 200
    estimates = np.empty((draws, len(weights)))
    covered = np.zeros(len(weights))
    for draw in range(draws):
        sample = _uniform(grades, n, rng)
        result = prediction_powered(weights, sample, labeller)
        estimates[draw] = result.estimate
        covered += (result.ci_low <= target) & (target <= result.ci_high)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(draws)
    assert np.all(np.abs(estimates.mean(axis=0) - target) < 3 * standard_error)
    assert np.all((covered / draws > 0.93) & (covered / draws < 0.975))  # measured 0.936–0.949


def test_tuned_lambda_on_a_poisson_sample_carries_its_noise() -> None:
    """A Poisson (active) sample of about 200 pairs, drawn more often where the labeller
    grades high, graded gains: with each pair corrected by a λ tuned without it and λ's
    noise in the SE, the normal interval covered 0.931–0.934 over 1,000 draws, where the
    tuned λ's covered 0.911–0.925; with Student's t on the variance's degrees of freedom
    (the default now, ``_effective_pairs``) 0.934–0.944. The mean estimate stays within 3
    standard errors of the truth."""
    grades, labeller, weights = _graded_population(seed=0)
    target = weights @ grades
    rng = np.random.default_rng(4)
    score = 0.5 + labeller
    inclusion = np.minimum(200 * score / score.sum(), 1.0)
    draws = 1_000
    estimates = np.empty((draws, len(weights)))
    covered = np.zeros(len(weights))
    for draw in range(draws):
        rows = np.flatnonzero(rng.random(len(grades)) < inclusion)
        sample = HumanSample(rows, grades[rows], inclusion[rows], POISSON, len(grades))
        result = prediction_powered(weights, sample, labeller)
        estimates[draw] = result.estimate
        covered += (result.ci_low <= target) & (target <= result.ci_high)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(draws)
    assert np.all(np.abs(estimates.mean(axis=0) - target) < 3 * standard_error)
    assert np.all(covered / draws >= 0.928)


def test_the_whole_pool_graded_is_exact_with_a_labeller() -> None:
    """Every pair graded: the corrected figure is the person's, with no width, whatever λ
    each pair would have been corrected by."""
    grades, labeller, weights = _graded_population(seed=0)
    rows = np.arange(len(grades))
    sample = HumanSample.uniform(rows, grades, len(grades))
    result = prediction_powered(weights, sample, labeller)
    assert np.allclose(result.estimate, weights @ grades, rtol=1e-12)
    assert np.allclose(result.ci_low, result.ci_high)


def test_a_poisson_samples_few_heavy_pairs_widen_the_interval() -> None:
    """An active sample of about 200 pairs: half spread evenly, half in proportion to the
    labeller's grade (weights 1/π up to 35). The variance estimate rests on the few pairs
    drawn with a small π, so it is noisy; the normal interval around it covered 0.920–0.927
    over 1,000 draws. Student's t on the variance's Satterthwaite degrees of freedom
    (``_effective_pairs``) covers 0.938–0.942."""
    grades, labeller, weights = _graded_population(seed=0)
    size = len(grades)
    target = weights @ grades
    score = 0.5 + labeller
    inclusion = np.minimum(200 * (0.5 / size + 0.5 * score / score.sum()), 1.0)
    rng = np.random.default_rng(4)
    draws = 1_000
    covered = np.zeros(len(weights))
    for _ in range(draws):
        rows = np.flatnonzero(rng.random(size) < inclusion)
        sample = HumanSample(rows, grades[rows], inclusion[rows], POISSON, size)
        result = prediction_powered(weights, sample, labeller)
        covered += (result.ci_low <= target) & (target <= result.ci_high)
    assert np.all((covered / draws >= 0.933) & (covered / draws <= 0.97))
