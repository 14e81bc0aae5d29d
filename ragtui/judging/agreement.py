"""How far a judge agrees with a person: agreement, Cohen's kappa, position inconsistency.

Labels are the side preferred, "a" or "b", or "tie"; a user's "both bad" is a tie (as in
the app's win table). Agreement and κ rest on the same pairs, and n counts exactly those:
the user's non-tie votes the judge gave a verdict on (did not abstain). A judge's tie there
counts as a disagreement (it did not find the difference the user saw), and κ takes the
judge's three labels against the user's two, so it discounts what a judge that always
names one side would match by chance. The share over votes where both sides named a
winner is given too, the figure MT-Bench reports. The user's ties stay in the confusion
table; they are not scored, since a user's tie (or "both bad") says the answers were not
worth telling apart, not that they were equal.

Votes on one question are not independent (the same question, often the same answers): where
each vote's question is known, κ's interval resamples questions, and the agreement's
interval spans both Wilson's and that bootstrap's (Wilson's alone has width where every vote
agreed; the bootstrap's alone sees how one question's votes go together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

LABELS = ("a", "b", "tie")
JUDGE_LABELS = (*LABELS, "abstain")
BOOTSTRAP_SAMPLES = 2000


def user_label(choice: str) -> str:
    return choice if choice in ("a", "b") else "tie"


def cohen_kappa(
    first: Sequence[str], second: Sequence[str], labels: Sequence[str] = LABELS
) -> float | None:
    """Cohen's kappa of two raters over the same items; None when chance agreement is 1."""
    if not first:
        return None
    index = {label: position for position, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for one, other in zip(first, second, strict=True):
        table[index[one], index[other]] += 1
    table /= table.sum()
    observed = float(np.trace(table))
    expected = float(table.sum(axis=1) @ table.sum(axis=0))
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def wilson(successes: int, trials: int) -> tuple[float, float] | None:
    if trials == 0:
        return None
    interval = scipy_stats.binomtest(successes, trials).proportion_ci(method="wilson")
    return float(interval.low), float(interval.high)


@dataclass(frozen=True)
class PositionInconsistency:
    """MT-Bench's position inconsistency: the share of pairs, judged in both orders with a
    verdict in each, whose verdict changed when the order was swapped."""

    inconsistent: int
    pairs: int  # pairs with a verdict in both orders

    @property
    def rate(self) -> float | None:
        return self.inconsistent / self.pairs if self.pairs else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.inconsistent, self.pairs)


def position_inconsistency(consistent: Sequence[bool | None]) -> PositionInconsistency:
    """From each pair's ``PairJudgment.consistent`` (None: an order had no verdict)."""
    orders = [flag for flag in consistent if flag is not None]
    return PositionInconsistency(sum(not flag for flag in orders), len(orders))


SCORED_PAIRS = "your votes for a side that it gave a verdict on"


@dataclass(frozen=True)
class AgreementFigures:
    n: int  # pairs replayed
    abstentions: int  # pairs with no verdict in at least one order
    non_tie: int  # the scored pairs: user's non-tie votes the judge gave a verdict on
    agreement: float | None  # over the scored pairs
    agreement_ci: tuple[float, float] | None
    decided: int  # of those, where the judge named a winner too
    agreement_decided: float | None
    kappa: float | None  # over the scored pairs, as agreement
    kappa_ci: tuple[float, float] | None
    position_inconsistency: float | None
    position_inconsistency_ci: tuple[float, float] | None
    both_orders: int  # pairs with a verdict in both orders
    confusion: dict[str, dict[str, int]]  # user label → judge label → count
    # How κ's interval was found: "bootstrap" (percentile, resampling the scored votes, or
    # their questions where ``queries`` is known) or "agreement" (the bootstrap could not
    # vary: see ``kappa_from_agreement``).
    kappa_ci_basis: str = "bootstrap"
    queries: int | None = None  # distinct questions of the scored votes; None: not known
    # Whether the intervals resampled questions (two or more, some with several votes).
    by_question: bool = False

    def sentence(self) -> str:
        if self.agreement is None:
            return f"no non-tie votes to compare (n = {self.n})"
        return votes_sentence(
            self.agreement,
            self.agreement_ci,
            self.kappa,
            self.kappa_ci,
            self.non_tie,
            self.kappa_ci_basis,
            self.queries,
            self.by_question,
        )


