"""The index cache: hits skip embedding, edits re-embed only what changed, damage rebuilds."""

import logging
from pathlib import Path

import pytest

from ragtui.corpus import load_corpus
from ragtui.encoders import get_encoder
from ragtui.index.cache import Indexes
from ragtui.retrieval import make_retriever


def open_dense(corpus_dir: Path, cache: Path) -> tuple[Indexes, int]:
    """Open the dense retriever; return how many texts the encoder embedded meanwhile."""
    encoder = get_encoder()
    before = encoder.texts_encoded
    indexes = Indexes(load_corpus(corpus_dir), cache_root=cache)
    make_retriever("dense", indexes)
    return indexes, encoder.texts_encoded - before


def test_reopening_an_unchanged_corpus_embeds_nothing(corpus_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    indexes, first = open_dense(corpus_copy, cache)
    assert first == len(indexes.corpus.passages)
    _, second = open_dense(corpus_copy, cache)
    assert second == 0


def test_changing_one_file_reembeds_only_its_passages(corpus_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    open_dense(corpus_copy, cache)
    edited = corpus_copy / "noise.txt"
    edited.write_text(edited.read_text() + "\n\nA new paragraph about a rattle in the fan.\n")
    indexes, embedded = open_dense(corpus_copy, cache)
    changed = [p for p in indexes.corpus.passages if p.doc_id == "noise.txt"]
    assert embedded == len(changed) == 1
    hits = make_retriever("dense", indexes).search("rattle in the fan", 1).hits
    assert hits[0].doc_id == "noise.txt"


@pytest.mark.parametrize("kind", ["bm25", "dense"])
def test_corrupt_cache_file_is_rebuilt_with_a_warning(
    corpus_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    cache = tmp_path / "cache"
    indexes = Indexes(load_corpus(corpus_copy), cache_root=cache)
    make_retriever(kind, indexes)
    folder = next(p for p in indexes.folder.iterdir() if p.name.startswith(kind))
    victim = max(
        (p for p in folder.iterdir() if p.name != "manifest.json"), key=lambda p: p.stat().st_size
    )
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # truncate
    with caplog.at_level(logging.WARNING, logger="ragtui"):
        reopened = Indexes(load_corpus(corpus_copy), cache_root=cache)
        retriever = make_retriever(kind, reopened)
    assert "rebuilding" in caplog.text and victim.name in caplog.text
    assert retriever.search("E-412 communication", 3).hits
    # The rebuilt folder is whole again: a third open is a clean hit.
    caplog.clear()
    make_retriever(kind, Indexes(load_corpus(corpus_copy), cache_root=cache))
    assert "rebuilding" not in caplog.text


def test_folder_without_manifest_counts_as_unfinished(corpus_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    indexes = Indexes(load_corpus(corpus_copy), cache_root=cache)
    make_retriever("bm25", indexes)
    (indexes.folder / "bm25" / "manifest.json").unlink()
    reopened = Indexes(load_corpus(corpus_copy), cache_root=cache)
    assert (
        make_retriever("bm25", reopened).search("Storm Watch", 1).hits[0].doc_id
        == "storm-watch.txt"
    )
    assert (indexes.folder / "bm25" / "manifest.json").is_file()


def test_chunking_settings_are_part_of_the_key(corpus_copy: Path, tmp_path: Path) -> None:
    from ragtui.corpus import ChunkingSettings

    a = Indexes(load_corpus(corpus_copy), cache_root=tmp_path)
    b = Indexes(load_corpus(corpus_copy, ChunkingSettings(60, 10)), cache_root=tmp_path)
    assert a.folder != b.folder


def test_a_changed_byte_is_found_after_the_checksums_were_remembered(
    corpus_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Launches skip re-hashing files whose size, mtime and inode are unchanged; a file
    # rewritten with the same size still changes its mtime, so it is hashed and caught.
    cache = tmp_path / "cache"
    make_retriever("bm25", Indexes(load_corpus(corpus_copy), cache_root=cache))
    reopened = Indexes(load_corpus(corpus_copy), cache_root=cache)
    make_retriever("bm25", reopened)  # the first open verified and remembered the digests
    folder = reopened.folder / "bm25"
    assert (folder / ".verified.json").is_file()
    victim = folder / "data.csc.index.npy"
    payload = bytearray(victim.read_bytes())
    payload[-1] ^= 0xFF
    victim.write_bytes(bytes(payload))
    with caplog.at_level(logging.WARNING, logger="ragtui"):
        make_retriever("bm25", Indexes(load_corpus(corpus_copy), cache_root=cache))
    assert "does not match its checksum" in caplog.text and victim.name in caplog.text


def test_a_saved_bm25_index_scores_exactly_as_bm25s_scores_it(
    corpus_copy: Path, tmp_path: Path
) -> None:
    import bm25s

    from ragtui.index.bm25_index import Bm25Index, tokenize

    indexes = Indexes(load_corpus(corpus_copy), cache_root=tmp_path / "cache")
    indexes.bm25()
    folder = indexes.folder / "bm25"
    ours, theirs = Bm25Index.load(folder), bm25s.BM25.load(str(folder))
    for query in ("E-412 communication fault", "storm watch battery reserve", "the the fan"):
        ids = [theirs.vocab_dict[t] for t in tokenize(query) if t in theirs.vocab_dict]
        assert ours.scores(query).tolist() == theirs.get_scores(ids).tolist()
