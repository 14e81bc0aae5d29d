"""Retrievers registered by spec prefix.

A new engine is one class plus one line in ``RETRIEVER_FACTORIES``; nothing else switches
on the name.
"""

from __future__ import annotations

from collections.abc import Callable

from ragtui.config.backends import BackendSettings
from ragtui.config.specs import RetrieverSpec, parse_retriever_spec
from ragtui.errors import RagtuiError
from ragtui.index.cache import Indexes
from ragtui.retrieval.local import Bm25Retriever, DenseRetriever, HybridRetriever, OkapiRetriever
from ragtui.retrieval.types import Retriever


def _bm25_retriever(spec: RetrieverSpec, indexes: Indexes) -> Retriever:
    return OkapiRetriever(spec, indexes) if spec.model == "okapi" else Bm25Retriever(spec, indexes)


def _milvus_retriever(
    spec: RetrieverSpec, indexes: Indexes, backends: BackendSettings
) -> Retriever:
    # Imported on use: pymilvus (and Milvus Lite in file mode) cost ~0.5 s to import.
    from ragtui.retrieval.milvus.retriever import MilvusRetriever

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
