"""The compare screen driven through Pilot: queries, labels, votes, swaps, errors, safety."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import pytrec_eval

from ragtui.compare.session import SessionError
from ragtui.judging.store import JudgmentStore
from ragtui.tui.widgets.pane import PipelinePane
from tests.conftest import SAMPLE_CORPUS
from tests.tui.helpers import answered, ask, new_app, wait_for

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
        hits = app.pane("a").hits
        labelled = {hits[0].passage_id: 3, hits[1].passage_id: 0}
        session = app.session
        await wait_for(pilot, lambda: session.resolved.grades.get(session.query_id) == labelled)
        await pilot.pause(0.1)
        figures = str(app.pane("a").query_one("#figures").render())
        assert "nDCG@5 1.00" in figures and "P@5 0.20" in figures and "your grades" in figures
        # the grade shows in pane B too, on the same passage, wherever B ranks it
        pane_b = app.pane("b")
        shared = [hit.passage_id for hit in pane_b.hits if hit.passage_id in labelled]
        assert shared, "hybrid should rank one of bm25's top passages too"
        for passage_id in shared:
            assert pane_b.grade_shown(passage_id) == labelled[passage_id]
        assert "your grades" in str(pane_b.query_one("#figures").render())
        query_id = session.query_id

    restarted = new_app(tmp_path)
    async with restarted.run_test(size=(120, 40)) as pilot:
        session = restarted.session
        await wait_for(pilot, lambda: session.ready)
        await wait_for(pilot, lambda: session.query == QUERY)
        # the last answers and stats come back
        await wait_for(pilot, lambda: all(pane.stats for pane in restarted.query(PipelinePane)))
        assert session.resolved.grades[query_id] == labelled
        assert restarted.pane("a").answer_text
        assert restarted.pane("a").grade_shown(hits[0].passage_id) == 3
        assert restarted.query_one("#query").history[-1] == QUERY

    from ragtui.corpus import load_corpus
    from ragtui.judging.anchors import export_qrels, resolve_labels

    store = JudgmentStore(session.store.folder)
    out = store.folder.parent / "export"
    export_qrels(resolve_labels(store.labels(), load_corpus(SAMPLE_CORPUS)), out, "beir")
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
        await wait_for(pilot, lambda: len(app.session.votes) == 1)
        answer_a = app.pane("a").answer_text
        runs = {key: pane.run for key, pane in app.session.panes.items()}
    votes = JudgmentStore(app.session.store.folder).votes()
    assert len(votes) == 1
    vote = votes[0]
    assert vote.choice == "b" and vote.query == QUERY
    assert (vote.pipeline_a, vote.pipeline_b) == ("bm25+extractive", "hybrid+extractive")
    assert vote.answer_a == answer_a and vote.answer_b
    assert (vote.run_id_a, vote.run_id_b) == (runs["a"].run_id, runs["b"].run_id)
    assert vote.stats_a["timing_mode"] == "fair" and vote.timing_a == "fair"


async def test_swapping_a_generator_reruns_only_that_pane(tmp_path: Path) -> None:
    app = new_app(tmp_path, spec_a="bm25+extractive", spec_b="bm25+extractive")
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
        session = app.session
        run_a = session.panes["a"].run
        await pilot.press("tab")  # focus moves to pane B's passages
        assert app.focused_pane_key() == "b"
        await pilot.press("g")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ComponentPicker")
        await pilot.press("tab")  # to the free-text spec box
        await pilot.press(*"llamacpp:gemma3", "enter")
        await wait_for(pilot, lambda: answered(app), timeout_s=120)
        assert session.panes["b"].spec == "bm25+llamacpp:gemma3"
        assert session.panes["a"].run is run_a  # pane A did not run again
        stats = session.panes["b"].run.stats
        assert stats.completion_tokens > 0 and not stats.tokens_estimated
    records = JudgmentStore(session.store.folder).runs()
    assert [record.pane for record in records] == ["a", "b", "b"]
    assert records[-1].pipeline == "bm25+llamacpp:gemma3"


async def test_a_swap_mid_stream_leaves_no_stale_answer(tmp_path: Path) -> None:
    app = new_app(
        tmp_path, spec_a="bm25+extractive", spec_b="bm25+llamacpp:smollm2", max_tokens=120
    )
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.session
        await wait_for(pilot, lambda: session.ready)
        app.query_one("#query").focus()
        await pilot.press(*"Explain every error code in detail", "enter")
        await wait_for(pilot, lambda: len(app.pane("b").answer_text) > 60, timeout_s=120)
        old_answer = app.pane("b").answer_text
        assert session.panes["b"].run is not None and not session.panes["b"].run.done
        session.set_component("b", "generator", "extractive")
        # at once, before the new pipeline is built: no answer to vote on, nothing stale
        assert session.panes["b"].run is None
        with pytest.raises(SessionError, match="Pane B now runs bm25\\+extractive"):
            await session.vote("a")
        await pilot.pause(0.05)
        assert old_answer[:60] not in app.pane("b").answer_text
        await wait_for(pilot, lambda: answered(app), timeout_s=120)
        assert session.panes["b"].run.spec == "bm25+extractive"
        assert app.pane("b").answer_text == session.panes["b"].run.answer
        assert old_answer[:60] not in screen_text(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: len(session.votes) == 1)
        assert session.votes[0].pipeline_b == "bm25+extractive"
        assert session.votes[0].answer_b == session.panes["b"].run.answer


async def test_typing_after_a_restored_query_replaces_it(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERY)
    restarted = new_app(tmp_path)
    async with restarted.run_test(size=(120, 40)) as pilot:
        box = restarted.query_one("#query")
        await wait_for(pilot, lambda: box.value == QUERY)
        box.focus()
        await pilot.press(*"Where is the gateway?")
        assert box.value == "Where is the gateway?"


async def test_picking_a_dataset_query_shows_its_figures_without_grading(tmp_path: Path) -> None:
    from ragtui.corpus import load_corpus
    from ragtui.metrics import trec_order

    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.session
        await wait_for(pilot, lambda: session.ready)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "QueryPicker")
        await pilot.press(*"E-104")
        await pilot.press("enter")
        await wait_for(pilot, lambda: answered(app))
        await pilot.pause(0.1)
        corpus = load_corpus(SAMPLE_CORPUS)
        query_id = session.query_id
        assert query_id in corpus.queries and "E-104" in corpus.queries[query_id]
        for key in ("a", "b"):
            pane = app.pane(key)
            # pytrec_eval on the pane's hits, each document scored by its best passage
            scores: dict[str, float] = {}
            for hit in pane.hits:
                scores[hit.doc_id] = max(scores.get(hit.doc_id, float("-inf")), hit.score)
            expected = pytrec_eval.RelevanceEvaluator(
                {query_id: corpus.qrels[query_id]}, {"ndcg_cut.5"}
            ).evaluate({query_id: scores})[query_id]["ndcg_cut_5"]
            figures = str(pane.query_one("#figures").render())
            assert f"nDCG@5 {expected:.2f}" in figures and "dataset judgments" in figures
            assert trec_order(scores)  # the pane ranked something
            marked = [hit for hit in pane.hits if hit.doc_id in corpus.qrels[query_id]]
            for hit in marked:
                assert pane.grade_shown(hit.passage_id) == corpus.qrels[query_id][hit.doc_id]


async def test_a_failing_backend_shows_its_error_in_its_own_pane(
    tmp_path: Path, monkeypatch
) -> None:
    from tests.servers.processes import free_port

    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")  # nothing listens there
    from ragtui.config.settings_file import Settings

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
        "and \x1b[31mcrimson\x1b[0m and a bell \x07 and [/] stray close tags [red]."
    )
    (corpus / "hostile.md").write_text(hostile, encoding="utf-8")
    (corpus / "plain.txt").write_text("Something else about giraffes entirely.", encoding="utf-8")
    app = new_app(tmp_path, corpus=corpus, spec_b="bm25+extractive")
    async with app.run_test(size=(160, 40)) as pilot:
        await ask(pilot, "zebra notes")
        text = screen_text(app)
        assert "[bold]not bold[/]" in text
        assert "[link=https://example.com]a link[/link]" in text
        assert "crimson" in text and "[31m" not in text and "\x1b" not in text
        assert isinstance(app.pane("a"), PipelinePane) and app.pane("a").error is None


async def test_a_second_query_cancels_the_first(tmp_path: Path) -> None:
    app = new_app(
        tmp_path, spec_a="bm25+llamacpp:smollm2", spec_b="bm25+extractive", max_tokens=200
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        app.query_one("#query").focus()
        await pilot.press(*"Explain every error code in detail", "enter")
        await wait_for(pilot, lambda: app.pane("a").answer_text != "", timeout_s=120)
        app.query_one("#query").focus()
        app.query_one("#query").value = QUERY
        await pilot.press("enter")
        await wait_for(pilot, lambda: answered(app), 120)
        assert app.session.query == QUERY
    records = JudgmentStore(app.session.store.folder).runs()
    pane_a = [record for record in records if record.pane == "a"]
    # the first query's generation was cancelled before it finished: no record of it
    assert [record.query for record in pane_a] == [QUERY], pane_a


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


async def test_the_app_leaves_no_logging_handler_behind(tmp_path: Path) -> None:
    import logging

    before = list(logging.getLogger("ragtui").handlers)
    for _ in range(2):
        app = new_app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            session = app.session
            await wait_for(pilot, lambda: session.ready)  # noqa: B023
            assert len(logging.getLogger("ragtui").handlers) == len(before) + 1
    assert logging.getLogger("ragtui").handlers == before


async def test_a_streaming_answer_is_plain_text_laid_out_only_when_it_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an answer streams, the pane shows it as plain text in one widget and lays the
    screen out only when the text needs another line (each layout of the screen delayed key
    presses); the finished answer replaces it as Markdown."""
    from textual.widgets import Markdown

    from ragtui.pipeline import RunStats
    from ragtui.tui.widgets.pane import StreamedAnswer

    stats = RunStats(1.0, 0.5, 2.0, 100.0, 10, 3, False, 0.0, "fair")
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        pane = app.pane("a")
        live = pane.query_one("#answer-live", StreamedAnswer)
        await pane.begin("q")
        await pane.append("1. **First** step")
        await pilot.pause(0.4)
        assert live.display and not any(shown.display for shown in pane.query("#answer"))
        assert "1. **First** step" in screen_text(app)  # as written, not yet formatted
        layouts = live._layout_updates
        await pane.append(" and")
        await pilot.pause(0.4)
        assert "step and" in screen_text(app)
        assert live._layout_updates == layouts, "a word on the same line laid the screen out"
        height = live.size.height
        await pane.append(" more" * 40)
        await pilot.pause(0.4)
        assert live._layout_updates > layouts and live.size.height > height
        answer = "1. **First** step and" + " more" * 40
        # The streamed text stays on screen while the Markdown is built (no blank box).
        shown_while_building: list[bool] = []
        build = Markdown.update

        def recording_update(widget: Markdown, markdown: str):
            shown_while_building.append(live.display)
            return build(widget, markdown)

        monkeypatch.setattr(Markdown, "update", recording_update)
        await pane.end(answer, stats, None)
        await pilot.pause(0.3)
        assert shown_while_building and all(shown_while_building)
        markdown = pane.query_one("#answer", Markdown)
        assert markdown.display and not live.display
        text = screen_text(app)
        assert "First step and more" in text and "**First**" not in text
        await ask(pilot, QUERY)  # and the screen still follows the session
        assert pane.stats is not None


