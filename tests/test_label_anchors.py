"""Labels follow their text when the corpus is re-chunked or edited, or are reported stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.compare.events import Notice
from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.corpus.model import Passage
from ragtui.experiment.run.dataset import load_dataset
from ragtui.judging.anchors import resolve_labels
from ragtui.judging.store import JudgmentStore, Label
from tests.session_helpers import answered, open_session, wait_until

QUERY = "How do I reset the battery after error E-104?"


def _inside(passage: Passage, start: int, end: int) -> bool:
    return start <= passage.start and passage.end <= end


async def test_grades_follow_their_text_across_rechunking_and_edits(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    data_root = tmp_path / "data"
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(data_root))
    async with open_session(data_root, corpus=corpus_copy, chunking=ChunkingSettings(180, 30)) as (
        session,
        _seen,
    ):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        hits = session.panes["a"].run.result.hits
        chosen: list = []
        for hit in hits:
            if hit.doc_id not in {other.doc_id for other in chosen}:
                chosen.append(hit)
        moved, edited, kept = chosen[:3]
        for hit, grade in ((moved, 3), (edited, 2), (kept, 1)):
            await session.grade("a", hit.passage_id, grade)

    # Edit the corpus: text above one graded passage, and inside another.
    moved_file = corpus_copy / moved.doc_id
    preface = "A preface added later, above everything else in this file.\n\n"
    moved_file.write_text(preface + moved_file.read_text(encoding="utf-8"), encoding="utf-8")
    edited_file = corpus_copy / edited.doc_id
    words = edited.text.split()
    target = words[len(words) // 2]
    text = edited_file.read_text(encoding="utf-8")
    where = text.index(edited.text) + edited.text.index(target, len(edited.text) // 3)
    edited_file.write_text(text[:where] + "CHANGED" + text[where + len(target) :], "utf-8")

    small = ChunkingSettings(60, 10)
    corpus = load_corpus(corpus_copy, small)
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, data_root)
    resolved = resolve_labels(store.labels(), corpus)
    grades = resolved.grades[session.query_id]

    shift = len(preface)
    expected_moved = {
        p.passage_id
        for p in corpus.passages
        if p.doc_id == moved.doc_id and _inside(p, moved.start + shift, moved.end + shift)
    }
    expected_kept = {
        p.passage_id
        for p in corpus.passages
        if p.doc_id == kept.doc_id and _inside(p, kept.start, kept.end)
    }
    assert expected_moved and expected_kept
    for passage_id in expected_moved:
        assert grades[passage_id] == 3
    for passage_id in expected_kept:
        assert grades[passage_id] == 1
    # the edited passage's grade went nowhere: no passage of that document is graded
    assert not [pid for pid in grades if pid.startswith(edited.doc_id + "#")]
    # and the preface is not graded: it is not the text that was judged
    preface_passage = next(p for p in corpus.passages if p.doc_id == moved.doc_id)
    if preface_passage.end <= shift + 20:
        assert preface_passage.passage_id not in grades
    assert resolved.moved == 2  # both labels made at 180 words now grade 60-word passages
    assert [(s.label.doc_id, s.reason) for s in resolved.stale] == [
        (edited.doc_id, "text changed in its document")
    ]

    # `ragtui labels export` exports exactly these and says what was left out
    out = tmp_path / "labels.qrels"
    code = main(
        [
            *("labels", "export", str(corpus_copy)),
            *("--chunk-tokens", "60", "--chunk-overlap", "10"),
            *("--format", "trec", "--out", str(out)),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "1 stale labels not used (1 text changed in its document)" in captured.err
    assert "1 stale labels left out" in captured.out
    exported = {}
    for line in out.read_text().splitlines():
        _query_id, _, passage_id, grade = line.split()
        exported[passage_id] = int(grade)
    assert exported == grades

    # `ragtui eval --labels` scores against the same judgments and says so too
    dataset = load_dataset(corpus_copy, small, labels_from=data_root)
    assert dataset.qrels == {session.query_id: grades}
    assert any("1 stale labels not used" in warning for warning in dataset.warnings)

    # the app tells the user when it opens the corpus
    async with open_session(data_root, corpus=corpus_copy, chunking=small) as (reopened, seen):
        await wait_until(lambda: reopened.ready)
        notices = [e.text for e in seen if isinstance(e, Notice)]
        assert any("1 stale labels not used" in text for text in notices), notices
        assert reopened.resolved.grades[session.query_id] == grades


def test_a_clear_on_the_exact_passage_wins_over_a_label_it_inherited(tmp_path: Path) -> None:
    from tests.conftest import SAMPLE_CORPUS

    big = load_corpus(SAMPLE_CORPUS, ChunkingSettings(180, 30))
    small = load_corpus(SAMPLE_CORPUS, ChunkingSettings(40, 5))
    long_passage = max(big.passages, key=lambda p: p.end - p.start)
    store = JudgmentStore(tmp_path)
    store.add_label(Label.for_passage("q", "q1", long_passage, 2, big.chunking.key))
    inside = [
        p
        for p in small.passages
        if p.doc_id == long_passage.doc_id and _inside(p, long_passage.start, long_passage.end)
    ]
    assert len(inside) >= 2
    assert all(
        resolve_labels(store.labels(), small).grades["q1"][p.passage_id] == 2 for p in inside
    )
    store.add_label(Label.for_passage("q", "q1", inside[0], None, small.chunking.key))
    store.add_label(Label.for_passage("q", "q1", inside[1], 0, small.chunking.key))
    grades = resolve_labels(JudgmentStore(tmp_path).labels(), small).grades["q1"]
    assert inside[0].passage_id not in grades and grades[inside[1].passage_id] == 0
    # under the original chunking the label is exactly where it was made
    assert resolve_labels(store.labels(), big).grades["q1"] == {long_passage.passage_id: 2}
