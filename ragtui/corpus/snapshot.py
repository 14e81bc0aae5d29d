"""A loaded corpus kept on disk, reused while none of its files has changed.

Re-opening a large corpus used to mean reading and chunking every file again just to learn
that nothing changed (9.85 s at 100k passages, most of the cache-hit re-open). The files'
sizes, modification times and inode numbers answer "unchanged" without reading any text;
when they all match, the corpus (documents, passages and their hashes) is loaded from a
snapshot written after the last full read. Any doubt (a file added, removed or touched,
another chunking, a damaged or foreign snapshot) means a full read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from pathlib import Path

from ragtui.corpus.model import Corpus

log = logging.getLogger("ragtui")

# Bumped whenever Corpus, Document, Passage or chunking change shape or meaning.
SNAPSHOT_VERSION = 1


def beir_files(root: Path) -> list[Path]:
    """Every file a BEIR dataset is made from (queries, answers and qrels included)."""
    named = [root / "corpus.jsonl", root / "queries.jsonl", root / "answers.jsonl"]
    files = [path for path in named if path.is_file()]
    qrels = root / "qrels"
    if qrels.is_dir():
        files += sorted(path for path in qrels.iterdir() if path.is_file())
    return files


def signature(files: list[Path]) -> list[tuple[str, int, int, int]]:
    rows = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        rows.append((str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return rows


def snapshot_path(cache_root: Path, root: Path, chunking_key: str) -> Path:
    name = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return cache_root / "corpora" / f"{name}-{chunking_key}.pickle"


def load_snapshot(path: Path, expected: list[tuple[str, int, int, int]]) -> Corpus | None:
    """The corpus saved at path if it was made from exactly these files; else None."""
    try:
        with path.open("rb") as handle:
            saved = pickle.load(handle)  # our own file, in the user's own cache
    except FileNotFoundError:
        return None
    except Exception as problem:  # damaged or from another version: read the files again
        log.debug("corpus snapshot %s unusable (%s)", path, problem)
        return None
    if (
        not isinstance(saved, dict)
        or saved.get("version") != SNAPSHOT_VERSION
        or saved.get("signature") != expected
        or not isinstance(saved.get("corpus"), Corpus)
    ):
        return None
    return saved["corpus"]


def save_snapshot(path: Path, corpus: Corpus, files_signature: list) -> None:
    # Computed before saving so the snapshot carries every hash a re-open needs.
    _ = corpus.content_key, corpus.passage_index
    for passage in corpus.passages:
        _ = passage.content_hash
    scratch = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with scratch.open("wb") as handle:
            pickle.dump(
                {"version": SNAPSHOT_VERSION, "signature": files_signature, "corpus": corpus},
                handle,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        os.replace(scratch, path)
    except OSError as problem:  # only a shortcut: the next open reads the files again
        log.debug("corpus snapshot not written (%s)", problem)
        # The folder itself may be what is wrong (a file where a folder should be).
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)
