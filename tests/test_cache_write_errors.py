"""A cache that cannot be written (disk full): a warning, the search still answers, and
the cache that was there before stays whole and in use."""

from __future__ import annotations

import contextlib
import errno
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtui.corpus import load_corpus
from ragtui.index import store
from ragtui.index.cache import Indexes
from ragtui.retrieval import make_retriever
from tests.conftest import SAMPLE_CORPUS


def _edit(corpus: Path) -> None:
    noise = corpus / "noise.txt"
    noise.write_text(noise.read_text() + "\n\nA quokka lives behind the inverter.\n")


def test_disk_full_while_caching_keeps_the_previous_cache(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    cache = tmp_path / "cache"
    make_retriever("hybrid", Indexes(load_corpus(corpus_copy), cache_root=cache))
    before = sorted(path.relative_to(cache) for path in cache.rglob("*") if path.is_file())
    _edit(corpus_copy)

    def disk_full(path: Path, payload: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store, "write_file_atomic", disk_full)
    with caplog.at_level(logging.WARNING, logger="ragtui"):
        indexes = Indexes(load_corpus(corpus_copy), cache_root=cache)
        hits = make_retriever("hybrid", indexes).search("quokka inverter", 3).hits
    assert hits and hits[0].doc_id == "noise.txt"  # answered from memory
    for what in ("BM25 index", "HNSW graph", "embeddings"):
        assert f"{what} not cached: cannot write the cache folder" in caplog.text
    assert "No space left on device" in caplog.text and "RAGTUI_CACHE_DIR" in caplog.text
    # Nothing of the earlier cache was removed or replaced, and no scratch is left behind.
    after = sorted(path.relative_to(cache) for path in cache.rglob("*") if path.is_file())
    assert set(before) <= set(after)
    assert not [path for path in cache.rglob("*") if ".building-" in path.name]

    monkeypatch.undo()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ragtui"):
        make_retriever("hybrid", Indexes(load_corpus(corpus_copy), cache_root=cache))
    # The earlier embeddings were still usable: only the edited file's passages are new.
    changed = sum(1 for p in load_corpus(corpus_copy).passages if p.doc_id == "noise.txt")
    assert f"embedding {changed} of" in caplog.text


@contextlib.contextmanager
def mount_tiny_disk(mount_point: Path) -> Iterator[Path]:
    """A real 1 MB tmpfs at mount_point (skips where mounting is not allowed)."""
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here ({mounted.stderr.strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with mount_tiny_disk(tmp_path / "tiny") as mount_point:
        yield mount_point


def test_a_really_full_disk(corpus_copy: Path, tiny_disk: Path, caplog) -> None:
    cache = tiny_disk / "cache"
    make_retriever("bm25", Indexes(load_corpus(corpus_copy), cache_root=cache))
    original = (corpus_copy / "noise.txt").read_text()
    _edit(corpus_copy)
    filler = tiny_disk / "filler"
    try:
        with filler.open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    with caplog.at_level(logging.WARNING, logger="ragtui"):
        indexes = Indexes(load_corpus(corpus_copy), cache_root=cache)
        assert make_retriever("bm25", indexes).search("quokka", 1).hits[0].doc_id == "noise.txt"
    assert "BM25 index not cached" in caplog.text and "No space left on device" in caplog.text
    # The earlier index (for the earlier text) opens from the cache, untouched.
    (corpus_copy / "noise.txt").write_text(original)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ragtui"):
        make_retriever("bm25", Indexes(load_corpus(corpus_copy), cache_root=cache))
    assert caplog.text == ""


def test_a_cache_folder_under_a_file_warns_and_answers(tmp_path: Path) -> None:
    from tests.cli_runner import ragtui

    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "a-file" / "cache"
    done = ragtui(
        "search", str(SAMPLE_CORPUS), "HB-15 weight", "-r", "bm25", "-k", "1", cache=cache
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "hb15-model.md#0" in done.stdout
    assert f"cannot write the cache folder {cache}" in done.stderr
    assert "Not a directory" in done.stderr
