"""report.html in a real browser: Debian's Chromium, headless, driven by Playwright.

The page must draw every chart with no console error and no request beyond the file
itself, at a desktop size and at a phone's width (no sideways scrolling of the page).
Screenshots are left in the test's temp folder.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "eval"
    code = main(
        [
            "eval",
            str(SAMPLE_CORPUS),
            "--retrievers",
            "bm25,dense,hybrid",
            "--generators",
            "extractive",
            "--limit",
            "12",
            "--out",
            str(out),
        ]
    )
    assert code == 0
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
            assert {"bm25+extractive", "dense+extractive", "hybrid+extractive"} <= set(legend)

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
