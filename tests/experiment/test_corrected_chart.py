"""The terminal picture of corrected estimates (``text_chart``): automatic grades alone,
your grades alone and corrected, side by side as text bars on one scale per metric, each
bar where its printed numbers put it; a figure that is not corrected (below the labels
floor, or outside the sample's pool) says so in place of a bar. And the line beside the
figures saying how far their automatic grades agree with you.

The entries are results.json's ``corrected`` entries, written out by hand so that every
position on the scale is known.
"""

from __future__ import annotations

import re

import pytest

from ragtui.experiment.report.corrected import CHART_WIDTH, corrected_text, text_chart

BAR_START = len("bm25:okapi") + 2 + 10  # name column, two spaces, the row's label
TOO_FEW = "too few labels to tell (n = 150)"
OUTSIDE = "not corrected: the sample was drawn from the pool of bm25 at depth 10"


COUNTS = {"n_human": 150, "n_automatic": 377, "effective_labels": 300.0, "method": "PPI++"}


def _entry(retriever: str, metric: str, corrected, yours, automatic: float | None) -> dict:
    low, estimate, high = corrected
    return {
        "retriever": retriever,
        "metric": metric,
        "status": "corrected",
        "words": f"{estimate:.3f} [{low:.3f}, {high:.3f}]",
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "automatic_only": automatic,
        "human_only": dict(zip(("ci_low", "estimate", "ci_high"), yours, strict=True)),
        **COUNTS,
    }


def _not_corrected(retriever: str, metric: str, status: str, words: str) -> dict:
    return {
        "retriever": retriever,
        "metric": metric,
        "status": status,
        "words": words,
        **dict.fromkeys(("estimate", "ci_low", "ci_high", "automatic_only", "human_only")),
        **COUNTS,
        "effective_labels": None,
        "method": None,
    }


ENTRIES = [
    _entry("bm25", "DCG@10", (2.0, 2.6, 3.2), (1.5, 2.7, 3.9), 2.2),
    _entry("bm25:okapi", "DCG@10", (3.0, 3.5, 4.0), (2.4, 3.4, 4.4), 3.9),
    _entry("bm25", "P@10", (0.10, 0.14, 0.18), (0.08, 0.15, 0.22), 0.12),
]


def _column(value: float, low: float, high: float) -> int:
    return round((value - low) / (high - low) * (CHART_WIDTH - 1))


def test_every_bar_sits_on_one_scale_per_metric_where_its_numbers_say() -> None:
    lines = text_chart(ENTRIES, "DCG@10")
    axis = re.findall(r"-?\d+\.\d+", lines[0])
    # From 0 (every figure here is above it) to the highest interval end of the metric,
    # whichever retriever's and whichever source's it is; P@10's figures are not on it.
    assert lines[0].startswith("DCG@10") and [float(end) for end in axis] == [0.0, 4.4]
    bars = [line for line in lines[1:] if "├" in line]
    assert len(bars) == 4  # yours and corrected, for each of the two retrievers
    for line in bars:
        bar = line[BAR_START : BAR_START + CHART_WIDTH]
        estimate, low, high = (float(n) for n in re.findall(r"\d+\.\d+", line[BAR_START:])[-3:])
        assert bar.index("├") == _column(low, 0.0, 4.4)
        assert bar.index("┤") == _column(high, 0.0, 4.4)
        assert bar.index("●") == _column(estimate, 0.0, 4.4)
    # The automatic grades alone: a point, where its number puts it.
    points = [line for line in lines if "○" in line]
    assert [line[BAR_START:].index("○") for line in points] == [
        _column(2.2, 0.0, 4.4),
        _column(3.9, 0.0, 4.4),
    ]
    # Widths compare by eye: the corrected interval is drawn narrower than yours alone.
    widths = [line.index("┤") - line.index("├") for line in bars]
    assert widths[1] < widths[0] and widths[3] < widths[2]


def test_rows_go_retriever_by_retriever_automatic_then_yours_then_corrected() -> None:
    entries = [
        ENTRIES[1],
        _not_corrected("dense", "DCG@10", "not corrected", OUTSIDE),
        ENTRIES[0],
    ]
    lines = text_chart(entries, "DCG@10")[1:]
    rows = [(line[:10].strip(), line[12:22].strip()) for line in lines]
    assert rows == [
        ("bm25:okapi", "automatic"),
        ("", "yours"),
        ("", "corrected"),
        ("dense", OUTSIDE[:10]),
        ("bm25", "automatic"),
        ("", "yours"),
        ("", "corrected"),
    ]
    assert lines[3] == f"{'dense'.ljust(10)}  {OUTSIDE}"  # its reason, in place of bars


def test_a_figure_below_the_floor_says_so_instead_of_a_bar() -> None:
    entries = [_not_corrected(name, "P@10", "too few", TOO_FEW) for name in ("bm25", "bm25:okapi")]
    lines = text_chart(entries, "P@10")
    assert lines == ["P@10", f"bm25{' ' * 8}{TOO_FEW}", f"bm25:okapi  {TOO_FEW}"]
    assert not any(mark in "".join(lines) for mark in "├┤●○")
    # On the screen's text, the legend says there is nothing to draw.
    results = {
        "corrected": entries,
        "corrected_summary": {
            "queries": 34,
            "sample": {
                "graded": 150,
                "sampled": 150,
                "population": 377,
                "retrievers": ["bm25", "bm25:okapi"],
                "depth": 10,
            },
            "labeller": None,
            "notes": [],
            "orderings": [],
        },
    }
    text = "\n".join(line for _, block in corrected_text(results) for line in block)
    assert "P@10: no interval to draw:" in text and f"bm25:okapi  {TOO_FEW}" in text


def test_a_metric_without_entries_draws_nothing() -> None:
    assert text_chart(ENTRIES, "nDCG@10") == []


def _results(labeller: str | None, agreement: list[dict]) -> dict:
    return {
        "corrected": ENTRIES[:2],
        "corrected_summary": {
            "queries": 34,
            "sample": {
                "graded": 250,
                "sampled": 250,
                "population": 377,
                "retrievers": ["bm25", "bm25:okapi"],
                "depth": 10,
            },
            "labeller": labeller,
            "notes": [],
            "orderings": [],
        },
        "labeller_agreement": agreement,
    }


@pytest.mark.parametrize(
    ("labeller", "agreement", "expected"),
    [
        (
            "openai:m (pointwise)",
            [{"sentence": "labeller openai:m (pointwise): agrees with your grades κ 0.41"}],
            "Retrieval figures rest partly on a labeller model; labeller openai:m (pointwise): "
            "agrees with your grades κ 0.41.",
        ),
        (
            "openai:m (pointwise)",
            [],
            "Automatic grades of openai:m (pointwise): not checked against your labels.",
        ),
        (None, [], "No automatic grades: these figures are your grades alone."),
    ],
)
def test_the_figures_say_how_far_their_automatic_grades_agree_with_you(
    labeller: str | None, agreement: list[dict], expected: str
) -> None:
    (_aligned, first), *_rest = corrected_text(_results(labeller, agreement))
    assert first[0].startswith("Corrected estimates (95%) over 34 queries")
    assert first[1:] == [expected]
