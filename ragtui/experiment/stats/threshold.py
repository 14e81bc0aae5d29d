"""The threshold effect: answer quality per generator within bins of retrieval quality.

Each (retriever, query) lands in one bin by what the generator was given to read: the
first relevant passage at rank 1, lower in the passages read, or missing from them. Where
nothing is judged, the bins say whether a reference answer appears in the passages read.
Within a bin every generator read the same passages, so generators are compared paired
over the same (retriever, query) units. Intervals and tests resample queries, not units (a
query lands in a bin under several retrievers, and those units are not independent), and a
bin's gap is stated only from ``THRESHOLD_BIN_FLOOR`` queries up. With judgments per
document, ranks count documents: the first relevant document is at rank 1 when the first
passage read comes from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ragtui.evidence_rules import THRESHOLD_BIN_FLOOR, too_few
from ragtui.experiment.report.formatting import signed
from ragtui.experiment.stats.comparisons import adjust_p_values, clustered_comparison
from ragtui.metrics import scores_by_unit


def _bins_from_judgments(run, context_k: int) -> dict[tuple[str, str], str]:
    qrels = run.dataset.qrels
    unit = run.dataset.judged_unit
    bins = {}
    for (retriever, query_id), retrieval in run.retrievals.items():
        grades = qrels.get(query_id)
        if not grades:
            continue
        # Judged documents rank by their first passage: passages of one document count once.
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


BIN_WORDS = {
    "rank 1": "with the relevant passage at rank 1",
    "missing": "with no relevant passage among those read",
    "document rank 1": "with a relevant document's passage first",
    "document missing": "with no passage of a relevant document among those read",
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
        queries = sorted({query for _, query in units})
        means = {}
        for generator in generators:
            present = [v for unit in units if (v := value(generator, unit)) is not None]
            means[generator] = float(np.mean(present)) if present else None
        gaps = []
        for generator in generators:
            if generator == reference:
                continue
            by_query: dict[str, list[float]] = {}
            for unit in units:
                a, b = value(reference, unit), value(generator, unit)
                if a is not None and b is not None:
                    by_query.setdefault(unit[1], []).append(b - a)
            pairs = sum(len(group) for group in by_query.values())
            comparison = clustered_comparison(list(by_query.values()))
            interval = None if comparison is None else (comparison.ci_low, comparison.ci_high)
            if comparison is None or not THRESHOLD_BIN_FLOOR.met(len(by_query), interval):
                differences = [d for group in by_query.values() for d in group]
                gaps.append(
                    {
                        "generator": generator,
                        "diff": float(np.mean(differences)) if differences else None,
                        "n": len(by_query),
                        "units": pairs,
                        "too_few": True,
                    }
                )
                continue
            gaps.append(
                {
                    "generator": generator,
                    "diff": comparison.mean_difference,
                    "ci_low": comparison.ci_low,
                    "ci_high": comparison.ci_high,
                    "p_value": comparison.p_value,
                    "n": comparison.n,
                    "units": pairs,
                }
            )
        table.append(
            {"bin": name, "n": len(queries), "units": len(units), "means": means, "gaps": gaps}
        )
    adjust_p_values([gap for row in table for gap in row["gaps"]])
    result = {
        "metric": metric,
        "label": label,
        "basis": basis,
        "reference": reference,
        "unit": run.dataset.judged_unit if basis == "judgments" else "passage",
        "floor": THRESHOLD_BIN_FLOOR.minimum,
        "bins": table,
    }
    result["findings"] = describe_threshold(result, label)
    return result


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _bin_words(name: str, unit: str = "passage") -> str:
    if unit == "document":
        if name == "rank 1" or name == "missing":
            return BIN_WORDS[f"document {name}"]
        return f"with the first relevant document's passage at {name} of those read"
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
            words = _bin_words(row["bin"], result.get("unit", "passage"))
            if gap.get("too_few"):
                parts.append(f"{words}, {too_few(gap['n'])}")
                continue
            parts.append(
                f"{words} ({_count(gap['n'], 'query', 'queries')}, "
                f"{_count(gap['units'], 'answer', 'answers')}), {signed(gap['diff'])} "
                f"[{signed(gap['ci_low'])}, {signed(gap['ci_high'])}]"
            )
        if parts:
            heading = f"{label[:1].upper() + label[1:]} of `{generator}` minus `{reference}`"
            lines.append(f"{heading}: " + "; ".join(parts) + ".")
    if not others:
        for row in result["bins"]:
            mean = row["means"].get(reference)
            if mean is not None:
                words = _bin_words(row["bin"], result.get("unit", "passage"))
                lines.append(
                    f"{label[:1].upper() + label[1:]} {words}: {mean:.3f} "
                    f"({_count(row['n'], 'query', 'queries')}, "
                    f"{_count(row.get('units', row['n']), 'answer', 'answers')})."
                )
    return lines
