"""Prediction-powered estimates: against ppi_py on a uniform sample, unbiased on a weighted
one, and the linear metrics against pytrec_eval."""

import numpy as np
import pytest

from ragtui.experiment.stats.ppi import (
    METHOD_HUMAN_ONLY,
    POISSON,
    UNIFORM,
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
    ours = prediction_powered(
        np.full((1, len(truth)), 1 / len(truth)), sample, automatic, lam=lam
    ).entry()
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
    # 0.95 ± 2.5 standard errors of a coverage over 2,000 draws
    assert np.all((covered / draws > 0.937) & (covered / draws < 0.963))


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
