"""Retrievers: one small interface over BM25, dense (HNSW) and hybrid (RRF) search.

Backends are registered by spec prefix, so a new engine is one class plus one line in
``RETRIEVER_FACTORIES``; nothing else switches on the name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ragtui.corpus.model import Corpus
from ragtui.encoders import DEFAULT_EMBEDDING_MODEL
from ragtui.errors import RagtuiError
from ragtui.generation.settings import BackendSettings
from ragtui.index.bm25_index import tokenize
from ragtui.index.cache import Indexes
from ragtui.specs import RetrieverSpec, parse_retriever_spec

RRF_K = 60
HYBRID_DEPTH = 100
STATIC_MODEL = "minilm-static"
OKAPI_SLOW_PASSAGES = 20_000
log = logging.getLogger("ragtui")


@dataclass(frozen=True)
class Hit:
    """One retrieved passage; ``rank`` starts at 1."""

    rank: int
    passage_id: str
    doc_id: str
    score: float
    text: str
    source: str
    start: int
    end: int

    def to_json(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "passage_id": self.passage_id,
            "doc_id": self.doc_id,
            "score": self.score,
            "text": self.text,
            "source": self.source,
        }


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits plus where the time went.

    ``encode_ms`` is query embedding (0 for bm25); ``engine_ms``, for retrievers served by
    an engine such as Milvus, is the time the engine took, request and reply included.
    """

    query: str
    retriever: str
    hits: tuple[Hit, ...]
    elapsed_ms: float
    encode_ms: float = 0.0
    encoder: str | None = None  # which runtime embedded the query ("onnx fp32", …)
    engine_ms: float | None = None
    engine: str | None = None  # the engine that served the search ("milvus"), if any

    def time_breakdown(self) -> str:
        """Where the time went, for a status line: `` (onnx fp32 2.1 ms, milvus 4.0 ms)``."""
        parts = []
        if self.encoder is not None:
            parts.append(f"{self.encoder} {self.encode_ms:.1f} ms")
        if self.engine_ms is not None:
            parts.append(f"{self.engine or 'engine'} {self.engine_ms:.1f} ms")
        return f" ({', '.join(parts)})" if parts else ""

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {
            "query": self.query,
            "retriever": self.retriever,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }
        if self.encoder is not None:
            record["encoder"] = self.encoder
            record["encode_ms"] = round(self.encode_ms, 3)
        if self.engine_ms is not None:
            record["engine"] = self.engine
            record["engine_ms"] = round(self.engine_ms, 3)
        record["hits"] = [hit.to_json() for hit in self.hits]
        return record


class Retriever(Protocol):
    spec: RetrieverSpec

    def search(self, query: str, k: int = 10) -> SearchResult:
        """The k best passages for query, best first."""
        ...


def _hits(corpus: Corpus, rows: np.ndarray, scores: np.ndarray) -> tuple[Hit, ...]:
    hits = []
    for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True), 1):
        passage = corpus.passages[row]
        hits.append(
            Hit(
                rank=rank,
                passage_id=passage.passage_id,
                doc_id=passage.doc_id,
                score=float(score),
                text=passage.text,
                source=passage.source,
                start=passage.start,
                end=passage.end,
            )
        )
    return tuple(hits)


def check_query(query: str, k: int) -> None:
    if not query.strip():
        raise RagtuiError("the query is empty: type some words to search for")
    if k < 1:
        raise RagtuiError(f"k={k}: ask for at least 1 hit")


