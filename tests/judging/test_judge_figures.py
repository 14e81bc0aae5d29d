"""The judge's figures checked against independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from ragtui.experiment.stats.comparisons import bradley_terry, bradley_terry_with_intervals
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
    from sklearn.metrics import cohen_kappa_score

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
    # κ on the same four pairs as the agreement and n: the user's votes for a side that the
    # judge gave a verdict on, computed by scikit-learn.
    scored_users, scored_judges = ["a", "a", "b", "b"], ["a", "tie", "b", "a"]
    expected = cohen_kappa_score(scored_users, scored_judges, labels=["a", "b", "tie"])
    assert expected == pytest.approx(1 / 5)  # p_o 1/2, p_e 3/8: (1/2 - 3/8) / (5/8)
    assert figures.kappa == pytest.approx(expected)
    # Each figure with its interval, and the n both rest on.
    (a_low, a_high), (k_low, k_high) = figures.agreement_ci, figures.kappa_ci
    assert figures.sentence() == (
        f"agrees with your votes 50% [{a_low:.0%}, {a_high:.0%}], κ {expected:.2f} "
        f"[{k_low:.2f}, {k_high:.2f}], n = 4 (your votes for a side that it gave a verdict on)"
    )


def test_kappa_agreement_and_n_rest_on_the_same_pairs() -> None:
    from sklearn.metrics import cohen_kappa_score

    # The case: the user's two ties against a judge that named sides. κ over all
    # four pairs is 0.33; agreement and n are over the two non-tie votes.
    figures = agreement_figures(["a", "b", "tie", "tie"], ["a", "b", "a", "b"], [True] * 4)
    expected = cohen_kappa_score(["a", "b"], ["a", "b"], labels=["a", "b", "tie"])
    assert figures.non_tie == 2 and figures.agreement == 1.0
    assert figures.kappa == pytest.approx(expected) == pytest.approx(1.0)
    assert "agrees with your votes 100% [" in figures.sentence()
    # Two votes, both agreed: not "[1.00, 1.00]" but the agreement's interval carried to κ.
    assert "κ 1.00 [-0.32, 1.00], n = 2 " in figures.sentence()
    # The bootstrap interval resamples those same pairs: on a random set it is centred
    # on scikit-learn's κ of the scored pairs, not of every answered pair.
    rng = np.random.default_rng(3)
    users = list(rng.choice(["a", "b", "tie"], size=80, p=[0.35, 0.35, 0.3]))
    judges = [u if rng.random() < 0.6 else str(rng.choice(["a", "b", "tie"])) for u in users]
    figures = agreement_figures(users, judges, [None] * len(users))
    scored = [(u, j) for u, j in zip(users, judges, strict=True) if u != "tie"]
    expected = cohen_kappa_score(
        [u for u, _ in scored], [j for _, j in scored], labels=["a", "b", "tie"]
    )
    assert figures.non_tie == len(scored)
    assert figures.agreement == pytest.approx(np.mean([u == j for u, j in scored]))
    assert figures.kappa == pytest.approx(expected)
    low, high = figures.kappa_ci
    assert low < expected < high


def test_position_inconsistency_is_the_verdict_changing_with_the_order_for_both_methods() -> None:
    from ragtui.judging.judge import PairJudgment, order_verdict_from_probability

    def judged(forward: OrderVerdict, backward: OrderVerdict, method: str) -> PairJudgment:
        return PairJudgment(forward, backward, pair_outcome(forward, backward, method, 0.1), method)

    # Text: A first then B first, the judge names A both times: consistent.
    assert judged(OrderVerdict("1", "1"), OrderVerdict("2", "2"), "text").consistent is True
    assert judged(OrderVerdict("1", "1"), OrderVerdict("1", "1"), "text").consistent is False
    assert judged(OrderVerdict("tie", ""), OrderVerdict("tie", ""), "text").consistent is True

    # Log-probabilities, read with the same band as the outcome: a judge that cannot tell
    # the answers apart (p(1) = 0.52, then 0.47) says "tie" in both orders, which is no
    # change of verdict; one that names position 1 firmly in both orders changed its verdict.
    def logprob(p_first: float) -> OrderVerdict:
        return OrderVerdict(order_verdict_from_probability(p_first, 0.1), "", p_first)

    undecided = judged(logprob(0.52), logprob(0.47), "logprob")
    assert undecided.outcome == "tie" and undecided.consistent is True
    follows_position = judged(logprob(0.9), logprob(0.8), "logprob")
    assert follows_position.consistent is False
    prefers_a = judged(logprob(0.9), logprob(0.2), "logprob")
    assert prefers_a.outcome == "a" and prefers_a.consistent is True
    # The same flags give the same rate in the calibration and in the judged grid: one
    # function (agreement.position_inconsistency) serves both.
    from ragtui.judging.agreement import position_inconsistency

    flags = [undecided.consistent, follows_position.consistent, prefers_a.consistent, None]
    rate = position_inconsistency(flags)
    assert (rate.inconsistent, rate.pairs, rate.rate) == (1, 3, pytest.approx(1 / 3))
    assert agreement_figures(["a"] * 4, ["a"] * 4, flags).position_inconsistency == rate.rate


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
    assert parse_scale("5") == 5
    assert parse_scale("Score: 5/5") == 5
    assert parse_scale("4 out of 5") == 4
    assert parse_scale("I give it a 3.") == 3
    assert parse_scale("On a scale of 1-5: 4") == 4  # the scale echoed is not a grade
    assert parse_scale("1.5 out of ten") is None
    assert parse_scale("excellent") is None


@pytest.mark.parametrize("reply", ["10", "10/10", "8/10", "7 out of 10", "4 out of ten", "80%"])
def test_a_reply_on_another_scale_is_refused_not_read_as_a_grade(reply: str) -> None:
    # Refused, not mapped: the judge retries, then abstains (see parse_scale).
    assert parse_scale(reply) is None


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


def test_a_judge_agreeing_on_every_one_of_few_votes_gets_an_interval_with_width() -> None:
    """Twelve votes, all agreed: every bootstrap resample has κ 1, so the percentile
    interval would be [1.00, 1.00]. The interval is the agreement's Wilson interval carried
    to κ instead (lower end 12 / (12 + 1.96²) for the agreement), and the sentence says why."""
    from ragtui.judging.agreement import agreement_figures, wilson

    users = ["a", "b", "a", "a", "b", "b", "a", "b", "a", "b", "a", "a"]
    figures = agreement_figures(users, users, [True] * len(users))
    assert figures.kappa == 1.0 and figures.kappa_ci_basis == "agreement"
    low, high = figures.kappa_ci
    agreement_low = wilson(12, 12)[0]
    assert agreement_low == pytest.approx(12 / (12 + 1.959964**2), abs=1e-4)
    chance = (7 / 12) ** 2 + (5 / 12) ** 2  # both raters: 7 a, 5 b
    assert low == pytest.approx((agreement_low - chance) / (1 - chance))
    assert high == 1.0 and low < 0.8
    sentence = figures.sentence()
    assert f"κ 1.00 [{low:.2f}, 1.00]" in sentence and "n = 12" in sentence
    assert "resampling them cannot vary" in sentence
    # Where the votes vary, the bootstrap interval stays.
    mixed = agreement_figures(users, [*users[:-2], "b", "a"], [True] * len(users))
    assert mixed.kappa_ci_basis == "bootstrap" and "cannot vary" not in mixed.sentence()


def test_votes_on_one_question_are_resampled_together() -> None:
    """Votes on the same question go together: a judge that gets a question right gets
    all its votes right. Resampling votes as if independent makes κ's interval too narrow;
    with each vote's question known, the interval resamples questions and is wider, and the
    sentence names the questions."""
    from ragtui.judging.agreement import agreement_figures, wilson

    users, judges, questions = [], [], []
    for question in range(12):
        agrees = question % 3 != 0  # 8 questions agreed on, 4 not
        for vote in range(4):
            user = "a" if (question + vote) % 2 else "b"
            users.append(user)
            judges.append(user if agrees else ("b" if user == "a" else "a"))
            questions.append(f"q{question}")
    per_vote = agreement_figures(users, judges, [True] * len(users))
    per_question = agreement_figures(users, judges, [True] * len(users), questions=questions)
    assert per_vote.kappa == per_question.kappa
    assert per_vote.queries is None and per_question.queries == 12
    vote_width = per_vote.kappa_ci[1] - per_vote.kappa_ci[0]
    question_width = per_question.kappa_ci[1] - per_question.kappa_ci[0]
    assert question_width > 1.5 * vote_width
    # The agreement's interval is at least Wilson's, and wider where questions cluster.
    wilson_low, wilson_high = wilson(32, 48)
    low, high = per_question.agreement_ci
    assert low < wilson_low - 0.03 and high >= wilson_high
    sentence = per_question.sentence()
    assert "n = 48 on 12 questions" in sentence and "resample questions" in sentence
    assert "questions" not in per_vote.sentence()


def test_calibration_figures_resample_the_votes_questions() -> None:
    """judge calibrate groups the votes by question (its id, or its text when typed)."""
    from types import SimpleNamespace

    from ragtui.judging.calibration import figures_of
    from ragtui.judging.store import Vote

    votes, judged = [], []
    for number in range(12):
        side = "ab"[number % 2]
        query_id = "" if number % 3 == 2 else f"q{number % 3}"
        votes.append(
            Vote(f"question {number % 3}", query_id, "p", "q", side, "x", "y", None, None, 0.0)
        )
        # Only outcome and consistent are read from a judgment.
        judged.append(SimpleNamespace(outcome=side if number % 4 else "a", consistent=True))
    figures = figures_of(votes, judged)
    assert figures.queries == 3 and figures.non_tie == 12


def test_votes_all_on_one_question_are_not_said_to_be_resampled() -> None:
    """With every vote on one question there is nothing to resample: κ has no interval,
    the agreement keeps Wilson's, and the sentence claims no resampling."""
    from ragtui.judging.agreement import agreement_figures, wilson

    users = ["a", "b", "a", "b", "a", "a", "b", "a", "b", "b"]
    judges = ["a", "b", "b", "b", "a", "a", "b", "a", "a", "b"]
    figures = agreement_figures(users, judges, [True] * 10, questions=["q"] * 10)
    assert figures.queries == 1 and not figures.by_question and figures.kappa_ci is None
    assert figures.agreement_ci == wilson(8, 10)
    sentence = figures.sentence()
    assert "n = 10 on 1 question (" in sentence and "resample" not in sentence
