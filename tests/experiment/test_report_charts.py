"""Chart labels in report.html are text: a query id or spec carrying Plotly's tags (it reads
<a href>, <b> and <br> in labels) is escaped, not rendered."""

from ragtui.experiment.report.charts import per_query_heatmap

HOSTILE = "<a href='http://evil.example'>q1</a>"


def test_query_ids_and_pipeline_names_reach_plotly_escaped() -> None:
    results = {
        "primary": {"answer": "f1", "answer_label": "answer F1"},
        "pipelines": {"bm25+<b>x</b>": {}},
    }
    rows = [{"query_id": HOSTILE, "retriever": "bm25", "generator": "<b>x</b>", "f1": 0.5}]
    figure = per_query_heatmap(results, rows)
    assert figure is not None
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["&lt;a href='http://evil.example'&gt;q1&lt;/a&gt;"]
    assert list(heatmap.y) == ["bm25+&lt;b&gt;x&lt;/b&gt;"]
    assert heatmap.z[0][0] == 0.5  # the value still found under the escaped labels


def test_the_best_pipeline_named_in_hover_text_through_customdata_is_escaped() -> None:
    # Plotly fills %{customdata[0]} into the hover template and then reads its tags.
    from ragtui.experiment.report.charts import verdict_effects

    best = "bm25+extractive:<b>x</b>"
    entry = {
        "stage": "pipeline",
        "best": best,
        "candidate": "dense+extractive",
        "metric": "f1",
        "diff": -0.01,
        "ci_low": -0.03,
        "ci_high": 0.01,
        "verdict": "good enough",
    }
    figure = verdict_effects({"good_enough": [entry], "margin": 0.02})
    assert figure is not None
    (trace,) = figure.data
    assert "%{customdata[0]}" in trace.hovertemplate
    assert [list(row) for row in trace.customdata] == [
        ["bm25+extractive:&lt;b&gt;x&lt;/b&gt;", "f1"]
    ]
