"""The threshold effect: answer quality per generator within bins of retrieval quality.

Each (retriever, query) lands in one bin by what the generator was given to read: the
first relevant passage at rank 1, lower in the passages read, or missing from them. Where
nothing is judged, the bins say whether a reference answer appears in the passages read.
Within a bin every generator read the same passages, so generators are compared paired
over the same (retriever, query) units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ragtui.experiment.formatting import signed
from ragtui.experiment.statistics import adjust_p_values, compare_paired
from ragtui.metrics import scores_by_unit


def _bins_from_judgments(run, context_k: int) -> dict[tuple[str, str], str]:
    qrels = run.dataset.qrels
    unit = run.dataset.judged_unit
    bins = {}
    for (retriever, query_id), retrieval in run.retrievals.items():
        grades = qrels.get(query_id)
        if not grades:
            continue
        ranked = list(scores_by_unit(retrieval.hits[:context_k], unit))  # in rank order
        rank = next(
            (position for position, key in enumerate(ranked, 1) if grades.get(key, 0) > 0), None
        )
        if rank == 1:
            bins[(retriever, query_id)] = "rank 1"
        elif rank is not None:
            bins[(retriever, query_id)] = f"ranks 2–{context_k}"
        else:
            bins[(retriever, query_id)] = "missing"
    return bins


def _bins_from_answers(figures, generators: Sequence[str]) -> dict[tuple[str, str], str]:
    bins = {}
    for (retriever, generator, query_id), scores in figures.items():
        if generator != generators[0] or scores.get("context_has_answer") is None:
            continue
        bins[(retriever, query_id)] = (
            "answer in passages" if scores["context_has_answer"] else "answer missing"
        )
    return bins


# A bootstrap interval from a handful of pairs is too narrow to mean anything.
MIN_PAIRS = 5

BIN_WORDS = {
    "rank 1": "with the relevant passage at rank 1",
    "missing": "with no relevant passage among those read",
    "answer in passages": "with a reference answer in the passages read",
    "answer missing": "with no reference answer in the passages read",
}


def threshold_effect(
    run, figures: Mapping[tuple[str, str, str], Mapping[str, Any]], metric: str, label: str
) -> dict[str, Any] | None:
    """Bins, each generator's mean in each, and each generator's gap to the best one."""
    plan = run.plan
    generators = list(plan.generators)
    if run.dataset.qrels:
        bins, basis = _bins_from_judgments(run, plan.context_k), "judgments"
    else:
        bins, basis = _bins_from_answers(figures, generators), "reference answers"
    if not bins:
        return None

    def value(generator: str, unit: tuple[str, str]) -> float | None:
        return figures.get((unit[0], generator, unit[1]), {}).get(metric)

    overall = {
        generator: np.mean(
            [v for unit in bins if (v := value(generator, unit)) is not None] or [np.nan]
        )
        for generator in generators
    }
    reference = max(generators, key=lambda name: np.nan_to_num(overall[name], nan=-1.0))
    order = [name for name in ("rank 1", f"ranks 2–{plan.context_k}", "missing")] + [
        "answer in passages",
        "answer missing",
    ]
    table = []
    for name in order:
        units = [unit for unit, bin_name in bins.items() if bin_name == name]
        if not units:
            continue
        means = {}
        for generator in generators:
            present = [v for unit in units if (v := value(generator, unit)) is not None]
            means[generator] = float(np.mean(present)) if present else None
        gaps = []
        for generator in generators:
            if generator == reference:
                continue
            pairs = [
                (a, b)
                for unit in units
                if (a := value(reference, unit)) is not None
                and (b := value(generator, unit)) is not None
            ]
            if len(pairs) < MIN_PAIRS:
                continue
            comparison = compare_paired([a for a, _ in pairs], [b for _, b in pairs])
            if comparison is not None:
                gaps.append(
                    {
                        "generator": generator,
                        "diff": comparison.mean_difference,
                        "ci_low": comparison.ci_low,
                        "ci_high": comparison.ci_high,
                        "p_value": comparison.p_value,
                        "n": comparison.n,
                    }
                )
        table.append({"bin": name, "n": len(units), "means": means, "gaps": gaps})
    adjust_p_values([gap for row in table for gap in row["gaps"]])
    result = {
        "metric": metric,
        "label": label,
        "basis": basis,
        "reference": reference,
        "bins": table,
    }
    result["findings"] = describe_threshold(result, label)
    return result


def _bin_words(name: str) -> str:
    return BIN_WORDS.get(name, f"with the first relevant passage at {name}")


def describe_threshold(result: Mapping[str, Any], label: str) -> list[str]:
    """One sentence per compared generator, bin by bin."""
    reference = result["reference"]
    others = sorted({gap["generator"] for row in result["bins"] for gap in row["gaps"]})
    lines = []
    for generator in others:
        parts = []
        for row in result["bins"]:
            gap = next((gap for gap in row["gaps"] if gap["generator"] == generator), None)
            if gap is None:
                continue
            words = _bin_words(row["bin"])
            parts.append(
                f"{words} ({gap['n']}), {signed(gap['diff'])} "
                f"[{signed(gap['ci_low'])}, {signed(gap['ci_high'])}]"
            )
        if parts:
            heading = f"{label[:1].upper() + label[1:]} of `{generator}` minus `{reference}`"
            lines.append(f"{heading}: " + "; ".join(parts) + ".")
    if not others:
        for row in result["bins"]:
            mean = row["means"].get(reference)
            if mean is not None:
                words = _bin_words(row["bin"])
                lines.append(f"{label[:1].upper() + label[1:]} {words}: {mean:.3f} ({row['n']}).")
    return lines
