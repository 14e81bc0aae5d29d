"""report.html: one self-contained page — report.md's text and tables plus interactive
charts — that opens offline. plotly.js is inlined, nothing is fetched.

Untrusted text (query ids, spec names, paths) reaches the page only as escaped HTML (the
Markdown renderer has raw HTML off) or inside JSON whose ``<`` is escaped, so no text can
close a tag or start a script.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt

from ragtui.experiment.report.formatting import dataset_title

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 0 16px 48px; color: #1d2330; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #dde; }
/* Long unbroken tokens (names, paths, specs, ids) wrap instead of widening the page. */
p, li, h1, h2, h3 { overflow-wrap: anywhere; }
code { background: #f3f4f8; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere;
       word-break: break-word; }
.table { overflow-x: auto; } table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #d8dbe4; padding: 4px 8px; text-align: left; font-size: 0.92em; }
th { background: #f3f4f8; }
.chart { width: 100%; min-height: 320px; margin: 12px 0; }
.charts { margin: 16px 0; }
@media (max-width: 600px) { body { padding: 0 8px 32px; font-size: 15px; }
  th, td { padding: 3px 5px; } }
"""


def _markdown_to_html(markdown: str) -> str:
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = renderer.render(markdown)
    # Wide tables scroll sideways on a phone instead of widening the page.
    return body.replace("<table>", '<div class="table"><table>').replace(
        "</table>", "</table></div>"
    )


def _script_json(value: Any) -> str:
    """JSON safe inside <script>: no "</script>", "<!--" or "]]>" can form."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figures(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], labels) -> list:
    from ragtui.experiment.report import charts

    made = [
        charts.quality_latency(results),
        charts.verdict_effects(results),
        charts.component_effects(results, labels),
        charts.threshold_bars(results),
        charts.per_query_heatmap(results, rows),
        *(
            charts.corrected_intervals(results, metric)
            for metric in dict.fromkeys(e["metric"] for e in results.get("corrected") or [])
        ),
    ]
    return [figure for figure in made if figure is not None]


def render_html(
    results: Mapping[str, Any],
    markdown: str,
    rows: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
) -> str:
    """The page: title, findings, charts, then the rest of the report."""
    from plotly.offline import get_plotlyjs

    figures = _figures(results, rows, labels)
    charts = []
    scripts = []
    for position, figure in enumerate(figures):
        element = f"chart-{position}"
        # The title goes in the page, where it wraps on a phone; Plotly's would be cut off.
        heading = html.escape(figure.layout.title.text or "")
        figure.update_layout(title=None, margin={"t": 24})
        charts.append(f'<h3>{heading}</h3><div class="chart" id="{element}"></div>')
        spec = _script_json(figure.to_json())
        scripts.append(
            f"(function (f) {{ Plotly.newPlot({json.dumps(element)}, f.data, f.layout, CONFIG); "
            f"}})({spec});"
        )
    body = _markdown_to_html(markdown)
    marker = "<h2>Retrieval</h2>"
    chart_block = '<section class="charts"><h2>Charts</h2>' + "".join(charts) + "</section>"
    body = body.replace(marker, chart_block + marker, 1) if marker in body else body + chart_block
    title = html.escape(f"ragtui eval: {dataset_title(results['dataset']).replace('`', '')}")
    config = {"responsive": True, "displaylogo": False}
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # Nothing may leave the page: no fetch, no image, no font from elsewhere.
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
            'img-src data: blob:; font-src data:">',
            f"<title>{title}</title>",
            f"<style>{STYLE}</style>",
            f"<script>{get_plotlyjs()}</script>",
            "</head><body>",
            body,
            f"<script>const CONFIG = {json.dumps(config)};",
            *scripts,
            "</script>",
            "</body></html>",
        ]
    )
