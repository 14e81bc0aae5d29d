"""Open a corpus's indexes from the cache, building (incrementally) only what is missing.

Layout under the cache root::

    indexes/<corpus content key>-<chunking key>/bm25/            bm25s files + manifest
    indexes/<corpus content key>-<chunking key>/dense-<model>/   HNSW graph + manifest
    embeddings/<model>/<corpus location key>/                   vectors + passage hashes

An unchanged corpus hits its index folders directly. A changed corpus misses them, but
its previous embeddings (found by location) are reused for every passage whose text is
unchanged, so editing one file re-embeds only that file's passages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ragtui.config import paths
from ragtui.corpus.model import Corpus
from ragtui.encoders import Encoder, ProgressCallback, encoder_loaded, get_encoder
from ragtui.index.bm25_index import K1, B, Bm25Index
from ragtui.index.dense_index import DenseIndex
from ragtui.index.store import (
    CacheCorrupt,
    CacheWriteError,
    building_folder,
    discard,
    read_manifest,
    slug,
)

log = logging.getLogger("ragtui")

# Told what slow step starts next ("building the BM25 index over 2,532 passages"), so a
# face can say what is happening rather than a bare "indexing…".
StageCallback = Callable[[str], None]

VECTORS_FILE = "vectors.npy"
HASHES_FILE = "hashes.txt"


def _load_embedding_store(folder: Path, model: str) -> tuple[np.ndarray | None, dict[str, int]]:
    """Previous embeddings of this corpus location and their rows by passage text hash."""
    try:
        manifest = read_manifest(folder, {"kind": "embeddings", "model": model})
    except CacheCorrupt as problem:
        log.warning("embedding cache damaged (%s); re-embedding what is needed", problem)
        discard(folder)
        return None, {}
    if manifest is None:
        return None, {}
    vectors = np.load(folder / VECTORS_FILE, allow_pickle=False)
    hashes = (folder / HASHES_FILE).read_text(encoding="ascii").split()
    if len(hashes) != vectors.shape[0]:
        discard(folder)
        return None, {}
    return vectors, {digest: row for row, digest in enumerate(hashes)}


@contextlib.contextmanager
def _uncached_on_write_error(what: str) -> Iterator[None]:
    """A build that cannot be saved is still used, from memory, with a warning."""
    try:
        yield
    except CacheWriteError as error:
        log.warning("%s not cached: %s", what, error)


class Indexes:
    """The indexes of one corpus, each opened once per process and shared by retrievers."""

    def __init__(
        self,
        corpus: Corpus,
        cache_root: Path | None = None,
        progress: ProgressCallback | None = None,
        stage: StageCallback | None = None,
    ) -> None:
        self.corpus = corpus
        self.stage = stage
        self.cache_root = cache_root or paths.cache_dir()
        self.progress = progress
        self.folder = (
            self.cache_root / "indexes" / f"{corpus.content_key[:24]}-{corpus.chunking.key}"
        )
        self._bm25: Bm25Index | None = None
        self._dense: dict[str, DenseIndex] = {}
        # One lock per index, so the compare screen opens its BM25 and dense panes at once
        # (one index is opened or built once however many retrievers ask for it).
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _meta(self, kind: str) -> dict[str, object]:
        return {
            "kind": kind,
            "corpus_key": self.corpus.content_key,
            "chunking": self.corpus.chunking.key,
            "passages": len(self.corpus.passages),
        }

    def _tell(self, text: str) -> None:
        if self.stage is not None:
            self.stage(text)

    def _open_cached(self, folder: Path, meta: dict[str, object]) -> dict | None:
        try:
            return read_manifest(folder, meta)
        except CacheCorrupt as problem:
            log.warning("index cache damaged (%s); rebuilding it", problem)
            discard(folder)
            return None

    def bm25(self) -> Bm25Index:
        with self._lock("bm25"):
            if self._bm25 is None:
                self._bm25 = self._open_bm25()
            return self._bm25

    def _open_bm25(self) -> Bm25Index:
        folder = self.folder / "bm25"
        meta = {**self._meta("bm25"), "bm25": f"lucene k1={K1} b={B}"}
        if self._open_cached(folder, meta) is not None:
            self._tell("opening the BM25 index")
            try:
                return Bm25Index.load(folder)
            except ValueError as problem:  # e.g. saved by a bm25s whose files differ
                log.warning("index cache unreadable (%s); rebuilding it", problem)
                discard(folder)
        self._tell(f"building the BM25 index over {len(self.corpus.passages):,} passages")
        index = Bm25Index.build([passage.text for passage in self.corpus.passages])
        with _uncached_on_write_error("BM25 index"), building_folder(folder, meta) as scratch:
            index.save(scratch)
        return index

    def dense(self, model: str) -> DenseIndex:
        with self._lock(f"dense {model}"):
            index = self._dense.get(model)
            if index is None:
                index = self._open_dense(model)
                self._dense[model] = index
            return index

    def encoder(self, model: str) -> Encoder:
        if not encoder_loaded(model):
            self._tell(f"loading the embedding model {model}")
        return get_encoder(model, self.cache_root, self.stage)

    def _open_dense(self, model: str) -> DenseIndex:
        # Keyed by the encoder's identity (model content, runtime, precision), so variants
        # of one model never share vectors.
        identity = self.encoder(model).identity
        folder = self.folder / f"dense-{slug(identity)}"
        meta = {**self._meta("dense"), "model": identity}
        manifest = self._open_cached(folder, meta)
        if manifest is not None:
            self._tell(f"opening the dense index ({model})")
            return DenseIndex.load(folder, int(manifest["dimension"]), len(self.corpus.passages))
        vectors = self.embeddings(model)
        self._tell(f"building the HNSW graph over {len(vectors):,} vectors")
        index = DenseIndex.build(vectors, threads=os.cpu_count() or 1, progress=self.progress)
        with (
            _uncached_on_write_error("HNSW graph"),
            building_folder(folder, {**meta, "dimension": int(vectors.shape[1])}) as scratch,
        ):
            index.save(scratch)
        return index

    def embeddings(self, model: str) -> np.ndarray:
        """Vectors for every passage, encoding only texts not embedded before at this location."""
        encoder = self.encoder(model)
        identity = encoder.identity
        store_folder = self.cache_root / "embeddings" / slug(identity) / self.corpus.source_key
        stored, stored_rows = _load_embedding_store(store_folder, identity)
        hashes = [passage.content_hash for passage in self.corpus.passages]
        source_rows = np.array([stored_rows.get(digest, -1) for digest in hashes], dtype=np.int64)
        missing_rows = np.flatnonzero(source_rows < 0)
        if stored is not None:
            vectors = stored[np.maximum(source_rows, 0)]
            del stored  # one copy of the vectors at a time: memory peaks at 100k passages
        else:
            vectors = np.zeros((len(hashes), encoder.dimension), dtype=np.float32)
        if len(missing_rows):
            log.info("embedding %d of %d passages with %s", len(missing_rows), len(hashes), model)
            self._tell(f"embedding {len(missing_rows):,} passages with {model}")
            texts = [self.corpus.passages[row].text for row in missing_rows]
            vectors[missing_rows] = encoder.encode(texts, progress=self.progress)
        unique = dict.fromkeys(hashes)
        if len(missing_rows) or len(unique) != len(stored_rows):
            first_rows = {digest: row for row, digest in reversed(list(enumerate(hashes)))}
            keep = [first_rows[digest] for digest in unique]
            to_save = vectors if len(keep) == len(hashes) else vectors[keep]
            with (
                _uncached_on_write_error("embeddings"),
                building_folder(store_folder, {"kind": "embeddings", "model": identity}) as scratch,
            ):
                np.save(scratch / VECTORS_FILE, to_save)
                (scratch / HASHES_FILE).write_text("\n".join(unique), encoding="ascii")
        return vectors
