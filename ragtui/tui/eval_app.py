"""The results of a ``ragtui eval`` run as charts: quality against latency per pipeline, and
how much each component moves the metric. Reads only the written ``results.json``."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from ragtui.display.safe_text import printable
from ragtui.tui.hangup import HangupSafe
from ragtui.tui.log_notices import PlainNotices
from ragtui.tui.widgets.footer import KeysFooter

METRIC_LABELS = {
    "f1": "answer F1",
    "exact_match": "exact match",
    "answer_recall": "answer recall",
    "groundedness": "groundedness",
    "citation_validity": "citation validity",
    "judge_correctness": "judged correctness",
    "judge_faithfulness": "judged faithfulness",
}


def available_metrics(results: dict[str, Any]) -> list[str]:
    """Answer metrics that at least one pipeline has a value for."""
    pipelines = results["pipelines"].values()
    return [
        metric
        for metric in METRIC_LABELS
        if any(data["mean"].get(metric) is not None for data in pipelines)
    ]


class EvalResultsApp(HangupSafe, PlainNotices, App[None]):
    TITLE = "ragtui eval results"
    CSS = """
    #summary { height: auto; padding: 0 1; }
    #charts { height: 1fr; min-height: 12; }
    #findings { height: auto; padding: 0 1; }
    #pipelines { height: auto; max-height: 12; }
    """
    BINDINGS = [
        Binding("m", "next_metric", "Next metric"),
        Binding("c", "corrected", "Corrected estimates"),
        Binding("q,escape", "quit", "Quit"),
    ]

    def __init__(self, results: dict[str, Any]) -> None:
        super().__init__()
        self.results = results
        self.metrics = available_metrics(results) or ["f1"]
        self.metric = self.metrics[0]

    def compose(self) -> ComposeResult:
        yield Static("", id="summary", markup=False)
        with Horizontal(id="charts"):
            yield PlotextPlot(id="quality-latency")
            yield PlotextPlot(id="effects")
        yield Static("", id="findings", markup=False)
        yield DataTable(id="pipelines", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.show_metric()

    def action_next_metric(self) -> None:
        position = self.metrics.index(self.metric)
        self.metric = self.metrics[(position + 1) % len(self.metrics)]
        self.show_metric()

    def action_corrected(self) -> None:
        from ragtui.tui.screens.corrected import CorrectedEstimates

        self.push_screen(CorrectedEstimates(self.results))

    def _quality(self, name: str) -> float | None:
        return self.results["pipelines"][name]["mean"].get(self.metric)

    def show_metric(self) -> None:
        results, label = self.results, METRIC_LABELS[self.metric]
        dataset, plan = results["dataset"], results["plan"]
        self.query_one("#summary", Static).update(
            printable(
                f"{dataset['path']}: {dataset['queries']} queries · retrievers "
                f"{', '.join(plan['retrievers'])} × generators {', '.join(plan['generators'])}"
                f" · showing {label} (m: next metric)"
            )
            + self._labeller_lines()
            + self._corrected_line()
        )
        self._draw_quality_latency(label)
        self._draw_effects(label)
        attribution = results.get("attribution", {}).get(self.metric)
        findings = attribution["findings"] if attribution else ["No attribution for this metric."]
        # The verdicts that answer "will a faster or cheaper one do?" on this metric.
        findings = (
            findings
            + [
                entry["sentence"]
                for entry in results.get("good_enough", [])
                if entry["metric"] == self.metric and entry.get("faster_or_cheaper")
            ][:4]
        )
        judge = results.get("judge")
        if judge and self.metric.startswith("judge_"):
            # A judged figure never shows without how far the judge agrees with the user.
            findings = [f"Judge {judge['spec']}: {judge['calibration_sentence']}.", *findings]
        from ragtui.experiment.report.agreement import answer_correction_lines

        # The judge's win rates corrected by the person's random votes (or why not).
        findings = findings + answer_correction_lines(results)
        self.query_one("#findings", Static).update(printable("\n".join(findings)))
        self._fill_table(label)

    def _labeller_lines(self) -> str:
        """The retrieval judgments' labeller and how far it agrees with the user (or that
        it was not checked), under the summary: never a labeller's figure without it."""
        from ragtui.experiment.report.agreement import labeller_agreement_lines

        lines = labeller_agreement_lines(self.results)
        return "".join("\n" + printable(line) for line in lines)

    def _corrected_line(self) -> str:
        """Where the test set's corrected retrieval figures stand, and the key to see them."""
        summary = self.results.get("corrected_summary")
        if not summary:
            return ""
        entries = self.results.get("corrected") or []
        if not entries:
            notes = summary.get("notes") or ["not corrected"]
            return "\n" + printable(f"Corrected estimates: {notes[0]}")
        metrics = ", ".join(dict.fromkeys(entry["metric"] for entry in entries))
        graded = summary["sample"]["graded"]
        return "\n" + printable(
            f"Corrected {metrics} from {graded} of your sampled grades "
            f"({summary['status']}): c shows them"
        )

    def _draw_quality_latency(self, label: str) -> None:
        """One marker and legend entry per pipeline (names never overlap), log time axis."""
        plot = self.query_one("#quality-latency", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        points = []
        for name, data in self.results["pipelines"].items():
            quality, latency = self._quality(name), data["total_ms"]["p50"]
            if quality is not None and latency:
                points.append((name, latency, quality))
        # The axis is log10(ms), drawn on a linear axis with decade ticks: plotext's own
        # log scale does not take limits and ticks in data units.
        # Each point's 95% interval (over queries) as a vertical bar through it, so two
        # pipelines whose bars overlap are not read as ordered. Drawn first, so the point's
        # own marker sits on top; from low to high, as uneven as the interval is.
        intervals = quality_intervals(self.results, self.metric)
        barred = [(latency, intervals[name]) for name, latency, _ in points if name in intervals]
        for latency, (low, high) in barred:
            plt.plot([math.log10(latency)] * 2, [low, high], marker="│", color="red")
        for position, (name, latency, quality) in enumerate(points):
            plt.scatter(
                [math.log10(latency)],
                [quality],
                marker=MARKERS[position % len(MARKERS)],
                label=printable(name),
            )
        if points:
            low = math.floor(min(math.log10(latency) for _, latency, _ in points))
            high = math.ceil(max(math.log10(latency) for _, latency, _ in points))
            high = max(high, low + 1)
            decades = list(range(low, high + 1))
            plt.xticks(decades, [_ms_tick(10.0**power) for power in decades])
            plt.xlim(low - 0.1, high + 0.1)
            plt.ylim(0, 1)  # 0–1 metrics on their whole scale
        plt.title(f"{label} vs median total ms ({interval_words(self.results, self.metric)})")
        plt.xlabel("median total ms (log scale)")
        plot.refresh()

    def _draw_effects(self, label: str) -> None:
        """Effect bars in points with their 95% interval as a whisker beside each bar, on a
        fixed scale (±25 points, ±50 or ±100 only when an interval needs it)."""
        plot = self.query_one("#effects", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        effects = effect_rows(self.results, self.metric)
        if effects:
            positions = list(range(1, len(effects) + 1))
            plt.bar(positions, [size for _, size, _, _ in effects], width=0.3)
            lows = [low for _, _, low, _ in effects]
            highs = [high for _, _, _, high in effects]
            plt.error(
                [position + 0.3 for position in positions],
                [(low + high) / 2 for low, high in zip(lows, highs, strict=True)],
                yerr=[(high - low) / 2 for low, high in zip(lows, highs, strict=True)],
                color="red",
            )
            plt.xticks(positions, [name for name, _, _, _ in effects])
            plt.xlim(0.5, len(effects) + 0.8)
            reach = max(abs(value) for value in (*lows, *highs))
            scale = next(bound for bound in EFFECT_SCALES if reach <= bound or bound == 100)
            plt.ylim(-scale, scale)
            plt.hline(0)
        plt.title(f"component effects on {label} (points, 95% CI)")
        plot.refresh()

    def _fill_table(self, label: str) -> None:
        table = self.query_one("#pipelines", DataTable)
        table.clear(columns=True)
        table.add_columns("pipeline", label, "total ms p50", "TTFT ms p50", "tokens in/out", "cost")
        for name, data in self.results["pipelines"].items():
            quality = self._quality(name)
            cost = data.get("cost_usd_total")
            prompt, completion = data.get("prompt_tokens_mean"), data.get("completion_tokens_mean")
            table.add_row(
                Text(printable(name)),  # a spec is user text: never markup
                "–" if quality is None else f"{quality:.3f}",
                _ms(data["total_ms"]["p50"]),
                _ms(data["ttft_ms"]["p50"]),
                f"{_count(prompt)} / {_count(completion)}",
                "unknown" if cost is None else f"${cost:.4f}",
            )


MARKERS = ("●", "■", "◆", "▲", "✚", "✖", "★", "○", "□", "◇")
EFFECT_SCALES = (25, 50, 100)  # points: a small effect never fills the panel


def quality_intervals(results: dict[str, Any], metric: str) -> dict[str, tuple[float, float]]:
    """Pipeline → (low, high) of its mean ``metric`` (95%, bootstrap over queries), from
    results.json's ``quality_intervals`` (or, in a results.json written before it, the
    primary answer metric's ``pareto_quality``); a pipeline without one, or with too few
    queries for one (``enough`` false), is left out."""
    return {
        name: (float(interval["ci_low"]), float(interval["ci_high"]))
        for name, interval in _interval_records(results, metric).items()
        if "ci_low" in interval and "ci_high" in interval and interval.get("enough", True)
    }


def interval_words(results: dict[str, Any], metric: str) -> str:
    """The chart title's short account of its bars: the queries they are over, or why there
    are none (a title longer than the plot's width is not drawn at all)."""
    records = _interval_records(results, metric)
    drawn = quality_intervals(results, metric)
    counts = [int(records[name]["n"]) for name in drawn if "n" in records[name]]
    if drawn:
        if not counts:
            return "95% CI bars"
        low, high = min(counts), max(counts)
        left = len(records) - len(drawn)
        return f"95% CI, n = {low if low == high else f'{low}–{high}'}" + (
            f"; {left} too few" if left else ""
        )
    undrawn = [int(record["n"]) for record in records.values() if "n" in record]
    return f"n = {max(undrawn)}: too few for a CI" if undrawn else "no interval"


def _interval_records(results: dict[str, Any], metric: str) -> dict[str, dict[str, Any]]:
    by_metric = results.get("quality_intervals") or {}
    found = by_metric.get(metric)
    if found is None and metric == (results.get("primary") or {}).get("answer"):
        found = results.get("pareto_quality")
    return {name: record for name, record in (found or {}).items() if isinstance(record, dict)}


def effect_rows(results: dict[str, Any], metric: str) -> list[tuple[str, float, float, float]]:
    """(component, effect, CI low, CI high) in points (metric × 100)."""
    attribution = results.get("attribution", {}).get(metric)
    rows = []
    for key, name in (
        ("retriever_effect", "retriever"),
        ("generator_effect", "generator"),
        ("interaction", "interaction"),
    ):
        effect = (attribution or {}).get(key)
        if effect is not None:
            rows.append(
                (name, effect["size"] * 100, effect["ci_low"] * 100, effect["ci_high"] * 100)
            )
    return rows


def _ms_tick(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{value / 1000:g}k"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"
