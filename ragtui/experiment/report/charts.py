"""The charts of report.html, as Plotly figures built from results.json and per-query rows.

Each pipeline is its own trace with a legend entry, so names never overlap on the plot;
hovering a point shows its figures.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from ragtui.evidence_rules import too_few
from ragtui.experiment.stats.good_enough import GOOD_ENOUGH, WORSE

VERDICT_COLOURS = {GOOD_ENOUGH: "#2a9d5c", WORSE: "#c0392b"}
UNDECIDED_COLOUR = "#d9a21b"
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")


def _plain(text: str) -> str:
    """Spec names and query ids as text: Plotly reads tags such as <a href> in labels, and
    decodes the entities this leaves."""
    return html.escape(str(text), quote=False)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left"},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        # Below the plot, clear of the axis title, whatever the width.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.3},
        "autosize": True,
        "template": "plotly_white",
        **extra,
    }


def _interval_hover(found: Mapping[str, Any] | None, drawn: Mapping[str, Any] | None) -> str:
    """The hover's words for a point's interval: its bounds and n, or why there is none."""
    if drawn is not None:
        n = f", n = {drawn['n']} queries" if "n" in drawn else ""
        return f" [{drawn['ci_low']:.3f}, {drawn['ci_high']:.3f}]{n}"
    if found is not None and "n" in found:
        return f" ({too_few(int(found['n']))}: no interval)"
    return ""


def quality_latency(results: Mapping[str, Any]) -> go.Figure | None:
    """Answer quality against median total latency (log axis), with the Pareto line."""
    metric = results.get("primary", {}).get("answer")
    if metric is None:
        return None
    label = results["primary"]["answer_label"]
    figure = go.Figure()
    points = {}
    intervals = results.get("pareto_quality") or {}
    # A frontier pipeline the data does not separate from the faster one before it is
    # drawn hollow, and says so.
    unseparated = {
        step["slower"]: step["faster"]
        for step in results.get("pareto_steps") or []
        if not step["separated"]
    }
    for position, (name, data) in enumerate(results["pipelines"].items()):
        quality, latency = data["mean"].get(metric), data["total_ms"]["p50"]
        if quality is None or not latency:
            continue
        points[name] = (latency, quality)
        cost = data["cost_usd_total"]
        interval = intervals.get(name)
        if interval is not None and not interval.get("enough", True):
            interval = None  # too few queries for a bar; the hover says so
        error_y = None
        if interval is not None:
            error_y = {
                "type": "data",
                "symmetric": False,
                "array": [max(interval["ci_high"] - quality, 0.0)],
                "arrayminus": [max(quality - interval["ci_low"], 0.0)],
            }
        symbol = SYMBOLS[position % len(SYMBOLS)]
        note = ""
        if name in unseparated:
            symbol += "-open"
            note = f"<br>not separated from {_plain(unseparated[name])}"
        figure.add_trace(
            go.Scatter(
                x=[latency],
                y=[quality],
                mode="markers",
                name=_plain(name),
                marker={"size": 12, "symbol": symbol},
                error_y=error_y,
                hovertemplate=(
                    f"{label} %{{y:.3f}}"
                    + _interval_hover(intervals.get(name), interval)
                    + "<br>p50 %{x:,.1f} ms<br>"
                    + ("cost unknown" if cost is None else f"cost ${cost:.4f}")
                    + note
                    + "<extra>%{fullData.name}</extra>"
                ),
            )
        )
    frontier = [points[name] for name in results.get("pareto", []) if name in points]
    if len(frontier) > 1:
        figure.add_trace(
            go.Scatter(
                x=[x for x, _ in frontier],
                y=[y for _, y in frontier],
                mode="lines",
                name="Pareto frontier",
                line={"dash": "dot", "color": "#555"},
                hoverinfo="skip",
            )
        )
    if not points:
        return None
    return figure.update_layout(
        **_layout(
            f"{label} against median total time per query (ms, log scale)",
            xaxis={"type": "log"},
            yaxis={"title": label},
        )
    )


def verdict_effects(results: Mapping[str, Any]) -> go.Figure | None:
    """Each verdict's difference from the best with its 95% interval and the margin."""
    entries = results.get("good_enough") or []
    if not entries:
        return None
    figure = go.Figure()
    for verdict, colour in (*VERDICT_COLOURS.items(), ("cannot tell", UNDECIDED_COLOUR)):
        chosen = [entry for entry in entries if entry["verdict"] == verdict]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[entry["diff"] for entry in chosen],
                y=[
                    _plain(f"{entry['candidate']} ({entry['stage']}, {entry['metric']})")
                    for entry in chosen
                ],
                mode="markers",
                name=verdict,
                marker={"color": colour, "size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [entry["ci_high"] - entry["diff"] for entry in chosen],
                    "arrayminus": [entry["diff"] - entry["ci_low"] for entry in chosen],
                },
                # Plotly reads tags in hover text after filling in customdata, so the
                # best pipeline's name is escaped like every other label.
                customdata=[[_plain(entry["best"]), _plain(entry["metric"])] for entry in chosen],
                hovertemplate=(
                    "%{y}<br>%{customdata[1]} %{x:+.3f} against %{customdata[0]}<extra></extra>"
                ),
            )
        )
    margin = results["margin"]
    figure.add_vline(x=0, line={"color": "#888"})
    figure.add_vline(
        x=-margin,
        line={"color": "#c0392b", "dash": "dash"},
        annotation_text=f"−margin ({margin:g})",
        annotation_position="top",
    )
    return figure.update_layout(
        **_layout(
            "Difference from the best of each stage (95% intervals)",
            xaxis={"title": "candidate − best", "zeroline": False},
            yaxis={"automargin": True},
            height=max(320, 60 + 34 * len(entries)),
        )
    )


