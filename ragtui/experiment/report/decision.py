"""The decision part of report.md: good-enough verdicts, the Pareto frontier and the
threshold effect, in words and small tables."""

from __future__ import annotations

from typing import Any

from ragtui.evidence_rules import (
    GOOD_ENOUGH_FAMILY,
    THRESHOLD_BIN_FLOOR,
    THRESHOLD_FAMILY,
    VERDICT_FLOOR,
)
from ragtui.experiment.report.formatting import markdown_table, signed
from ragtui.experiment.stats.good_enough import STAGES, frontier_step_words

STAGE_TITLES = {"retriever": "Retrievers", "generator": "Generators", "pipeline": "Pipelines"}


def verdict_lines(results: dict[str, Any]) -> list[str]:
    """The verdict sentences, stage by stage, and the margin's caveats (also printed by
    `ragtui eval`). Only faster or cheaper candidates are ever listed."""
    entries = [
        entry
        for entry in results.get("good_enough", [])
        if entry.get("faster_or_cheaper", True)  # results.json from before listed slower ones
    ]
    return [entry["sentence"] for entry in entries] + list(results.get("margin_notes", []))


def _rules_sentence(results: dict[str, Any]) -> str:
    rules = results.get("good_enough_rules")
    if not rules:
        return ""
    claims = rules["claims"]
    correction = (
        f"{claims} verdicts in this report are one family ({GOOD_ENOUGH_FAMILY.correction}): "
        f"each interval is at {rules['confidence'] * 100:.4g}%, so all of them hold together "
        "with 95% confidence. "
        if claims > 1
        else ""
    )
    checks = rules.get("clearly_worse_checks") or 0
    if checks:
        correction += (
            f"The {checks} “clearly worse on …” checks of good-enough verdicts on other "
            "metrics use the same level but are not counted in that family: verdicts and "
            f"checks together hold with at least {rules['joint_confidence'] * 100:.4g}% "
            "confidence (Bonferroni over both). "
        )
    return (
        f" {correction}Every contender of a stage is compared on the same queries (failed "
        "answers count as wrong ones, and as slower than any answer); no verdict is given "
        f"under {VERDICT_FLOOR.minimum} shared queries or from an interval of zero width."
    )


def decision_markdown(results: dict[str, Any]) -> list[str]:
    if "good_enough" not in results:  # results.json written before verdicts existed
        return []
    primary = results["primary"]
    margin = results.get("margin_spec") or f"{results['margin']:g}"
    margin_words = (
        f"{margin} of the best's mean" if margin.endswith("%") else f"{margin} on the 0–1 scale"
    )
    out = [
        "## Is a faster or cheaper choice good enough?",
        "",
        "Each component or pipeline faster or cheaper than the best of its stage is tested "
        "for non-inferiority against it: it is good enough when the lower end of the paired "
        f"bootstrap interval of its difference from the best lies above −margin (`--margin` "
        f"{margin_words}; each sentence gives it against the best's score). Primary metrics: "
        f"{primary['retriever']} for retrievers"
        + (
            f", {primary['answer_label']} for generators and pipelines."
            if primary["answer"]
            else "; no answer metric could be computed."
        )
        + _rules_sentence(results),
        "",
    ]
    entries = [entry for entry in results["good_enough"] if entry.get("faster_or_cheaper", True)]
    for stage in STAGES:
        stage_entries = [entry for entry in entries if entry["stage"] == stage]
        if not stage_entries:
            continue
        out += [f"{STAGE_TITLES[stage]}:", ""]
        out += [f"- {entry['sentence']}" for entry in stage_entries] + [""]
    if not entries and not results.get("margin_notes"):
        out += [
            "Nothing to test: no stage has a contender faster or cheaper than its best.",
            "",
        ]
    out += [f"- {note}" for note in results.get("margin_notes", [])]
    out += [""] if results.get("margin_notes") else []
    if results.get("pareto"):
        names = ", ".join(f"`{name}`" for name in results["pareto"])
        out += [
            f"Pareto frontier (no other pipeline is better on {primary['answer_label']}, median "
            f"latency and cost at once), fastest first: {names}.",
            "",
        ]
        steps = results.get("pareto_steps") or []
        if steps:
            out += [
                "Along the frontier, each pipeline against the faster one before it (the "
                f"{primary['answer_label']} gap on the queries both scored, its 95% paired "
                "bootstrap interval; each step its own interval):",
                "",
                *[f"- {frontier_step_words(step, primary['answer_label'])}" for step in steps],
                "",
            ]
    out += threshold_markdown(results.get("threshold"))
    return out


def threshold_markdown(threshold: dict[str, Any] | None) -> list[str]:
    if not threshold:
        return []
    basis = (
        "by where the first relevant passage was among the passages the generator read"
        if threshold["basis"] == "judgments"
        else "by whether a reference answer appears in the passages the generator read"
    )
    floor = threshold.get("floor", THRESHOLD_BIN_FLOOR.minimum)
    documents = (
        " Judgments are per document: a rank counts documents (a document's passages once)."
        if threshold.get("unit") == "document"
        else ""
    )
    out = [
        "## Answer quality by where the relevant passage was",
        "",
        f"Each (retriever, query) is binned {basis}; within a bin the generators read the same "
        f"passages, so they are compared paired ({threshold['label']}). The 95% bootstrap "
        "intervals resample queries (a query's answers under each retriever are drawn "
        f"together) and are given where a bin holds at least {floor} queries; `n` counts "
        f"queries, `answers` the (retriever, query) pairs. p-values of the gaps are "
        f"corrected together ({THRESHOLD_FAMILY.correction}) in results.json.{documents}",
        "",
    ]
    out += [f"- {line}" for line in threshold["findings"]] + [""]
    generators = list(threshold["bins"][0]["means"]) if threshold["bins"] else []
    rows = []
    for row in threshold["bins"]:
        gaps = {gap["generator"]: gap for gap in row["gaps"]}
        cells = []
        for generator in generators:
            mean = row["means"][generator]
            gap = gaps.get(generator)
            text = "–" if mean is None else f"{mean:.3f}"
            if gap is not None and gap.get("ci_low") is not None:
                interval = f"[{signed(gap['ci_low'])}, {signed(gap['ci_high'])}]"
                text += f" ({signed(gap['diff'])} {interval})"
            elif gap is not None:
                text += " (too few queries)"
            cells.append(text)
        rows.append([row["bin"], str(row["n"]), str(row.get("units", row["n"])), *cells])
    out += markdown_table(["bin", "n", "answers", *[f"`{g}`" for g in generators]], rows)
    if len(generators) > 1:
        out += [
            f"Differences in brackets are against `{threshold['reference']}`, the best "
            "generator over all bins. Where the gap shrinks as retrieval gets better, "
            "a better generator pays less once retrieval is good.",
            "",
        ]
    return out
