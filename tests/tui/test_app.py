"""The compare screen driven through Pilot: queries, labels, votes, swaps, errors, safety."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytrec_eval

from ragtui.judgments import JudgmentStore
from ragtui.tui.widgets.pane import PipelinePane
from tests.tui.helpers import ask, new_app, wait_for

QUERY = "How heavy is the HB-15?"


def screen_text(app) -> str:
    """The characters on screen, read back from Textual's SVG screenshot."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return "".join(html.unescape(part) for part in parts).replace("\xa0", " ")


async def test_a_query_fills_both_panes(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
        for key in ("a", "b"):
            pane = app.pane(key)
            assert len(pane.hits) == 5
            assert pane.answer_text.strip()
            assert pane.stats is not None and pane.stats.retrieval_ms is not None
            assert pane.stats.timing_mode == "fair"
            assert pane.error is None
        assert app.pane("a").hits != app.pane("b").hits  # bm25 and hybrid rank differently
        rendered = app.pane("b").query_one("#stats").render()
        assert "retrieval" in str(rendered) and "fair timing" in str(rendered)


async def test_labels_persist_reload_and_export_as_qrels(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
        passages = app.pane("a").passages
        assert app.focused is passages
        await pilot.press("3")  # first passage of pane A
        await pilot.press("j", "0")  # second passage
        await pilot.press("j", "2", "x")  # third: graded then cleared
        await pilot.pause(0.1)
        labelled = {app.pane("a").hits[0].passage_id: 3, app.pane("a").hits[1].passage_id: 0}
        assert app.store.labels_for(app.query_id) == labelled
        figures = str(app.pane("a").query_one("#figures").render())
        assert "nDCG@5 1.00" in figures and "P@5 0.20" in figures
        # the label shows in pane B too wherever the same passage appears
        assert str(app.pane("b").query_one("#figures").render())
        query_id = app.query_id

    restarted = new_app(tmp_path)
    async with restarted.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: restarted.ready)
        await wait_for(pilot, lambda: restarted.query_text == QUERY)
        # the last answers and stats come back
        await wait_for(pilot, lambda: all(pane.stats for pane in restarted.query(PipelinePane)))
        assert restarted.store.labels_for(query_id) == labelled
        assert restarted.pane("a").answer_text
        assert restarted.query_one("#query").history[-1] == QUERY

    store = JudgmentStore(restarted.store.folder)
    out = store.folder.parent / "export"
    from ragtui.judgments import export_qrels

    export_qrels(store, out, "beir")
    lines = (out / "qrels" / "test.tsv").read_text().splitlines()
    assert lines[0] == "query-id\tcorpus-id\tscore"
    parsed = {}
    for line in lines[1:]:
        qid, pid, grade = line.split("\t")
        parsed.setdefault(qid, {})[pid] = int(grade)
    assert parsed == {query_id: labelled}
    queries = [json.loads(line) for line in (out / "queries.jsonl").read_text().splitlines()]
    assert queries == [{"_id": query_id, "text": QUERY}]
    # pytrec_eval accepts the exported judgments as they are
    evaluator = pytrec_eval.RelevanceEvaluator(parsed, {"ndcg"})
    assert evaluator.evaluate({query_id: {pid: 1.0 for pid in labelled}})[query_id]["ndcg"] > 0


async def test_votes_persist(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
        await pilot.press("b")
        await pilot.pause(0.1)
        answer_a = app.pane("a").answer_text
    votes = JudgmentStore(app.store.folder).votes()
    assert len(votes) == 1
    vote = votes[0]
    assert vote.choice == "b" and vote.query == QUERY
    assert (vote.pipeline_a, vote.pipeline_b) == ("bm25+extractive", "hybrid+extractive")
    assert vote.answer_a == answer_a and vote.answer_b
    assert vote.stats_a["timing_mode"] == "fair"


async def test_swapping_a_generator_reruns_only_that_pane(tmp_path: Path) -> None:
    app = new_app(tmp_path, spec_a="bm25+extractive", spec_b="bm25+extractive")
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
        run_a = app.runs["a"]
        await pilot.press("tab")  # focus moves to pane B's passages
        assert app.focused_pane_key() == "b"
        await pilot.press("g")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ComponentPicker")
        await pilot.press("tab")  # to the free-text spec box
        await pilot.press(*"llamacpp:gemma3", "enter")
        await wait_for(pilot, lambda: app.runs["b"].done, timeout_s=120)
        assert app.specs["b"] == "bm25+llamacpp:gemma3"
        assert app.runs["a"] is run_a  # pane A did not run again
        assert app.runs["b"].stats.completion_tokens > 0
        assert not app.runs["b"].stats.tokens_estimated
    records = JudgmentStore(app.store.folder).runs()
    assert [record["pane"] for record in records] == ["a", "b", "b"]


async def test_a_failing_backend_shows_its_error_in_its_own_pane(
    tmp_path: Path, monkeypatch
) -> None:
    from tests.servers.processes import free_port

    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")  # nothing listens there
    from ragtui.settings_file import Settings

    app = new_app(tmp_path, spec_b="bm25+ollama:llama3.2:1b", settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
        assert app.pane("a").error is None and app.pane("a").answer_text
        error = app.pane("b").error
        assert error and "ollama" in error.lower()
        assert "error:" in str(app.pane("b").query_one("#status").render())


async def test_markup_and_escapes_in_a_passage_render_literally(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    hostile = (
        "Zebra notes: [bold]not bold[/] and [link=https://example.com]a link[/link] "
        "and \x1b[31mred\x1b[0m and a bell \x07 and [/] stray close tags [red]."
    )
    (corpus / "hostile.md").write_text(hostile, encoding="utf-8")
    (corpus / "plain.txt").write_text("Something else about giraffes entirely.", encoding="utf-8")
    app = new_app(tmp_path, corpus=corpus, spec_b="bm25+extractive")
    async with app.run_test(size=(160, 40)) as pilot:
        await ask(pilot, "zebra notes")
        text = screen_text(app)
        assert "[bold]not bold[/]" in text
        assert "[link=https://example.com]a link[/link]" in text
        assert "red" in text and "[31m" not in text
        assert isinstance(app.pane("a"), PipelinePane) and app.pane("a").error is None


async def test_a_second_query_cancels_the_first(tmp_path: Path) -> None:
    app = new_app(
        tmp_path, spec_a="bm25+llamacpp:smollm2", spec_b="bm25+extractive", max_tokens=200
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        app.query_one("#query").focus()
        await pilot.press(*"Explain every error code in detail", "enter")
        await wait_for(pilot, lambda: app.pane("a").answer_text != "", timeout_s=120)
        app.query_one("#query").focus()
        app.query_one("#query").value = QUERY
        await pilot.press("enter")
        await wait_for(pilot, lambda: all(run.done for run in app.runs.values()), 120)
        assert app.query_text == QUERY
    records = JudgmentStore(app.store.folder).runs()
    pane_a = [record for record in records if record["pane"] == "a"]
    # the first query's generation was cancelled before it finished: no record of it
    assert [record["query"] for record in pane_a] == [QUERY], pane_a


async def test_a_narrow_terminal_shows_one_pane_at_a_time(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, QUERY)
        await pilot.press("escape")
        assert app.pane("a").display and not app.pane("b").display
        assert app.pane("a").region.width >= 70  # the shown pane takes the whole width
        await pilot.press("o")
        await pilot.pause(0.1)
        assert app.pane("b").display and not app.pane("a").display
        assert app.focused is app.pane("b").passages
        text = screen_text(app)
        assert "hybrid+extractive" in text and "retrieval" in text
