"""The judge's figures checked against independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from ragtui.experiment.statistics import bradley_terry, bradley_terry_with_intervals
from ragtui.judging.agreement import agreement_figures, cohen_kappa
from ragtui.judging.judge import OrderVerdict, pair_outcome
from ragtui.judging.judge_prompts import parse_pairwise, parse_scale


def test_kappa_equals_sklearn_and_statsmodels_on_random_ratings() -> None:
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import cohens_kappa

    rng = np.random.default_rng(11)
    labels = ["a", "b", "tie"]
    for trial in range(20):
        size = int(rng.integers(5, 60))
        first = list(rng.choice(labels, size=size, p=[0.4, 0.4, 0.2]))
        # The second rater copies the first some of the time: kappa from about 0 to 1.
        copy = rng.random(size) < trial / 20
        second = [f if c else str(rng.choice(labels)) for f, c in zip(first, copy, strict=True)]
        ours = cohen_kappa(first, second)
        if len(set(first) | set(second)) == 1:
            continue
        assert ours == pytest.approx(cohen_kappa_score(first, second, labels=labels), abs=1e-12)
        table = np.zeros((3, 3))
        for f, s in zip(first, second, strict=True):
            table[labels.index(f), labels.index(s)] += 1
        assert ours == pytest.approx(cohens_kappa(table, return_results=False), abs=1e-12)


def test_agreement_counts_a_judges_tie_as_a_miss_and_reports_the_confusion() -> None:
    users = ["a", "a", "b", "b", "tie", "a"]
    judges = ["a", "tie", "b", "a", "tie", "abstain"]
    consistent = [True, False, True, True, True, None]
    figures = agreement_figures(users, judges, consistent)
    assert figures.n == 6 and figures.abstentions == 1
    assert figures.non_tie == 4 and figures.agreement == pytest.approx(2 / 4)
    assert figures.decided == 3 and figures.agreement_decided == pytest.approx(2 / 3)
    assert figures.position_inconsistency == pytest.approx(1 / 5)
    assert figures.confusion["a"] == {"a": 1, "b": 0, "tie": 1, "abstain": 1}
    assert figures.confusion["b"]["a"] == 1
    low, high = figures.agreement_ci
    assert low < 0.5 < high
    assert figures.sentence() == f"agrees with your votes 50%, κ {figures.kappa:.2f}, n = 4"


def _scipy_bradley_terry(outcomes, prior: float = 0.5) -> dict[str, float]:
    """Maximum likelihood by a general optimiser, with the same virtual ties per pair."""
    names = sorted({n for first, second, _ in outcomes for n in (first, second)})
    index = {name: i for i, name in enumerate(names)}
    rows = [(index[f], index[s], score, 1.0) for f, s, score in outcomes]
    pairs = {tuple(sorted((index[f], index[s]))) for f, s, _ in outcomes}
    rows += [(i, j, 0.5, prior) for i, j in pairs]

    def negative_log_likelihood(free: np.ndarray) -> float:
        theta = np.concatenate([[0.0], free])
        total = 0.0
        for i, j, score, weight in rows:
            p = 1 / (1 + np.exp(theta[j] - theta[i]))
            total -= weight * (score * np.log(p) + (1 - score) * np.log(1 - p))
        return total

    found = optimize.minimize(negative_log_likelihood, np.zeros(len(names) - 1), method="BFGS")
    theta = np.concatenate([[0.0], found.x])
    theta -= theta.mean()  # ragtui centres log-strengths on 0
    return {name: float(theta[index[name]]) for name in names}


VOTE_TABLE = (
    [("x", "y", 1.0)] * 7
    + [("x", "y", 0.0)] * 3
    + [("y", "z", 1.0)] * 6
    + [("y", "z", 0.5)] * 2
    + [("y", "z", 0.0)] * 2
    + [("x", "z", 1.0)] * 5
    + [("x", "z", 0.5)] * 1
)


def test_bradley_terry_equals_an_independent_maximum_likelihood_fit() -> None:
    ours = bradley_terry(VOTE_TABLE)
    reference = _scipy_bradley_terry(VOTE_TABLE)
    for name in reference:
        assert ours[name] == pytest.approx(reference[name], abs=1e-4)


def test_bradley_terry_intervals_equal_an_independent_bootstrap() -> None:
    samples = 200
    ours = {s.name: s for s in bradley_terry_with_intervals(VOTE_TABLE, samples=samples, seed=5)}
    rng = np.random.default_rng(5)
    draws: dict[str, list[float]] = {name: [] for name in ours}
    for _ in range(samples):
        picks = rng.integers(0, len(VOTE_TABLE), size=len(VOTE_TABLE))
        fitted = _scipy_bradley_terry([VOTE_TABLE[p] for p in picks])
        for name, value in fitted.items():
            draws[name].append(value)
    for name, strength in ours.items():
        low, high = np.percentile(draws[name], [2.5, 97.5])
        assert strength.ci_low == pytest.approx(low, abs=0.01)
        assert strength.ci_high == pytest.approx(high, abs=0.01)


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("1", "1"),
        (" 2.", "2"),
        ("Answer 2 is better. Answer 1 is vague.", "2"),
        ("Looking at both, the better one is answer 1.", "1"),
        ("Tie", "tie"),
        ("Both answers are equally good.", "tie"),
        ("The second answer.", "2"),
        ("B", "2"),
        ("a)", "1"),
        ("I would need more context.", None),
        ("", None),
        ("Answer 12 of 1.5", None),
    ],
)
def test_verdicts_are_read_leniently(reply: str, verdict: str | None) -> None:
    assert parse_pairwise(reply) == verdict


def test_scale_replies() -> None:
    assert parse_scale("4") == 4
    assert parse_scale("Score: 5/5") == 5
    assert parse_scale("I give it a 3.") == 3
    assert parse_scale("1.5 out of ten") is None
    assert parse_scale("excellent") is None


def test_the_swap_rule_and_the_averaged_probabilities() -> None:
    one, two = OrderVerdict("1", "1"), OrderVerdict("2", "2")
    # A first and preferred, then B first and A (second) preferred: A wins.
    assert pair_outcome(one, two, "text", 0.1) == "a"
    # The first position wins in both orders: position bias, so a tie.
    assert pair_outcome(one, one, "text", 0.1) == "tie"
    assert pair_outcome(OrderVerdict(None, "?"), two, "text", 0.1) == "abstain"
    # Log-probs: a judge that likes position 1 (0.9 and 0.6) still prefers A on average.
    forward, backward = OrderVerdict("1", "", 0.9), OrderVerdict("1", "", 0.6)
    assert pair_outcome(forward, backward, "logprob", 0.1) == "a"
    assert pair_outcome(forward, OrderVerdict("1", "", 0.85), "logprob", 0.1) == "tie"


def test_judge_prompts_come_from_ragtui_toml_and_a_bad_one_is_one_line(tmp_path, capsys) -> None:
    from ragtui.cli import main
    from ragtui.config.settings_file import load_settings
    from ragtui.generation.base import Prompt
    from ragtui.judging.judge_prompts import pairwise_prompt

    config = tmp_path / "ragtui.toml"
    config.write_text('[judge]\npairwise_user = "Q: {question} 1: {first} 2: {second}. Pick."\n')
    templates = load_settings(str(config)).judge
    prompt: Prompt = pairwise_prompt(templates, "chat", "why?", "yes", "no")
    assert prompt.messages[1]["content"] == "Q: why? 1: yes 2: no. Pick."
    config.write_text('[judge]\npairwise_user = "{question} {answer_c}"\n')
    args = ["judge", "calibrate", str(tmp_path), "--judge", "openai:m", "--config", str(config)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "judge.pairwise_user uses {answer_c}" in err and len(err.splitlines()) == 1
    config.write_text('[judge]\nverdict = "x"\n')
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "verdict" in err and len(err.splitlines()) == 1
