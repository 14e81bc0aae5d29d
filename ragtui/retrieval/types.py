"""What a retriever is and what it returns: the values every engine shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ragtui.config.specs import RetrieverSpec
from ragtui.errors import RagtuiError

# Reciprocal-rank fusion, shared by the local hybrid and Milvus's server-side hybrid.
RRF_K = 60
HYBRID_DEPTH = 100


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


def check_query(query: str, k: int) -> None:
    if not query.strip():
        raise RagtuiError("the query is empty: type some words to search for")
    if k < 1:
        raise RagtuiError(f"k={k}: ask for at least 1 hit")
