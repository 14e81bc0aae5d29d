"""report.html in a real browser: Debian's Chromium, headless, driven by Playwright.

The page must draw every chart with no console error and no request beyond the file
itself, at a desktop size and at a phone's width (no sideways scrolling of the page).
The corpus sits under a long path with a long unbroken folder name, so the phone check
cannot pass by the luck of a short checkout path; a query id and a generator name carry
<a href>, <b> and </script>, which the page must show as text. Screenshots are left in the
test's temp folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ragtui.cli import main
from tests.conftest import SAMPLE_CORPUS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (.ci/run installs Debian's package)",
)


# Tags Plotly reads in labels and hover text, and the end of the page's script element.
HOSTILE = '<a href="https://example.invalid/">link</a><b>bold</b></script>'
HOSTILE_GENERATOR = f"extractive:{HOSTILE}"  # the extractive backend ignores its model name
RETRIEVERS = ("bm25", "dense", "hybrid")
# One unbroken word, far wider than a phone: it must wrap, not widen the page.
LONG_NAME = "samplecorpus" + "copiedintoafolderwhosenamehasnobreaks" * 2


def _corpus_under_a_long_path(root: Path) -> Path:
    """The sample corpus under a long path, its first query's id replaced by HOSTILE."""
    corpus = root / "a-checkout-folder-with-a-long-path" / LONG_NAME
    shutil.copytree(SAMPLE_CORPUS, corpus)
    assert len(str(corpus)) > 60 and len(LONG_NAME) > 60
    for name in ("queries.jsonl", "answers.jsonl"):
        records = [json.loads(line) for line in (corpus / name).read_text().splitlines()]
        for record in records:
            if record["_id"] == "q01":
                record["_id"] = HOSTILE
        (corpus / name).write_text("".join(json.dumps(record) + "\n" for record in records))
    qrels = corpus / "qrels" / "test.tsv"
    qrels.write_text(
        "".join(
            f"{HOSTILE}\t{line.split(chr(9), 1)[1]}\n" if line.startswith("q01\t") else line + "\n"
            for line in qrels.read_text().splitlines()
        )
    )
    return corpus


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("html")
    corpus = _corpus_under_a_long_path(root)
    out = root / "eval"
    code = main(
        [
            "eval",
            str(corpus),
            "--retrievers",
            ",".join(RETRIEVERS),
            "--generators",
            # The only generator: every pipeline's name, the best's included, holds HOSTILE.
            HOSTILE_GENERATOR,
            "--limit",
            "12",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert LONG_NAME in page and str(corpus.parent) not in page  # named, not located
    return out / "report.html"


def test_the_report_draws_every_chart_offline_on_desktop_and_phone(
    report: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "chromium is missing: .ci/run installs it"
    console: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on(
                "console",
                lambda message: (
                    console.append(f"{message.type}: {message.text}")
                    if message.type in {"error", "warning"}
                    else None
                ),
            )
            page.on("pageerror", lambda error: console.append(f"page error: {error}"))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri())
            charts = page.locator(".chart").count()
            assert charts == 5  # quality/latency, verdicts, effects, threshold, heat map
            page.wait_for_function(
                f"document.querySelectorAll('.chart .main-svg').length >= {charts}",
                timeout=30_000,
            )
            page.screenshot(path=tmp_path / "report-1280.png", full_page=True)
            # Each chart filled its box: Plotly drew at the width the page gave it.
            widths = page.evaluate(
                "[...document.querySelectorAll('.chart')].map(c => c.getBoundingClientRect().width)"
            )
            assert all(width > 900 for width in widths), widths
            legend = page.locator(".chart").first.locator(".legendtext").all_text_contents()
            # The hostile names are shown as text (Plotly decodes the escaped tags)...
            pipelines = {f"{retriever}+{HOSTILE_GENERATOR}" for retriever in RETRIEVERS}
            assert pipelines <= set(legend)
            hovers = _hover_every_point(page)
            assert any(HOSTILE in hover["text"] for hover in hovers), hovers
            assert [hover for hover in hovers if hover["links"] or hover["bold"]] == []
            # ...and nothing in them became markup: no link, no bold, no cut-off script.
            assert _interpreted_markup(page) == {"links": 0, "bold": 0, "scripts": 2}
            assert HOSTILE in page.locator("body").inner_text()

            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(800)  # Plotly's responsive resize
            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll_width <= inner_width, "the page scrolls sideways on a phone"
            widths = page.evaluate(
                "[...document.querySelectorAll('.chart .main-svg')]"
                ".map(svg => svg.getBoundingClientRect().width)"
            )
            assert all(width <= 390 for width in widths), widths
            page.screenshot(path=tmp_path / "report-390.png", full_page=True)
        finally:
            browser.close()
    assert console == []
    assert requests == [report.as_uri()], "the page asked for something beyond itself"
    assert (tmp_path / "report-1280.png").stat().st_size > 10_000


def _hover_every_point(page) -> list[dict]:
    """Each point's hover label in every chart (a heat map's first row and column), as
    shown: its text, and the links and bold text Plotly made in it."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.chart')].flatMap(chart =>
            chart.data.flatMap((trace, curve) => {
                const points = trace.type === 'heatmap'
                    ? [...trace.x.map((_, column) => [0, column]),
                       ...trace.y.map((_, row) => [row, 0])]
                    : trace.x.map((_, index) => index);
                return points.map(point => {
                    Plotly.Fx.hover(chart, [{curveNumber: curve, pointNumber: point}]);
                    const layer = chart.querySelector('.hoverlayer');
                    return {
                        text: layer.textContent,
                        links: layer.querySelectorAll('a').length,
                        bold: [...layer.querySelectorAll('tspan')].filter(
                            span => /bold/.test(span.getAttribute('style') || '')).length,
                    };
                });
            }))"""
    )


def _interpreted_markup(page) -> dict[str, int]:
    """What the hostile names would have become had they been read as markup: links to
    example.invalid or inside a chart (Plotly turns <a href> into an SVG link), <b>
    elements or bold chart text (Plotly's <b> is a bold tspan), and script elements."""
    return page.evaluate(
        """() => ({
            links: document.querySelectorAll('a[href*="example.invalid"], svg a').length,
            bold: document.querySelectorAll('b').length + [...document.querySelectorAll(
                'svg tspan')].filter(span => /bold/.test(span.getAttribute('style') || '')).length,
            scripts: document.scripts.length,
        })"""
    )
