"""Imported questions in the compare screen: listed in the query picker (ctrl+o) beside the
corpus's own, and run under their set's query id, whether picked or typed, so a grade made
in the compare screen counts as graded for that set in the labeling screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.cli import build_parser, main
from ragtui.cli_label import _prepare_queue
from ragtui.judging.label_queue import pair_key
from ragtui.judging.labeling import LabelingSession
from ragtui.judging.store import JudgmentStore
from tests.tui.helpers import answered, ask, new_app, wait_for

QUESTION = "How do I reset the gateway to its factory settings?"


@pytest.fixture
def imported(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(data))
    questions = tmp_path / "queries.jsonl"
    questions.write_text(f'{{"_id": "ticket-7", "text": "{QUESTION}"}}\n', encoding="utf-8")
    assert main(["testset", "import", str(corpus_copy), str(questions), "--name", "own"]) == 0
    return data


async def test_an_imported_question_is_picked_and_graded_for_its_set(
    corpus_copy: Path, imported: Path
) -> None:
    app = new_app(imported, "bm25+extractive", "bm25+extractive", corpus=corpus_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.session
        await wait_for(pilot, lambda: session.ready)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "QueryPicker")
        assert "imported: 1" in str(app.screen.query_one("#picker-title").render())
        await pilot.press(*"factory")
        await pilot.press("enter")
        await wait_for(pilot, lambda: answered(app))
        await pilot.pause(0.1)
        assert session.query == QUESTION and session.query_id == "ticket-7"
        first = app.pane("a").hits[0]
        app.pane("a").passages.focus()
        await pilot.press("2")
        await wait_for(pilot, lambda: "ticket-7" in session.resolved.grades)
        assert session.resolved.grades["ticket-7"] == {first.passage_id: 2}

        # Typed with other spacing and case, it is the same question of the set.
        await ask(pilot, "  how do I reset the GATEWAY   to its factory settings? ")
        assert session.query_id == "ticket-7"

    # The labeling screen of the set counts the compare screen's grade as made.
    store = JudgmentStore.for_corpus(session.corpus.root, session.corpus.source_key)
    label = store.labels()["ticket-7"]
    assert [stored.grade for stored in label.values()] == [2]
    argv = ["label", str(corpus_copy), "--testset", "own", "--retrievers", "bm25", "--depth", "3"]
    corpus, _testset, queue = _prepare_queue(build_parser().parse_args(argv), str(corpus_copy))
    labeling = LabelingSession(queue, store, corpus.chunking.key)
    try:
        graded = [pair for pair in queue.pairs if pair_key(pair) in labeling.grades]
        assert [(pair.query_id, pair.judged.passage_id) for pair in graded] == [
            ("ticket-7", first.passage_id)
        ]
        assert labeling.graded_before == 1
    finally:
        labeling.close()
