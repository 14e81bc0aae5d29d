"""The report's corrected estimates: findings lines, the "Corrected estimates" section and
its text chart (automatic-only, your-grades-only and corrected side by side), from
results.json's ``corrected`` and ``corrected_summary``
(``ragtui.experiment.run.corrected_estimates``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ragtui.experiment.report.agreement import labeller_agreement_lines
from ragtui.experiment.report.formatting import markdown_table
from ragtui.judging.label_designs import sampling_words
from ragtui.judging.labeller_agreement import NOT_CHECKED

CHART_WIDTH = 44


def _interval(low: float | None, high: float | None, estimate: float | None) -> str:
    if estimate is None or low is None or high is None:
        return "–"
    return f"{estimate:.3f} [{low:.3f}, {high:.3f}]"


def _source(summary: Mapping[str, Any]) -> str:
    sample = summary["sample"]
    base = (
        f"{sample['graded']} of your grades on "
        f"{sampling_words(sample.get('sampling') or 'uniform')} of {sample['sampled']} of "
        f"{sample['population']} pool pairs ({','.join(sample['retrievers'])}, depth "
        f"{sample['depth']})"
    )
    if sample["graded"] == sample["population"]:
        return f"{base}: the whole pool, exact"
    if summary.get("labeller"):
        return f"{base}, correcting {summary['labeller']}"
    if summary.get("prediction") == "rank prior":
        return f"{base}, your grades only (no labeller), correcting the retrievers' rank prior"
    return f"{base}, your grades only (no labeller)"


def _metrics(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(entry["metric"] for entry in entries))


def _ordering_line(row: Mapping[str, Any], margin: float) -> str:
    a, b = row["a"], row["b"]
    if row["status"] == "ordered":
        lower = b if row["order"] == a else a
        gap = row["gap"] if row["order"] == a else -row["gap"]
        low, high = (
            (row["ci_low"], row["ci_high"])
            if row["order"] == a
            else (-row["ci_high"], -row["ci_low"])
        )
        return (
            f"{row['order']} above {lower} on corrected {row['metric']} "
            f"(gap {gap:+.3f} [{low:+.3f}, {high:+.3f}], beyond ±{margin:g})"
        )
    if row["status"] == "cannot order":
        return (
            f"cannot order {a} and {b} on corrected {row['metric']} (gap {row['gap']:+.3f} "
            f"[{row['ci_low']:+.3f}, {row['ci_high']:+.3f}] reaches within ±{margin:g})"
        )
    if row["status"] == "too few":
        return f"cannot order {a} and {b}: {row.get('words')}"
    return f"cannot order {a} and {b}: their gap is not corrected (outside the sample's pool)"


def corrected_findings(results: Mapping[str, Any]) -> list[str]:
    """Findings lines: circularity, each corrected figure, which pairs can be ordered."""
    lines = list(results.get("circularity") or [])
    summary = results.get("corrected_summary")
    entries = results.get("corrected") or []
    if not summary:
        return lines
    if not entries:
        return lines + [f"Corrected estimates: {note}" for note in summary.get("notes", [])[:1]]
    for metric in _metrics(entries):
        parts = [
            f"{entry['retriever']} {entry['words']}"
            for entry in entries
            if entry["metric"] == metric
        ]
        lines.append(f"Corrected {metric} (95%; {_source(summary)}): {'; '.join(parts)}.")
    margin = summary.get("near_tie", 0.01)
    lines.extend(_ordering_line(row, margin) for row in summary.get("orderings", []))
    return lines


def _position(value: float, low: float, high: float) -> int:
    if not (math.isfinite(value) and math.isfinite(low) and math.isfinite(high)) or high <= low:
        return 0
    share = (value - low) / (high - low)
    return max(0, min(CHART_WIDTH - 1, round(share * (CHART_WIDTH - 1))))


def _bar(low: float, estimate: float, high: float, scale: tuple[float, float]) -> str:
    cells = [" "] * CHART_WIDTH
    start, end = _position(low, *scale), _position(high, *scale)
    for column in range(start, end + 1):
        cells[column] = "─"
    cells[start], cells[end] = "├", "┤"
    cells[_position(estimate, *scale)] = "●"
    return "".join(cells)


def text_chart(entries: Sequence[Mapping[str, Any]], metric: str) -> list[str]:
    """Per retriever, in the entries' order: the automatic grades alone (a point: no
    interval, their bias is unknown), your grades alone and the corrected figure, each with
    its 95% interval, all on one scale per metric (from 0, or the lowest interval end if
    below, to the highest end), so their widths compare by eye. A figure that is not
    corrected (below the labels floor, or outside the sample's pool) shows its words in
    place of bars. Empty when ``metric`` has no entry."""
    listed = [e for e in entries if e["metric"] == metric]
    if not listed:
        return []
    shown = [e for e in listed if e["status"] == "corrected"]
    name_width = max(len(entry["retriever"]) for entry in listed)
    label_width = name_width + 12
    if not shown:  # no bar to draw: each retriever's reason, under the metric's name
        return [metric] + [
            f"{entry['retriever'].ljust(name_width)}  {entry['words']}" for entry in listed
        ]
    values = []
    for entry in shown:
        values += [entry["ci_low"], entry["ci_high"], entry["human_only"]["ci_low"]]
        values += [entry["human_only"]["ci_high"]]
        if entry["automatic_only"] is not None:
            values.append(entry["automatic_only"])
    scale = (min(0.0, min(values)), max(values))
    axis = f"{scale[0]:.2f}".ljust(CHART_WIDTH - 6) + f"{scale[1]:.2f}".rjust(6)
    lines = [f"{metric}".ljust(label_width) + axis]
    for entry in listed:
        if entry["status"] != "corrected":
            lines.append(f"{entry['retriever'].ljust(name_width)}  {entry['words']}")
            continue
        rows = []
        if entry["automatic_only"] is not None:
            cells = [" "] * CHART_WIDTH
            cells[_position(entry["automatic_only"], *scale)] = "○"
            rows.append(("automatic", "".join(cells), f"{entry['automatic_only']:.3f}"))
        human = entry["human_only"]
        for label, figure in (("yours", human), ("corrected", entry)):
            low, estimate, high = figure["ci_low"], figure["estimate"], figure["ci_high"]
            bar = _bar(low, estimate, high, scale)
            rows.append((label, bar, _interval(low, high, estimate)))
        # Each bar's numbers beside it: the picture compares widths, the numbers state them.
        for number, (label, bar, figures) in enumerate(rows):
            name = entry["retriever"] if number == 0 else ""
            lines.append(f"{name.ljust(name_width)}  {label.ljust(10)}{bar}  {figures}")
    return lines


def _legend(entries: Sequence[Mapping[str, Any]], metric: str) -> str:
    if any(e["metric"] == metric and e["status"] == "corrected" for e in entries):
        return (
            f"{metric}: ○ automatic grades alone, your grades alone and corrected, "
            "each ├──●──┤ with its 95% interval, on one scale:"
        )
    return f"{metric}: no interval to draw:"


def automatic_agreement_lines(results: Mapping[str, Any]) -> list[str]:
    """How far the automatic grades these figures use agree with the person: the
    labeller's κ (and τ) line from results.json's ``labeller_agreement``, "not checked
    against your labels" when eval measured none, or that no automatic grades were used."""
    summary = results.get("corrected_summary") or {}
    labeller = summary.get("labeller")
    if not labeller:
        return ["No automatic grades: these figures are your grades alone."]
    lines = labeller_agreement_lines(dict(results))
    return lines or [f"Automatic grades of {labeller}: {NOT_CHECKED}."]


TABLE_HEADER = (
    "retriever",
    "metric",
    "automatic only",
    "your grades only (95%)",
    "corrected (95%)",
    "n human",
    "n automatic",
    "effective labels",
    "method",
)


def _table_rows(entries: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row per entry, under ``TABLE_HEADER``; a figure below the floor or outside the
    sample's pool reads as its words ("too few labels to tell (n = …)")."""
    return [
        [
            entry["retriever"],
            entry["metric"],
            "–" if entry["automatic_only"] is None else f"{entry['automatic_only']:.3f}",
            "–"
            if entry["human_only"] is None
            else _interval(
                entry["human_only"]["ci_low"],
                entry["human_only"]["ci_high"],
                entry["human_only"]["estimate"],
            ),
            entry["words"],
            str(entry["n_human"]),
            str(entry["n_automatic"]),
            "–" if entry["effective_labels"] is None else f"{entry['effective_labels']:.0f}",
            entry["method"] or "–",
        ]
        for entry in entries
    ]


def _ordering_header(orderings: Sequence[Mapping[str, Any]], margin: float) -> str:
    return (
        f"Which retrievers the data can order (corrected {orderings[0]['metric']} gap; "
        f"ordered only when its 95% interval lies beyond ±{margin:g}, each pair's own "
        "interval):"
    )


def corrected_text(
    results: Mapping[str, Any], with_table: bool = True
) -> list[tuple[bool, list[str]]]:
    """The "Corrected estimates" section for a terminal screen, in blocks of plain lines,
    each flagged True when it is aligned (a table or chart: never wrapped) or False when it
    is prose (wrapped to the screen): the source, a column-aligned table (the method left
    out: results.json and report.md hold it), the charts, the orderings and the notes.
    ``with_table`` False leaves the table out (a narrow screen: the charts print each
    figure's numbers too). Empty without a sample."""
    summary = results.get("corrected_summary")
    if not summary:
        return []
    entries = results.get("corrected") or []
    notes = [f"- {note}" for note in summary.get("notes", [])]
    if not entries:
        return [(False, ["Corrected estimates: not corrected.", *notes])]
    header = list(TABLE_HEADER[:-1])
    rows = [row[:-1] for row in _table_rows(entries)]
    widths = [max(len(line[column]) for line in (header, *rows)) for column in range(len(header))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *rows)
    ]
    blocks = [
        (
            False,
            [
                f"Corrected estimates (95%) over {summary['queries']} queries: {_source(summary)}.",
                *automatic_agreement_lines(results),
            ],
        ),
        *([(True, table)] if with_table else []),
    ]
    for metric in _metrics(entries):
        chart = text_chart(entries, metric)
        if chart:
            blocks.append((False, [_legend(entries, metric)]))
            blocks.append((True, [line.rstrip() for line in chart]))
    orderings = summary.get("orderings", [])
    if orderings:
        margin = summary.get("near_tie", 0.01)
        lines = [_ordering_header(orderings, margin)]
        blocks.append((False, lines + [f"- {_ordering_line(row, margin)}" for row in orderings]))
    blocks.append((False, notes))
    return blocks


def corrected_markdown(results: Mapping[str, Any]) -> list[str]:
    """The "Corrected estimates" section (empty without a test set's sample)."""
    summary = results.get("corrected_summary")
    if not summary:
        return []
    entries = results.get("corrected") or []
    out = ["## Corrected estimates", ""]
    if not entries:
        return out + [f"- {note}" for note in summary.get("notes", [])] + [""]
    out += [
        "Each retriever's figure as your grades of the whole sampled pool would give it, "
        f"over these {summary['queries']} queries: {_source(summary)}. A prediction-powered "
        "estimate (PPI++): the automatic grades' figure corrected by how wrong they were on "
        "your random sample, each of your grades weighted by one over its chance of being "
        "drawn; unbiased however wrong the automatic grades are. The interval covers not "
        "having graded every pair, not drawing other queries.",
        "",
    ]
    rows = [[f"`{row[0]}`", *row[1:]] for row in _table_rows(entries)]
    out += markdown_table(list(TABLE_HEADER), rows)
    for metric in _metrics(entries):
        chart = text_chart(entries, metric)
        if chart:
            out += [
                _legend(entries, metric),
                "",
                "```",
                *chart,
                "```",
                "",
            ]
    orderings = summary.get("orderings", [])
    if orderings:
        margin = summary.get("near_tie", 0.01)
        out += [
            _ordering_header(orderings, margin),
            "",
            *[f"- {_ordering_line(row, margin)}" for row in orderings],
            "",
        ]
    out += [f"- {note}" for note in summary.get("notes", [])] + [""]
    return out