class Bm25Retriever:
    def __init__(self, spec: RetrieverSpec, indexes: Indexes) -> None:
        self.spec = spec
        self._indexes = indexes
        self._index = indexes.bm25()

    def ranked_rows(self, query: str, depth: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index.top(query, depth)

    def search(self, query: str, k: int = 10) -> SearchResult:
        check_query(query, k)
        started = time.perf_counter()
        rows, scores = self._index.top(query, k)
        hits = _hits(self._indexes.corpus, rows, scores)
        elapsed_ms = (time.perf_counter() - started) * 1000
        return SearchResult(query, str(self.spec), hits, elapsed_ms)


class OkapiRetriever:
    """Classic Okapi BM25 (rank-bm25), as many users know it from tutorials and papers.

    It scores every passage for every query in Python: fine for a few thousand passages,
    slow past that (measured here: 35 ms per query at 10k passages, ~600 ms at 100k), so
    it warns on large corpora; ``bm25`` (bm25s, Lucene's variant) is the fast default.
    """

    def __init__(self, spec: RetrieverSpec, indexes: Indexes) -> None:
        from rank_bm25 import BM25Okapi

        self.spec = spec
        self._indexes = indexes
        passages = indexes.corpus.passages
        if len(passages) > OKAPI_SLOW_PASSAGES:
            log.warning(
                "bm25:okapi scores all %d passages per query in Python (about %d ms each "
                "here); use bm25 for corpora this size",
                len(passages),
                len(passages) * 6 // 1000,
            )
        # rank-bm25 divides by the corpus's average length: an empty corpus has none.
        self._model = BM25Okapi([tokenize(p.text) or [""] for p in passages]) if passages else None

    def ranked_rows(self, query: str, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if self._model is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        scores = np.asarray(self._model.get_scores(tokenize(query)), dtype=np.float64)
        depth = min(depth, len(scores))
        rows = np.argpartition(-scores, depth - 1)[:depth] if depth else np.zeros(0, np.int64)
        rows = rows[np.lexsort((rows, -scores[rows]))]
        return rows.astype(np.int64), scores[rows]

    def search(self, query: str, k: int = 10) -> SearchResult:
        check_query(query, k)
        started = time.perf_counter()
        rows, scores = self.ranked_rows(query, k)
        hits = _hits(self._indexes.corpus, rows, scores)
        return SearchResult(query, str(self.spec), hits, (time.perf_counter() - started) * 1000)


def _bm25_retriever(spec: RetrieverSpec, indexes: Indexes) -> Retriever:
    return OkapiRetriever(spec, indexes) if spec.model == "okapi" else Bm25Retriever(spec, indexes)


class DenseRetriever:
    def __init__(self, spec: RetrieverSpec, indexes: Indexes) -> None:
        self.spec = spec
        self.model = spec.model or (
            STATIC_MODEL if spec.kind == "static" else DEFAULT_EMBEDDING_MODEL
        )
        self._indexes = indexes
        self._index = indexes.dense(self.model)
        self._encoder = indexes.encoder(self.model)
        self.backend = self._encoder.backend

    def ranked_rows(self, query: str, depth: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index.top(self._encoder.encode_query(query), depth)

    def search(self, query: str, k: int = 10) -> SearchResult:
        check_query(query, k)
        started = time.perf_counter()
        vector = self._encoder.encode_query(query)
        encoded = time.perf_counter()
        rows, scores = self._index.top(vector, k)
        hits = _hits(self._indexes.corpus, rows, scores)
        finished = time.perf_counter()
        return SearchResult(
            query,
            str(self.spec),
            hits,
            (finished - started) * 1000,
            encode_ms=(encoded - started) * 1000,
            encoder=self.backend,
        )


class HybridRetriever:
    """Reciprocal-rank fusion of BM25 and dense: score = sum of 1 / (RRF_K + rank)."""

    def __init__(self, spec: RetrieverSpec, indexes: Indexes) -> None:
        self.spec = spec
        self._indexes = indexes
        self._bm25 = Bm25Retriever(RetrieverSpec("bm25"), indexes)
        self._dense = DenseRetriever(RetrieverSpec("dense", spec.model), indexes)

    def search(self, query: str, k: int = 10) -> SearchResult:
        check_query(query, k)
        started = time.perf_counter()
        depth = max(k, HYBRID_DEPTH)
        fused: dict[int, float] = {}
        for ranked in (self._bm25.ranked_rows(query, depth), self._dense.ranked_rows(query, depth)):
            for rank, row in enumerate(ranked[0].tolist(), start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        rows = np.array([row for row, _ in best], dtype=np.int64)
        scores = np.array([score for _, score in best], dtype=np.float64)
        hits = _hits(self._indexes.corpus, rows, scores)
        return SearchResult(query, str(self.spec), hits, (time.perf_counter() - started) * 1000)


def _milvus_retriever(
    spec: RetrieverSpec, indexes: Indexes, backends: BackendSettings
) -> Retriever:
    # Imported on use: pymilvus (and Milvus Lite in file mode) cost ~0.5 s to import.
    from ragtui.milvus.retriever import MilvusRetriever

    return MilvusRetriever(spec, indexes, backends)


# (spec, the corpus's local indexes, where the servers are) -> a retriever. Local engines
# ignore the servers; engines such as Milvus ignore most of the local indexes.
RetrieverFactory = Callable[[RetrieverSpec, Indexes, BackendSettings], Retriever]


def _local(make: Callable[[RetrieverSpec, Indexes], Retriever]) -> RetrieverFactory:
    return lambda spec, indexes, backends: make(spec, indexes)


RETRIEVER_FACTORIES: dict[str, RetrieverFactory] = {
    "bm25": _local(_bm25_retriever),
    "dense": _local(DenseRetriever),
    "static": _local(DenseRetriever),
    "hybrid": _local(HybridRetriever),
    "milvus": _milvus_retriever,
}


def make_retriever(
    spec: RetrieverSpec | str, indexes: Indexes, backends: BackendSettings | None = None
) -> Retriever:
    """A retriever for spec over the given corpus indexes (building them if needed)."""
    parsed = parse_retriever_spec(spec) if isinstance(spec, str) else spec
    factory = RETRIEVER_FACTORIES.get(parsed.kind)
    if factory is None:
        raise RagtuiError(f"retriever {str(parsed)!r} has no registered backend")
    return factory(parsed, indexes, backends or BackendSettings.from_env())
