"""How far each automatic source agrees with the person, as the report and the terminal
show it beside the figures that rest on it: a labeller's grades (results.json's
``labeller_agreement``, from ``ragtui.judging.labeller_agreement``)."""

from __future__ import annotations

from typing import Any


def labeller_agreement_lines(results: dict[str, Any]) -> list[str]:
    """One line per labeller whose grades the retrieval figures use ("labeller X: agrees
    with your grades κ … (n = …)", or "not checked against your labels")."""
    return [
        f"Retrieval figures rest partly on a labeller model; {entry['sentence']}."
        for entry in results.get("labeller_agreement") or []
        if isinstance(entry, dict) and entry.get("sentence")
    ]


def answer_correction_lines(results: dict[str, Any]) -> list[str]:
    """The findings' line on correcting the judge by the person's votes (results.json's
    ``answer_correction``, ``ragtui.experiment.stats.vote_correction``): refused, and why."""
    entry = results.get("answer_correction")
    sentence = entry.get("sentence") if isinstance(entry, dict) else None
    return [f"{sentence}."] if sentence else []


def answer_correction_markdown(results: dict[str, Any]) -> list[str]:
    """report.md's "Answer judging, corrected" section."""
    lines = answer_correction_lines(results)
    if not lines:
        return []
    return [
        "## Answer judging, corrected",
        "",
        *lines,
        "",
        "A corrected win rate combines the judge's verdicts on every pair with your votes on "
        "a random sample of those same pairs, each weighted by its known chance of being "
        "drawn (prediction-powered inference); it is unbiased however wrong the judge is, "
        "but only for such a sample. Votes on pairs you chose carry what led you to them, "
        "and no weight can undo that, so they measure how far the judge agrees with you "
        "('ragtui judge calibrate') and correct nothing.",
        "",
    ]
