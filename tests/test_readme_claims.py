"""Claims README makes that were found false when run, each pinned by a test."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ragtui.config.specs import parse_retriever_spec
from ragtui.errors import SpecError
from ragtui.experiment.report.outputs import _headline
from ragtui.experiment.stats.attribution import attribute, describe
from ragtui.generation.ollama_backend import server_message
from tests.cli_runner import ragtui
from tests.conftest import SAMPLE_CORPUS
from tests.tui.helpers import new_app, wait_for


def test_the_unknown_retriever_hint_names_every_retriever() -> None:
    with pytest.raises(SpecError) as caught:
        parse_retriever_spec("splade")
    for name in ("bm25", "bm25:okapi", "dense", "static", "hybrid", "milvus:hybrid"):
        assert f" {name}," in str(caught.value) or f" {name} (" in str(caught.value)


def test_the_compare_screen_help_names_every_command() -> None:
    done = ragtui(str(SAMPLE_CORPUS), "--help")
    assert done.returncode == 0
    for command in ("index", "search", "ask", "labels", "eval", "results", "config"):
        assert command in done.stdout


def test_the_extractive_generator_claims_no_decoding_rate() -> None:
    done = ragtui("ask", str(SAMPLE_CORPUS), "HB-15 weight", "-p", "bm25+extractive", "--json")
    stats = json.loads(done.stdout)["stats"]
    assert stats["tokens_per_s"] is None
    text = ragtui("ask", str(SAMPLE_CORPUS), "HB-15 weight", "-p", "bm25+extractive")
    stats_line = text.stdout.splitlines()[-1]
    assert "tok/s" not in stats_line and " · – · total " in stats_line


def test_ask_and_hybrid_search_say_how_long_the_query_encoding_took() -> None:
    search = json.loads(
        ragtui("search", str(SAMPLE_CORPUS), "HB-15 weight", "-r", "hybrid", "--json").stdout
    )
    assert search["encoder"].startswith("onnx") and search["encode_ms"] > 0
    ask = ragtui("ask", str(SAMPLE_CORPUS), "HB-15 weight", "-p", "dense+extractive", "--json")
    stats = json.loads(ask.stdout)["stats"]
    assert stats["encoder"].startswith("onnx") and stats["encode_ms"] > 0
    line = ragtui("ask", str(SAMPLE_CORPUS), "HB-15 weight", "-p", "hybrid+extractive")
    assert "retrieval " in line.stdout and "(onnx fp32 " in line.stdout


def test_server_errors_read_as_words() -> None:
    assert server_message({"message": "busy"}) == "busy"
    assert server_message({"error": "queue full"}) == "queue full"
    assert server_message("model  'x'\n not found") == "model 'x' not found"


def test_a_grid_whose_levels_tie_names_no_best_and_worst() -> None:
    scores = np.full((4, 2, 1), 0.5)  # two retrievers scoring the same on every query
    lines = describe(attribute("ndcg", scores, ["bm25", "bm25:okapi"], ["extractive"]), "nDCG")
    assert lines == [
        "Changing the retriever left nDCG unchanged: each of the 2 retrievers averages "
        "50.0 points (no test possible)."
    ]


def test_retrievers_tied_at_the_top_are_not_ranked() -> None:
    """On a generated set of 2 questions from sample_corpus, bm25, dense and hybrid each
    found both source passages first, and the report said "nDCG@10 is highest for bm25"."""

    def headline(scores: dict[str, float]) -> str:
        retrieval = {name: {"mean": {"nDCG@10": value}} for name, value in scores.items()}
        results = {"plan": {"k": 10}, "retrieval": retrieval, "pipelines": {}, "attribution": {}}
        return _headline(results)[0]

    assert headline({"bm25": 1.0, "dense": 1.0, "hybrid": 1.0}) == (
        "- Retrieval: nDCG@10 1.000 for every retriever."
    )
    assert headline({"bm25": 0.5, "dense": 0.8, "hybrid": 0.8}) == (
        "- Retrieval: nDCG@10 is highest for dense and hybrid (dense 0.800, hybrid 0.800, "
        "bm25 0.500)."
    )
    assert headline({"bm25": 0.5, "dense": 0.8}) == (
        "- Retrieval: nDCG@10 is highest for dense (dense 0.800, bm25 0.500)."
    )


def test_a_one_query_report_says_one_query(tmp_path) -> None:
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25,bm25", "--generators", "extractive",
        "--limit", "1", "--out", str(tmp_path / "out"), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert ": 1 query (" in report and "1 queries" not in report
    assert "bm25 → bm25" not in report
    assert json.loads((tmp_path / "out" / "results.json").read_text())["plan"]["retrievers"] == [
        "bm25"
    ]


async def test_switching_the_timing_mode_keeps_the_banner(tmp_path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        await pilot.pause(0.2)
        before = str(app.query_one("#banner").render())
        assert "42 documents" in before
        app.pane("a").passages.focus()
        await pilot.press("m")
        after = str(app.query_one("#banner").render())
        assert "CONCURRENT timing" in after and "42 documents" in after