async def test_an_answer_that_ends_right_after_its_first_words_renders(tmp_path: Path) -> None:
    """Extractive answers arrive in one piece and end at once; the pane must take both
    without waiting for a redraw in between (a stream stopped before it ever ran raised
    CancelledError and froze every later update)."""
    from ragtui.pipeline import RunStats

    stats = RunStats(1.0, 0.5, 2.0, 100.0, 10, 3, False, 0.0, "fair")
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        pane = app.pane("a")
        await pane.begin("q")
        await pane.append("A short answer.")
        await pane.end("A short answer.", stats, None)
        await pilot.pause(0.3)
        assert "A short answer." in screen_text(app)
        await ask(pilot, QUERY)  # and the screen still follows the session
        assert pane.stats is not None and pane.stats.timing_mode == "fair"


async def test_the_status_line_grows_for_a_long_error_and_shrinks_back(tmp_path: Path) -> None:
    # One-line statuses skip the layout pass; the lines that change the height must not.
    app = new_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        pane = app.pane("a")
        status = pane.query_one("#status")
        pane.set_status("retrieving…")
        await pilot.pause(0.1)
        assert status.size.height == 1
        pane.set_status("error: " + "the backend refused the request " * 4, error=True)
        await wait_for(pilot, lambda: status.size.height == 3, timeout_s=5)
        pane.set_status("ready")
        await wait_for(pilot, lambda: status.size.height == 1, timeout_s=5)
        pane.set_status("error:" + "\tx" * 12)  # tabs: short in characters, wide on screen
        await wait_for(pilot, lambda: status.size.height > 1, timeout_s=5)
