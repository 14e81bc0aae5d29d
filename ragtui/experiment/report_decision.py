"""The decision part of report.md: good-enough verdicts, the Pareto frontier and the
threshold effect, in words and small tables."""

from __future__ import annotations

from typing import Any

from ragtui.experiment.formatting import markdown_table, signed
from ragtui.experiment.threshold import MIN_PAIRS
from ragtui.experiment.verdict import STAGES

STAGE_TITLES = {"retriever": "Retrievers", "generator": "Generators", "pipeline": "Pipelines"}


def verdict_lines(results: dict[str, Any]) -> list[str]:
    """The verdict sentences, stage by stage (also printed by `ragtui eval`)."""
    return [entry["sentence"] for entry in results.get("good_enough", [])]


def decision_markdown(results: dict[str, Any]) -> list[str]:
    if "good_enough" not in results:  # results.json written before verdicts existed
        return []
    primary = results["primary"]
    out = [
        "## Is a faster or cheaper choice good enough?",
        "",
        "Each component or pipeline is tested for non-inferiority against the best of its "
        "stage (faster or cheaper ones listed first): it is good enough when the lower end of "
        f"the paired 95% bootstrap interval of its difference from the best lies above "
        f"−{results['margin']:g} (the margin, `--margin`). Primary metrics: "
        f"{primary['retriever']} for retrievers"
        + (
            f", {primary['answer_label']} for generators and pipelines."
            if primary["answer"]
            else "; no answer metric could be computed."
        ),
        "",
    ]
    entries = results["good_enough"]
    for stage in STAGES:
        stage_entries = [entry for entry in entries if entry["stage"] == stage]
        if not stage_entries:
            continue
        out += [f"{STAGE_TITLES[stage]}:", ""]
        out += [f"- {entry['sentence']}" for entry in stage_entries] + [""]
    if not entries:
        out += [
            "Nothing to test: every stage has a single contender.",
            "",
        ]
    if results.get("pareto"):
        names = ", ".join(f"`{name}`" for name in results["pareto"])
        out += [
            f"Pareto frontier (no other pipeline is better on {primary['answer_label']}, median "
            f"latency and cost at once), fastest first: {names}.",
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
    out = [
        "## Answer quality by where the relevant passage was",
        "",
        f"Each (retriever, query) is binned {basis}; within a bin the generators read the same "
        f"passages, so they are compared paired ({threshold['label']}, 95% bootstrap "
        f"intervals where a bin has at least {MIN_PAIRS} pairs).",
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
            if gap is not None:
                interval = f"[{signed(gap['ci_low'])}, {signed(gap['ci_high'])}]"
                text += f" ({signed(gap['diff'])} {interval})"
            cells.append(text)
        rows.append([row["bin"], str(row["n"]), *cells])
    out += markdown_table(["bin", "n", *[f"`{g}`" for g in generators]], rows)
    if len(generators) > 1:
        out += [
            f"Differences in brackets are against `{threshold['reference']}`, the best "
            "generator over all bins. Where the gap shrinks as retrieval gets better, "
            "a better generator pays less once retrieval is good.",
            "",
        ]
    return out