def votes_sentence(
    agreement: float,
    agreement_ci: Sequence[float] | None,
    kappa: float | None,
    kappa_ci: Sequence[float] | None,
    non_tie: int,
    kappa_ci_basis: str = "bootstrap",
    queries: int | None = None,
    by_question: bool = False,
) -> str:
    """``agrees with your votes 78% [64%, 88%], κ 0.55 [0.31, 0.76], n = 40 on 12
    questions (…)``: each figure with its 95% interval, and the n both rest on."""
    shared = f" [{agreement_ci[0]:.0%}, {agreement_ci[1]:.0%}]" if agreement_ci else ""
    kappa_words = "κ n/a" if kappa is None else f"κ {kappa:.2f}"
    if kappa is not None and kappa_ci:
        kappa_words += f" [{kappa_ci[0]:.2f}, {kappa_ci[1]:.2f}]"
    basis = (
        f"; κ's interval is the agreement's carried to κ: with every one of the {non_tie} "
        "votes alike, resampling them cannot vary, and n that small cannot rule out more "
        "disagreement"
        if kappa is not None and kappa_ci and kappa_ci_basis == "agreement"
        else ""
    )
    on = f" on {queries} question{'s' * (queries != 1)}" if queries is not None else ""
    clustered = (
        "; the intervals resample questions, as votes on one question go together"
        if by_question
        else ""
    )
    return (
        f"agrees with your votes {agreement:.0%}{shared}, {kappa_words}, n = {non_tie}{on} "
        f"({SCORED_PAIRS}{clustered}{basis})"
    )


def kappa_from_agreement(
    users: Sequence[str], judges: Sequence[str], agreement_ci: tuple[float, float]
) -> tuple[float, float]:
    """κ's interval from the observed agreement's (Wilson) interval, at the observed chance
    agreement p_e: κ = (p_o − p_e) / (1 − p_e) is increasing in p_o.

    Used where the percentile bootstrap has zero width: a judge that agreed on all of a
    few votes gives every resample κ 1, "[1.00, 1.00]", which claims certainty that n
    votes cannot give. Wilson's interval for p_o does have width at p_o = 1 (its lower end
    is n / (n + z²)); p_e is taken as known, which the bootstrap would have varied too.
    """
    table: dict[tuple[str, str], int] = {}
    for user, judge in zip(users, judges, strict=True):
        table[(user, judge)] = table.get((user, judge), 0) + 1
    total = len(users)
    chance = sum(
        sum(n for (u, _), n in table.items() if u == label)
        * sum(n for (_, j), n in table.items() if j == label)
        for label in LABELS
    ) / (total * total)
    low, high = ((p - chance) / (1 - chance) for p in agreement_ci)
    return max(-1.0, min(low, 1.0)), max(-1.0, min(high, 1.0))


