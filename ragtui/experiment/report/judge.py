"""The judge's part of report.md: who judged, how far it agrees with the user, its scores
and the Bradley–Terry strengths from its pairwise verdicts."""

from __future__ import annotations

from typing import Any

from ragtui.evidence_rules import PAIRWISE_FLOOR, too_few
from ragtui.experiment.report.formatting import markdown_table
from ragtui.experiment.run.judged_grid import JUDGE_LABELS, JUDGE_METRICS


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _interval(interval) -> str:
    return "" if not interval else f" [{interval[0]:.0%}, {interval[1]:.0%}]"


def judge_line(judge: dict[str, Any]) -> str:
    """One line for the terminal: the judge, its consistency and its calibration."""
    return (
        f"judge {judge['spec']} ({judge['method']}): {judge['pairs_judged']} pairs, "
        f"position inconsistency {_percent(judge['position_inconsistency'])}, "
        f"{judge['abstentions']} abstentions{retried_words(judge)}; "
        f"{judge['calibration_sentence']}"
    )


def retried_words(judge: dict[str, Any]) -> str:
    """How many requests the server refused and ragtui sent again (none: empty)."""
    retries = judge.get("http_retries") or 0
    if not retries:
        return ""
    return (
        f", {retries} of its {judge['calls']} requests refused by the server "
        "(HTTP 429, 502, 503 or 504) and sent again: counted in its requests, no tokens in its cost"
    )


def judged_label(label: str, results: dict[str, Any]) -> str:
    """A judged metric's label with the judge's calibration beside it."""
    judge = results.get("judge")
    if not judge:
        return label
    return f"{label} ({judge['calibration_sentence']})"


def judge_markdown(results: dict[str, Any]) -> list[str]:
    judge = results.get("judge")
    if not judge:
        return []
    reference = (
        "reference-guided where the query has a reference answer"
        if judge["reference_guided"]
        else "reference-free"
    )
    out = [
        "## The judge",
        "",
        f"Answers judged by `{judge['spec']}` (model `{judge['model_identity']}`), verdicts "
        f"read by {judge['method']}, {reference}. **{judge['calibration_sentence']}.**",
        "",
        f"- {judge['calls']} judge calls ({judge['from_cache']} verdicts from the judge cache), "
        f"{judge['abstentions']} abstentions (no readable verdict after a retry).",
        f"- Pairs judged in both orders: {judge['pairs_judged']}; position inconsistency "
        f"(the verdict changed side when the answers swapped places): "
        f"{_percent(judge['position_inconsistency'])}"
        f"{_interval(judge['position_inconsistency_ci'])}. "
        + (
            "A side wins when the two orders' averaged probability of it being better is "
            f"more than {judge['tie_band']:g} from one half (so a taste for one position "
            "cancels out)."
            if judge["method"] == "logprob"
            else "A side wins only when it wins in both orders; otherwise it is a tie."
        ),
        "",
    ]
    metrics = [m for m in JUDGE_METRICS if m.split("_", 1)[1] in judge["kinds"]]
    if metrics:
        rows = [
            [f"`{name}`", *[_score(data["mean"].get(metric)) for metric in metrics]]
            for name, data in results["pipelines"].items()
        ]
        out += ["Judged scores (1–5 scale mapped to 0–1):", ""]
        out += markdown_table(["pipeline", *[JUDGE_LABELS[m] for m in metrics]], rows)
    if judge["bradley_terry"] and judge.get("bradley_terry_enough") is False:
        out += [
            "Bradley–Terry strengths from the pairwise verdicts: "
            f"{too_few(judge['bradley_terry_queries'])} (at least {PAIRWISE_FLOOR.minimum}).",
            "",
        ]
    elif judge["bradley_terry"]:
        out += ["Bradley–Terry strengths from the pairwise verdicts (ties count half):", ""]
        rows = [
            [
                f"`{row['name']}`",
                f"{row['log_strength']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]",
                f"{row['p_beats_average']:.0%}",
                str(row["comparisons"]),
            ]
            for row in judge["bradley_terry"]
        ]
        out += markdown_table(
            ["pipeline", "log-strength [95% CI]", "beats an average pipeline", "pairs"], rows
        )
    return out


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
