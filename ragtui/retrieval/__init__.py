"""Retrievers: one small interface over BM25, dense (HNSW), hybrid (RRF) and Milvus.

``types`` holds the values every engine shares, ``local`` the engines over the corpus's own
indexes, ``milvus`` the scale-out engine, ``registry`` the mapping from spec to engine.
"""

from ragtui.retrieval.registry import RETRIEVER_FACTORIES, make_retriever
from ragtui.retrieval.types import Hit, Retriever, SearchResult

__all__ = ["RETRIEVER_FACTORIES", "Hit", "Retriever", "SearchResult", "make_retriever"]