def component_effects(results: Mapping[str, Any], labels: Mapping[str, str]) -> go.Figure | None:
    """The attribution's retriever, generator and interaction effects with intervals."""
    rows = []
    for metric, data in results.get("attribution", {}).items():
        for key, name in (
            ("retriever_effect", "retriever"),
            ("generator_effect", "generator"),
            ("interaction", "interaction"),
        ):
            effect = data.get(key)
            if effect is not None:
                rows.append((f"{name} · {labels.get(metric, metric)}", effect))
    if not rows:
        return None
    figure = go.Figure(
        go.Scatter(
            x=[effect["size"] for _, effect in rows],
            y=[name for name, _ in rows],
            mode="markers",
            marker={"size": 10, "color": "#2c6fbb"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [effect["ci_high"] - effect["size"] for _, effect in rows],
                "arrayminus": [effect["size"] - effect["ci_low"] for _, effect in rows],
            },
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
            showlegend=False,
        )
    )
    figure.add_vline(x=0, line={"color": "#888"})
    return figure.update_layout(
        **_layout(
            "Which component drives the outcome (effect, 95% interval)",
            xaxis={"title": "effect in metric units", "zeroline": False},
            yaxis={"automargin": True},
            height=max(320, 60 + 30 * len(rows)),
        )
    )


def per_query_heatmap(
    results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> go.Figure | None:
    """Pipelines × queries, coloured by the primary answer metric."""
    metric = results.get("primary", {}).get("answer")
    if metric is None or not rows:
        return None
    pipelines = list(results["pipelines"])
    queries = list(dict.fromkeys(str(row["query_id"]) for row in rows))
    values = {
        (f"{row['retriever']}+{row['generator']}", str(row["query_id"])): row.get(metric)
        for row in rows
    }
    z = [[values.get((pipeline, query)) for query in queries] for pipeline in pipelines]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[_plain(query) for query in queries],
            y=[_plain(pipeline) for pipeline in pipelines],
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            colorbar={"title": {"text": results["primary"]["answer_label"]}},
            hovertemplate="%{y}<br>query %{x}: %{z:.3f}<extra></extra>",
        )
    )
    return figure.update_layout(
        **_layout(
            f"{results['primary']['answer_label']} per query",
            xaxis={"title": "query", "type": "category", "showticklabels": len(queries) <= 60},
            yaxis={"automargin": True},
            height=max(300, 120 + 28 * len(pipelines)),
        )
    )


def threshold_bars(results: Mapping[str, Any]) -> go.Figure | None:
    """Each generator's mean per retrieval bin."""
    threshold = results.get("threshold")
    if not threshold or not threshold["bins"]:
        return None
    bins = [row["bin"] for row in threshold["bins"]]
    generators = list(threshold["bins"][0]["means"])
    figure = go.Figure()
    for generator in generators:
        figure.add_trace(
            go.Bar(
                x=bins,
                y=[row["means"].get(generator) for row in threshold["bins"]],
                name=_plain(generator),
                customdata=[row["n"] for row in threshold["bins"]],
                hovertemplate="%{x} (n=%{customdata}): %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    return figure.update_layout(
        **_layout(
            f"{threshold['label']} by where the relevant passage was",
            barmode="group",
            xaxis={
                "title": "first relevant passage among those read"
                if threshold["basis"] == "judgments"
                else "reference answer among the passages read"
            },
            yaxis={"title": threshold["label"], "rangemode": "tozero"},
        )
    )


CORRECTED_SERIES = (
    ("automatic grades alone", "#9aa0ad", -0.25),
    ("your grades alone", "#d9a21b", 0.0),
    ("corrected", "#2a6fdb", 0.25),
)


def corrected_intervals(results: Mapping[str, Any], metric: str) -> go.Figure | None:
    """The one picture of prediction-powered inference: per retriever, the automatic
    grades' figure (a point: its bias is unknown), your grades' alone and the corrected
    one, each with its 95% interval, side by side."""
    entries = [
        entry
        for entry in results.get("corrected") or []
        if entry["metric"] == metric and entry["status"] == "corrected"
    ]
    if not entries:
        return None
    figure = go.Figure()
    for name, colour, offset in CORRECTED_SERIES:
        xs, ys, plus, minus, hover = [], [], [], [], []
        for position, entry in enumerate(entries):
            if name == "automatic grades alone":
                if entry["automatic_only"] is None:
                    continue
                value, low, high = (entry["automatic_only"],) * 3
            elif name == "your grades alone":
                human = entry["human_only"]
                value, low, high = human["estimate"], human["ci_low"], human["ci_high"]
            else:
                value, low, high = entry["estimate"], entry["ci_low"], entry["ci_high"]
            xs.append(value)
            ys.append(position + offset)
            plus.append(high - value)
            minus.append(value - low)
            hover.append(
                f"{_plain(entry['retriever'])}: {value:.3f}"
                + ("" if low == high else f" [{low:.3f}, {high:.3f}]")
                + f"<br>n human {entry['n_human']}, n automatic {entry['n_automatic']}"
            )
        if not xs:
            continue
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=name,
                marker={"size": 10, "color": colour},
                error_x={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
                hovertext=hover,
                hoverinfo="text",
            )
        )
    figure.update_layout(
        **_layout(
            f"Corrected {metric}: automatic grades alone, your grades alone and corrected "
            "(95% intervals)",
            xaxis={"title": metric},
            yaxis={
                "tickmode": "array",
                "tickvals": list(range(len(entries))),
                "ticktext": [_plain(entry["retriever"]) for entry in entries],
                "autorange": "reversed",
            },
            height=max(260, 90 * len(entries) + 140),
        )
    )
    return figure
