"""The eval results screen: charts and table from a real run's results.json."""

import copy
from pathlib import Path

import pytest

from ragtui.config.settings_file import Settings
from ragtui.errors import RagtuiError
from ragtui.experiment.report.outputs import load_results, write_outputs
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from ragtui.experiment.run.scoring import summarize
from ragtui.tui.eval_app import EvalResultsApp
from tests.conftest import SAMPLE_CORPUS
from tests.tui.test_app import screen_text


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("eval")
    dataset = load_dataset(SAMPLE_CORPUS, limit=12)  # above the 10 queries a bar needs
    run = run_grid(
        dataset, GridPlan(("bm25", "dense"), ("extractive",)), Settings(), cache_root=root
    )
    loaded = load_results(write_outputs(run, summarize(run), root / "out"))
    # Pin the machine-dependent times (and the clone's path) so the snapshot repeats;
    # quality figures are real.
    loaded["dataset"]["path"] = "sample_corpus"
    for number, data in enumerate(loaded["pipelines"].values(), start=1):
        for name in ("retrieval_ms", "ttft_ms", "total_ms"):
            data[name] = {"p50": 10.0 * number, "p95": 20.0 * number}
    return loaded


async def test_the_screen_shows_every_pipeline_and_cycles_metrics(results: dict) -> None:
    app = EvalResultsApp(results)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.query_one("#pipelines")
        assert table.row_count == 2
        text = screen_text(app)
        assert "answer F1 vs median total ms" in text
        assert "component effects on answer F1" in text
        assert "Changing the retriever" in text
        # Each pipeline has a marker and its own legend line: no label drawn over another.
        for name in ("● bm25+extractive", "■ dense+extractive"):
            assert name.replace(" ", "") in text.replace(" ", "")
        assert "median total ms (log scale)" in text and "1k" not in text
        # Whiskers beside the bars, on a fixed ±25-point scale however small the effect.
        assert "95% CI" in text and "25.0" in text and "-25.0" in text
        await pilot.press("m")
        assert app.metric == "exact_match"
        assert "exact match vs median total ms" in screen_text(app)


def test_results_screen_snapshot(snap_compare, results: dict) -> None:
    assert snap_compare(EvalResultsApp(results), terminal_size=(120, 40))


async def test_the_effect_scale_grows_in_steps_only_when_an_interval_needs_it(
    results: dict,
) -> None:
    wide = copy.deepcopy(results)
    wide["attribution"]["f1"]["retriever_effect"].update(size=0.3, ci_low=0.2, ci_high=0.4)
    app = EvalResultsApp(wide)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "50.0" in text and "-50.0" in text and "25.0" not in text


def test_a_folder_without_results_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RagtuiError, match=r"results\.json does not exist"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(RagtuiError, match="cannot be read"):
        load_results(tmp_path)


async def test_a_labellers_agreement_with_you_is_shown_under_the_summary(
    results: dict,
) -> None:
    from ragtui.judging.labeller_agreement import labeller_agreement

    human = {f"q{i}": {f"d{j}": (i + j) % 4 for j in range(4)} for i in range(5)}
    machine = {
        q: {d: g if (i + 2 * j) % 3 else (g + 1) % 4 for j, (d, g) in enumerate(grades.items())}
        for i, (q, grades) in enumerate(human.items())
    }
    checked = labeller_agreement("openai:big (pointwise, prompt 1234abcd)", human, machine)
    unchecked = labeller_agreement("ollama:other (one-shot, prompt 99)", {}, machine)
    with_labeller = copy.deepcopy(results)
    with_labeller["labeller_agreement"] = [checked.to_json(), unchecked.to_json()]
    app = EvalResultsApp(with_labeller)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        summary = app.query_one("#summary")
        text = str(summary.render())
        assert checked.sentence() in text
        assert "agrees with your grades κ" in text and "(n = 20 pairs, 5 queries)" in text
        assert "ollama:other (one-shot, prompt 99): not checked against your labels" in text
        assert "not checked against your labels" in screen_text(app)  # on screen, not cut
        await pilot.press("m")  # every metric keeps it
        assert checked.sentence() in str(summary.render())


async def test_each_point_of_quality_against_latency_carries_its_interval(
    results: dict,
) -> None:
    from ragtui.tui.eval_app import quality_intervals

    # Each pipeline's mean F1 with its 95% interval over queries, from results.json.
    intervals = quality_intervals(results, "f1")
    assert set(intervals) == set(results["pipelines"])
    for name, (low, high) in intervals.items():
        assert low <= results["pipelines"][name]["mean"]["f1"] <= high
        assert high > low  # twelve queries: an interval, not a point
    assert quality_intervals(results, "citation_validity") == {}
    app = EvalResultsApp(results)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "answer F1 vs median total ms (95% CI, n = 12)" in screen_text(app)
        # A red bar through each point (its marker on top), from the interval's low end
        # to its high end.
        plot = app.query_one("#quality-latency")
        drawn = plot.render().plain.splitlines()
        canvas = [line[5:-1] for line in drawn if line[4:5] in {"│", "┤"}]  # inside the frame
        for marker in ("●", "■"):
            (row,) = [  # the point, not its legend line
                number for number, line in enumerate(canvas) if marker in line and "+" not in line
            ]
            column = canvas[row].index(marker)
            assert canvas[row - 1][column] == "│" and canvas[row + 1][column] == "│"
        while app.metric != "citation_validity":
            await pilot.press("m")
        await pilot.pause()
        assert "citation validity vs median total ms (no interval)" in str(plot.render())


@pytest.fixture(scope="module")
def six_queries(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("eval-six")
    dataset = load_dataset(SAMPLE_CORPUS, limit=6)
    run = run_grid(dataset, GridPlan(("bm25",), ("extractive",)), Settings(), cache_root=root)
    return load_results(write_outputs(run, summarize(run), root / "out"))


async def test_a_mean_over_too_few_queries_draws_no_bar_and_says_so(six_queries: dict) -> None:
    """Below MEAN_INTERVAL_FLOOR (10 queries) eval records the interval but marks it not
    enough; the chart draws no bar for it and its title gives n instead."""
    from ragtui.experiment.report.charts import quality_latency
    from ragtui.tui.eval_app import quality_intervals

    assert quality_intervals(six_queries, "f1") == {}
    app = EvalResultsApp(six_queries)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "answer F1 vs median total ms (n = 6: too few for a CI)" in screen_text(app)
        drawn = app.query_one("#quality-latency").render().plain.splitlines()
        canvas = [line[5:-1] for line in drawn if line[4:5] in {"│", "┤"}]  # inside the frame
        assert canvas and not any("│" in line for line in canvas)
    figure = quality_latency(six_queries)
    for trace in figure.data:
        if trace.mode == "markers":
            assert trace.error_y.array is None
            assert "too few queries to tell (n = 6): no interval" in trace.hovertemplate