def agreement_figures(
    users: Sequence[str],
    judges: Sequence[str],
    consistent: Sequence[bool | None],
    seed: int = 0,
    questions: Sequence[str] | None = None,
) -> AgreementFigures:
    """Figures of one judge against one person, pair by pair.

    ``users``: the person's label; ``judges``: the judge's outcome ("abstain" allowed);
    ``consistent``: whether the judge named the same side in both orders (None when an
    order had no verdict); ``questions``: each vote's question, where known (intervals
    then resample questions).
    """
    confusion = {label: {other: 0 for other in JUDGE_LABELS} for label in LABELS}
    for user, judge in zip(users, judges, strict=True):
        confusion[user][judge] += 1
    groups = list(questions) if questions is not None else [str(i) for i in range(len(users))]
    # One set of scored pairs for agreement, κ, their intervals and n (see the docstring).
    scored = [
        (u, j, g)
        for u, j, g in zip(users, judges, groups, strict=True)
        if j != "abstain" and u != "tie"
    ]
    agreed = sum(u == j for u, j, _ in scored)
    decided = [(u, j) for u, j, _ in scored if j != "tie"]
    kappa = cohen_kappa([u for u, _, _ in scored], [j for _, j, _ in scored])
    clusters: dict[str, list[int]] = {}
    for position, (_, _, group) in enumerate(scored):
        clusters.setdefault(group, []).append(position)
    members = list(clusters.values())
    kappa_ci = None
    agreement_ci = wilson(agreed, len(scored))
    clustered = 2 <= len(members) < len(scored)
    if len(members) >= 2:
        rng = np.random.default_rng(seed)
        draws, agreements = [], []
        for _ in range(BOOTSTRAP_SAMPLES):
            picks = [p for c in rng.integers(0, len(members), len(members)) for p in members[c]]
            agreements.append(np.mean([scored[p][0] == scored[p][1] for p in picks]))
            if kappa is not None:
                value = cohen_kappa([scored[p][0] for p in picks], [scored[p][1] for p in picks])
                if value is not None:
                    draws.append(value)
        if draws:
            low, high = np.percentile(draws, [2.5, 97.5])
            kappa_ci = (float(low), float(high))
        if agreement_ci and clustered:
            # Wilson's interval takes the votes as independent; the questions' bootstrap
            # sees how they go together but has no width where every vote agreed.
            low, high = np.percentile(agreements, [2.5, 97.5])
            agreement_ci = (min(agreement_ci[0], float(low)), max(agreement_ci[1], float(high)))
    basis = "bootstrap"
    if kappa_ci is not None and agreement_ci and kappa_ci[1] - kappa_ci[0] <= 1e-12:
        kappa_ci = kappa_from_agreement(
            [u for u, _, _ in scored], [j for _, j, _ in scored], agreement_ci
        )
        basis = "agreement"
    inconsistency = position_inconsistency(consistent)
    return AgreementFigures(
        n=len(users),
        abstentions=sum(judge == "abstain" for judge in judges),
        non_tie=len(scored),
        agreement=agreed / len(scored) if scored else None,
        agreement_ci=agreement_ci,
        decided=len(decided),
        agreement_decided=sum(u == j for u, j in decided) / len(decided) if decided else None,
        kappa=kappa,
        kappa_ci=kappa_ci,
        position_inconsistency=inconsistency.rate,
        position_inconsistency_ci=inconsistency.interval,
        both_orders=inconsistency.pairs,
        confusion=confusion,
        kappa_ci_basis=basis,
        queries=len(clusters) if questions is not None else None,
        by_question=questions is not None and clustered,
    )


@dataclass(frozen=True)
class PositionBias:
    """How often the left answer won the votes that named a winner."""

    left_wins: int
    decided: int
    interval: tuple[float, float] | None

    @property
    def share(self) -> float | None:
        return self.left_wins / self.decided if self.decided else None

    def sentence(self) -> str:
        if not self.decided:
            return "no votes named a winner yet"
        low, high = self.interval or (0.0, 1.0)
        return (
            f"left answer won {self.share:.0%} of {self.decided} decided votes "
            f"(95% CI {low:.0%}–{high:.0%}; 50% is no position bias)"
        )


def position_bias(choices: Sequence[str]) -> PositionBias:
    """From vote choices ("a" is the left pane); ties and "both bad" decide nothing."""
    decided = [choice for choice in choices if choice in ("a", "b")]
    left = sum(choice == "a" for choice in decided)
    return PositionBias(left, len(decided), wilson(left, len(decided)))
