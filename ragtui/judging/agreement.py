"""How far a judge agrees with a person: agreement, Cohen's kappa, position inconsistency.

Labels are the side preferred, "a" or "b", or "tie"; a user's "both bad" is a tie (as in
the app's win table). Agreement is over the user's non-tie votes, where a judge's tie
counts as a disagreement (it did not find the difference the user saw); the share over
votes where both sides named a winner is given too, the figure MT-Bench reports.
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
class AgreementFigures:
    n: int  # pairs replayed
    abstentions: int  # pairs with no verdict in at least one order
    non_tie: int  # user's non-tie votes the judge gave a verdict on
    agreement: float | None
    agreement_ci: tuple[float, float] | None
    decided: int  # of those, where the judge named a winner too
    agreement_decided: float | None
    kappa: float | None
    kappa_ci: tuple[float, float] | None
    position_inconsistency: float | None
    position_inconsistency_ci: tuple[float, float] | None
    both_orders: int  # pairs with a verdict in both orders
    confusion: dict[str, dict[str, int]]  # user label → judge label → count

    def sentence(self) -> str:
        if self.agreement is None:
            return f"no non-tie votes to compare (n = {self.n})"
        kappa = "κ n/a" if self.kappa is None else f"κ {self.kappa:.2f}"
        return f"agrees with your votes {self.agreement:.0%}, {kappa}, n = {self.non_tie}"


def agreement_figures(
    users: Sequence[str],
    judges: Sequence[str],
    consistent: Sequence[bool | None],
    seed: int = 0,
) -> AgreementFigures:
    """Figures of one judge against one person, pair by pair.

    ``users``: the person's label; ``judges``: the judge's outcome ("abstain" allowed);
    ``consistent``: whether the judge named the same side in both orders (None when an
    order had no verdict).
    """
    confusion = {label: {other: 0 for other in JUDGE_LABELS} for label in LABELS}
    for user, judge in zip(users, judges, strict=True):
        confusion[user][judge] += 1
    answered = [(u, j) for u, j in zip(users, judges, strict=True) if j != "abstain"]
    non_tie = [(u, j) for u, j in answered if u != "tie"]
    agreed = sum(u == j for u, j in non_tie)
    decided = [(u, j) for u, j in non_tie if j != "tie"]
    kappa = cohen_kappa([u for u, _ in answered], [j for _, j in answered])
    kappa_ci = None
    if kappa is not None and len(answered) >= 2:
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(BOOTSTRAP_SAMPLES):
            picks = rng.integers(0, len(answered), size=len(answered))
            value = cohen_kappa([answered[p][0] for p in picks], [answered[p][1] for p in picks])
            if value is not None:
                draws.append(value)
        if draws:
            low, high = np.percentile(draws, [2.5, 97.5])
            kappa_ci = (float(low), float(high))
    orders = [flag for flag in consistent if flag is not None]
    inconsistent = sum(not flag for flag in orders)
    return AgreementFigures(
        n=len(users),
        abstentions=sum(judge == "abstain" for judge in judges),
        non_tie=len(non_tie),
        agreement=agreed / len(non_tie) if non_tie else None,
        agreement_ci=wilson(agreed, len(non_tie)),
        decided=len(decided),
        agreement_decided=sum(u == j for u, j in decided) / len(decided) if decided else None,
        kappa=kappa,
        kappa_ci=kappa_ci,
        position_inconsistency=inconsistent / len(orders) if orders else None,
        position_inconsistency_ci=wilson(inconsistent, len(orders)),
        both_orders=len(orders),
        confusion=confusion,
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
