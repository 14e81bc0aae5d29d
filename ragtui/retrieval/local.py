"""Engines over the corpus's own indexes: BM25 (bm25s, rank-bm25), dense (HNSW), hybrid (RRF)."""

from __future__ import annotations

import logging
import time

import numpy as np

from ragtui.config.specs import RetrieverSpec
from ragtui.corpus.model import Corpus
from ragtui.encoders import DEFAULT_EMBEDDING_MODEL
from ragtui.index.bm25_index import tokenize
from ragtui.index.cache import Indexes
from ragtui.retrieval.types import HYBRID_DEPTH, RRF_K, Hit, SearchResult, check_query

STATIC_MODEL = "minilm-static"
OKAPI_SLOW_PASSAGES = 20_000
log = logging.getLogger("ragtui")


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
    slow past that (measured here: 80 ms per query at 10k passages, 750 ms at 100k), so
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
                # measured: 80 ms at 10,000 Cranfield passages, 750 ms at 100,000 (2 cores)
                len(passages) * 8 // 1000,
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


def embedding_model(spec: RetrieverSpec) -> str | None:
    """The embedding model a local retriever encodes queries with; None for BM25 alone."""
    if spec.kind == "static":
        return spec.model or STATIC_MODEL
    if spec.kind in {"dense", "hybrid"}:
        return spec.model or DEFAULT_EMBEDDING_MODEL
    return None


class DenseRetriever:
    def __init__(self, spec: RetrieverSpec, indexes: Indexes) -> None:
        self.spec = spec
        self.model = embedding_model(spec) or DEFAULT_EMBEDDING_MODEL
        self._indexes = indexes
        self._index = indexes.dense(self.model)
        self._encoder = indexes.encoder(self.model)
        self.backend = self._encoder.backend

    def encode(self, query: str) -> tuple[np.ndarray, float]:
        """The query's vector and the milliseconds it took to make."""
        started = time.perf_counter()
        vector = self._encoder.encode_query(query)
        return vector, (time.perf_counter() - started) * 1000

    def rows_near(self, vector: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index.top(vector, depth)

    def search(self, query: str, k: int = 10) -> SearchResult:
        check_query(query, k)
        started = time.perf_counter()
        vector, encode_ms = self.encode(query)
        rows, scores = self.rows_near(vector, k)
        hits = _hits(self._indexes.corpus, rows, scores)
        finished = time.perf_counter()
        return SearchResult(
            query,
            str(self.spec),
            hits,
            (finished - started) * 1000,
            encode_ms=encode_ms,
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
        vector, encode_ms = self._dense.encode(query)
        fused: dict[int, float] = {}
        for ranked in (self._bm25.ranked_rows(query, depth), self._dense.rows_near(vector, depth)):
            for rank, row in enumerate(ranked[0].tolist(), start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        rows = np.array([row for row, _ in best], dtype=np.int64)
        scores = np.array([score for _, score in best], dtype=np.float64)
        hits = _hits(self._indexes.corpus, rows, scores)
        elapsed_ms = (time.perf_counter() - started) * 1000
        return SearchResult(
            query,
            str(self.spec),
            hits,
            elapsed_ms,
            encode_ms=encode_ms,
            encoder=self._dense.backend,
        )
