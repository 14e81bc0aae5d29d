"""A corpus re-opened unchanged comes from its snapshot; any change means a full read."""

from __future__ import annotations

from pathlib import Path

import pytest

import ragtui.corpus.loading as loading
from ragtui.corpus import ChunkingSettings, load_corpus


def _no_reading(*_args, **_kwargs):
    raise AssertionError("the files were read again")


def test_an_unchanged_corpus_is_not_read_again(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = load_corpus(corpus_copy, cache_root=cache)
    monkeypatch.setattr(loading, "_read_corpus", _no_reading)
    again = load_corpus(corpus_copy, cache_root=cache)
    assert again.content_key == first.content_key
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in first.passages]
    assert again.queries == first.queries and again.qrels == first.qrels


@pytest.mark.parametrize("change", ["edit", "add", "remove", "qrels"])
def test_any_change_means_a_full_read(corpus_copy: Path, tmp_path: Path, change: str) -> None:
    cache = tmp_path / "cache"
    first = load_corpus(corpus_copy, cache_root=cache)
    if change == "edit":
        target = corpus_copy / "hb15-model.md"
        target.write_text(target.read_text() + "\nOne more line.\n")
    elif change == "add":
        (corpus_copy / "new-note.md").write_text("A new note about the HB-20.\n")
    elif change == "remove":
        (corpus_copy / "noise.txt").unlink()
    else:
        with (corpus_copy / "qrels" / "test.tsv").open("a") as handle:
            handle.write("q01\tnoise.txt\t1\n")
    again = load_corpus(corpus_copy, cache_root=cache)
    if change == "qrels":
        assert again.qrels["q01"]["noise.txt"] == 1 and "noise.txt" not in first.qrels["q01"]
    else:
        assert again.content_key != first.content_key


def test_another_chunking_and_a_damaged_snapshot_read_the_files(
    corpus_copy: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    big = load_corpus(corpus_copy, ChunkingSettings(180, 30), cache_root=cache)
    small = load_corpus(corpus_copy, ChunkingSettings(40, 5), cache_root=cache)
    assert len(small.passages) > len(big.passages)
    for snapshot in (cache / "corpora").iterdir():
        snapshot.write_bytes(b"not a pickle")
    again = load_corpus(corpus_copy, ChunkingSettings(40, 5), cache_root=cache)
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in small.passages]
