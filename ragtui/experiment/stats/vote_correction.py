"""Answer judging, corrected: whether the person's votes may correct the judge's verdicts.

A corrected win rate of pipeline A over B would be prediction-powered (``ragtui.
experiment.stats.ppi``): the judge's win indicator on every pair it judged, plus the mean
of (the person's vote − the judge's verdict) / π over a sample of those pairs. That is
unbiased only when the sample is random, of the very pairs the judge scored, with a known
inclusion probability π for each; otherwise the correction carries whatever drew the
person to the pairs they voted on (ARES PR #51 shows such an interval missing the truth).

No vote the app records today is such a sample:

- **Sighted votes** (the panes named their pipelines): the person knew which pipeline
  gave which answer, and chose the pair to vote on knowing it.
- **Blind votes** hide which pane is which pipeline, and nothing more: the person chose
  the query (typed or picked it), the two pipelines compared and whether to vote at all.
  No inclusion probability exists, so no weight can undo that choice.

Both are used for agreement only (``ragtui judge calibrate``: the judge's agreement with
the person), never for correction, and the report says so. A vote could qualify once a
queue draws the (query, pipeline pair) for the person at random and records π with the
vote; ragtui has no such queue yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SIGHTED = "sighted"
CHOSEN = "chosen by you"


def refusal_reason(vote: Any) -> str:
    """Why a vote cannot be part of a correction sample: ``SIGHTED`` or ``CHOSEN``.

    Every vote has a reason today (see the module's docstring): a blind vote still has no
    recorded inclusion probability, because the person chose what to vote on.
    """
    return CHOSEN if getattr(vote, "blind", False) is True else SIGHTED


@dataclass(frozen=True)
class VoteCorrection:
    """What the person's votes can do for the judge's answer figures."""

    votes: int
    sighted: int
    blind: int
    used_for_correction: int  # always 0 until a random vote queue exists
    judge_pairwise: bool  # the eval has pairwise verdicts a correction would apply to

    def sentence(self) -> str:
        if not self.votes:
            if not self.judge_pairwise:
                return ""
            return (
                "Answer judging, corrected: not computed; you have no votes, so the judge's "
                "win rates are its own, uncorrected"
            )
        noun = "vote was" if self.votes == 1 else "votes were"
        return (
            f"Answer judging, corrected: not computed; your {self.votes} {noun} not drawn at "
            "random: used for agreement only, never for correction "
            f"({self.sighted} sighted: you saw which pipeline gave which answer; "
            f"{self.blind} blind: the pipelines were hidden, but you chose the query and the "
            "pair, so no vote has a known chance of having been asked)"
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "sentence": self.sentence()}


def vote_correction(votes: Sequence[Any], judge: Mapping[str, Any] | None) -> VoteCorrection:
    """Which votes could correct the judge's pairwise verdicts: none today, each refused
    with its reason (``refusal_reason``)."""
    reasons = [refusal_reason(vote) for vote in votes]
    return VoteCorrection(
        votes=len(reasons),
        sighted=reasons.count(SIGHTED),
        blind=reasons.count(CHOSEN),
        used_for_correction=0,
        judge_pairwise=bool(judge) and "pairwise" in (judge or {}).get("kinds", []),
    )
