"""Retrievers: one small interface over BM25, dense (HNSW), hybrid (RRF) and Milvus.

``types`` holds the values every engine shares, ``local`` the engines over the corpus's own
indexes, ``milvus`` the scale-out engine, ``registry`` the mapping from spec to engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragtui.retrieval.types import Hit, Retriever, SearchResult

if TYPE_CHECKING:
    from ragtui.retrieval.registry import RETRIEVER_FACTORIES, make_retriever

# The registry pulls in the index cache (numpy, the encoders). Importing it only when a
# retriever is made keeps ``ragtui.retrieval.types`` cheap for the compare screen's first
# frame, which needs the value types long before any index is opened.
_FROM_REGISTRY = {"RETRIEVER_FACTORIES", "make_retriever"}


def __getattr__(name: str) -> Any:
    if name in _FROM_REGISTRY:
        from ragtui.retrieval import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RETRIEVER_FACTORIES", "Hit", "Retriever", "SearchResult", "make_retriever"]
