"""Where each sampled passage ends: one outcome each, counted in funnel order."""

from __future__ import annotations

# Funnel order: each sampled passage ends in exactly one of these.
OUTCOMES = (
    "failed",
    "unparseable",
    "generic",
    "copied",
    "duplicate",
    "other language",
    "high overlap",
    "not answerable",
    "kept",
)
# The outcome of a question dropped by a filter.
REASON_OF_FILTER = {
    "generic": "generic",
    "copied": "copied",
    "duplicate": "duplicate",
    "language": "other language",
    "roundtrip": "not answerable",
}

# The outcomes of a question that passed the cheap filters (only the round trip may have
# dropped it): what a person is offered to label. "high overlap" is not among them: the
# user asked for those to be dropped (--max-overlap).
PASSED_CHEAP_FILTERS = ("not answerable", "kept")


def shown_outcomes(funnel: dict[str, int]) -> list[str]:
    # The overlap cap is opt-in: its count is shown only for sets made with it.
    return [o for o in OUTCOMES if o != "high overlap" or o in funnel]


def funnel_line(funnel: dict[str, int]) -> str:
    done = sum(funnel.get(outcome, 0) for outcome in OUTCOMES)
    parts = [f"generated {done}"]
    parts += [f"{outcome} {funnel.get(outcome, 0)}" for outcome in shown_outcomes(funnel)]
    return " · ".join(parts)
