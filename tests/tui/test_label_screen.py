"""The blind labeling screen through Pilot: grade keys, skip, undo, resume; grades stored
anchored to their text; no retriever, rank or automatic label ever on screen.

The queue comes from the same code path ``ragtui label`` runs (real bm25 and dense
indexes over a copy of the sample corpus), so the screen asks exactly about the pairs
``ragtui label queue`` writes, in the same order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ragtui.cli import build_parser, main
from ragtui.cli_label import _prepare_queue
from ragtui.judging.label_queue import pair_key
from ragtui.judging.labeling import LabelingSession
from ragtui.judging.store import JudgmentStore
from ragtui.tui.label_app import LabelApp
from tests.tui.helpers import wait_for
from tests.tui.test_app import screen_text

QUESTIONS = (
    '{"_id": "t1", "text": "What does error E-104 mean?"}\n'
    '{"_id": "t2", "text": "How long is the warranty?"}\n'
)
LABEL = ["--testset", "own", "--retrievers", "bm25,dense", "--depth", "3"]
HIDDEN = re.compile(r"bm25|dense|\brank|retriev|score", re.IGNORECASE)


@pytest.fixture
def labeling(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    questions = tmp_path / "queries.jsonl"
    questions.write_text(QUESTIONS, encoding="utf-8")
    assert main(["testset", "import", str(corpus_copy), str(questions), "--name", "own"]) == 0
    args = build_parser().parse_args(["label", str(corpus_copy), *LABEL])
    corpus, _testset, queue = _prepare_queue(args, str(corpus_copy))
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    return corpus_copy, corpus, queue, store


def _latest(store: JudgmentStore, pair):
    """The stored record for a pair's text, read from disk."""
    fresh = JudgmentStore(store.folder)
    found = [label for label in fresh.labels().get(pair.query_id, {}).values()]
    return next((label for label in found if pair_key(label) == pair_key(pair)), None)


async def test_keys_grade_skip_and_undo_and_nothing_names_a_retriever(
    labeling, tmp_path: Path
) -> None:
    _corpus_root, corpus, queue, store = labeling
    pairs = queue.pairs
    per_query = sum(1 for pair in pairs if pair.query_id == pairs[0].query_id)
    session = LabelingSession(queue, store, corpus.chunking.key)
    app = LabelApp(session, corpus.root.name, "own")
    async with app.run_test(size=(100, 30)) as pilot:
        text = screen_text(app)
        assert f"query 1 of 2 · passage 1 of {per_query}" in text
        assert " ".join(pairs[0].query.split()) in " ".join(text.split())
        assert not HIDDEN.search(text), HIDDEN.search(text)

        await pilot.press("2")
        await wait_for(pilot, lambda: session.position == 1)
        label = _latest(store, pairs[0])
        assert label is not None and label.grade == 2 and label.source == "label screen (blind)"
        passage = corpus.passages[corpus.passage_index[pairs[0].judged.passage_id]]
        assert (label.doc_id, label.start, label.end) == (
            passage.doc_id,
            passage.start,
            passage.end,
        )
        assert label.text_sha256 == passage.content_hash and label.anchored
        assert "saved: grade 2" in screen_text(app)
        assert "passage 2 of" in screen_text(app)

        await pilot.press("s")  # skip the second pair
        await wait_for(pilot, lambda: session.position == 2)
        assert _latest(store, pairs[1]) is None
        await pilot.press("u")  # undo the skip: the second pair again
        await wait_for(pilot, lambda: session.position == 1)
        await pilot.press("u")  # undo the grade: the first pair again, its grade cleared
        await wait_for(pilot, lambda: session.position == 0)
        assert _latest(store, pairs[0]).grade is None
        await pilot.press("1", "0")
        await wait_for(pilot, lambda: session.position == 2)
        assert (_latest(store, pairs[0]).grade, _latest(store, pairs[1]).grade) == (1, 0)
        await pilot.press("s")
        for _ in range(len(pairs)):  # everything else, then the skipped pair comes back
            if session.done:
                break
            assert not HIDDEN.search(screen_text(app))
            await pilot.press("3")
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: session.done)
        assert "all" in screen_text(app) and "graded" in screen_text(app)
        await pilot.press("q")
    assert all(_latest(store, pair).grade is not None for pair in pairs)


async def test_a_new_session_resumes_where_the_last_stopped(labeling, tmp_path: Path) -> None:
    corpus_root, corpus, queue, store = labeling
    session = LabelingSession(queue, store, corpus.chunking.key)
    app = LabelApp(session, corpus.root.name, "own")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3", "0", "s", "2")
        await wait_for(pilot, lambda: session.position == 4)
        await pilot.press("q")
    graded = {0, 1, 3}
    # The same command again: same queue, nothing graded asked again, the skipped pair first.
    args = build_parser().parse_args(["label", str(corpus_root), *LABEL])
    _corpus, _testset, again = _prepare_queue(args, str(corpus_root))
    assert again.pairs == queue.pairs
    resumed = LabelingSession(again, JudgmentStore(store.folder), corpus.chunking.key)
    assert resumed.position == 2
    asked = []
    app = LabelApp(resumed, corpus.root.name, "own")
    async with app.run_test(size=(100, 30)) as pilot:
        while not resumed.done:
            asked.append(resumed.position)
            await pilot.press("1")
            count = len(asked)
            await wait_for(pilot, lambda count=count: len(resumed.steps) == count)
    assert sorted(asked) == [i for i in range(len(queue.pairs)) if i not in graded]
    assert "graded" in resumed.summary()


async def test_the_screen_asks_what_label_queue_writes_in_its_order(labeling, tmp_path) -> None:
    corpus_root, _corpus, queue, _store = labeling
    out = tmp_path / "queue.jsonl"
    assert main(["label", "queue", str(corpus_root), *LABEL, "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["query_id"], line["passage_id"]) for line in lines] == [
        (pair.query_id, pair.judged.passage_id) for pair in queue.pairs
    ]


async def test_time_left_follows_the_persons_pace(labeling) -> None:
    _root, corpus, queue, store = labeling
    now = [0.0]
    session = LabelingSession(queue, store, corpus.chunking.key, clock=lambda: now[0])
    assert session.progress_line().endswith(f"{len(queue.pairs)} left")
    for _ in range(3):
        now[0] += 30.0  # 30 s a grade
        await session.grade(1)
    left = len(queue.pairs) - 3
    minutes = max(1, round(left * 30 / 60))
    assert session.progress_line().endswith(f"about {minutes} min left at your pace")
    session.close()
