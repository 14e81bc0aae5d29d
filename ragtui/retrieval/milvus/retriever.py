"""Retrieval served by Milvus: ``milvus`` (dense ANN), ``milvus:bm25``, ``milvus:hybrid``.

Queries are embedded here with ragtui's own encoder (the vectors in the collection came
from it), so ``milvus`` and ``dense`` rank with the same embeddings; BM25 scoring and the
hybrid's reciprocal-rank fusion run on the server. Hits come back as ragtui ``Hit``s with
the corpus's passage ids, so labels, votes, metrics and reports need nothing new.
"""

from __future__ import annotations

import logging
import time

from ragtui.config.backends import BackendSettings
from ragtui.config.specs import RetrieverSpec
from ragtui.encoders import DEFAULT_EMBEDDING_MODEL
from ragtui.index.cache import Indexes
from ragtui.index.dense_index import EF_SEARCH_MIN
from ragtui.retrieval.milvus import collection as coll
from ragtui.retrieval.milvus.connection import MilvusError, connect, explain, milvus_uri, shown_uri
from ragtui.retrieval.types import HYBRID_DEPTH, RRF_K, Hit, SearchResult, check_query

log = logging.getLogger("ragtui")

MODES = ("dense", "bm25", "hybrid")
MAX_TOPK = 16_384  # Milvus's limit on one search's result size


class MilvusRetriever:
    def __init__(self, spec: RetrieverSpec, indexes: Indexes, backends: BackendSettings) -> None:
        self.spec = spec
        self.mode = spec.model or "dense"
        self.model = DEFAULT_EMBEDDING_MODEL
        self._indexes = indexes
        self._uri = milvus_uri(backends)
        corpus = indexes.corpus
        self.collection = coll.collection_name(corpus, self.model)
        self._client = connect(backends)
        self._encoder = indexes.encoder(self.model) if self.mode != "bm25" else None
        self.backend = self._encoder.backend if self._encoder is not None else None
        try:
            exists = self._client.has_collection(self.collection)
            info = coll.describe(self._client, self.collection) if exists else None
        except Exception as error:
            raise explain(error, self._uri, f"opening collection {self.collection}") from None
        self._check(info)
        try:
            self._client.load_collection(self.collection)
        except Exception as error:
            raise explain(error, self._uri, f"loading collection {self.collection}") from None

    def _check(self, info: coll.CollectionInfo | None) -> None:
        corpus = self._indexes.corpus
        where = f"milvus at {shown_uri(self._uri)}"
        command = coll.index_command(corpus)
        if info is None:
            raise MilvusError(
                f"{where} has no collection {self.collection} for {corpus.root}: "
                f"create it with `{command}`"
            )
        if not info.is_ragtui:
            raise MilvusError(
                f"{where}: collection {self.collection} was not made by ragtui; "
                f"drop it and run `{command}`"
            )
        if info.schema != coll.SCHEMA_VERSION:
            raise MilvusError(
                f"{where}: collection {self.collection} was made by another ragtui version "
                f"(schema {info.schema}, this one reads {coll.SCHEMA_VERSION}); "
                + (
                    "upgrade ragtui to read it"
                    if coll.newer_schema(info.schema)
                    else f"rebuild it with `{command}`"
                )
            )
        if self._encoder is not None:
            if info.dimension != self._encoder.dimension:
                raise MilvusError(
                    f"{where}: collection {self.collection} holds {info.dimension}-dimensional "
                    f"vectors but {self.model} makes {self._encoder.dimension}; "
                    f"rebuild it with `{command}`"
                )
            if info.model != self._encoder.identity:
                raise MilvusError(
                    f"{where}: collection {self.collection} was built with another model "
                    f"({info.model}), not {self._encoder.identity}; rebuild it with `{command}`"
                )
        if info.content_key != corpus.content_key:
            log.warning(
                "milvus collection %s does not hold this version of %s (an interrupted or "
                "older load); run `%s` to bring it up to date",
                self.collection,
                corpus.root,
                command,
            )

    def _hits(self, found: list) -> tuple[Hit, ...]:
        corpus = self._indexes.corpus
        rows = corpus.passage_index
        hits = []
        for entry in found:
            passage_id = str(entry["passage_id"])
            row = rows.get(passage_id)
            passage = corpus.passages[row] if row is not None else None
            if passage is None or passage.content_hash != entry["text_hash"]:
                # The collection is behind the corpus: this passage no longer exists as
                # stored; a label or vote must not attach to text it did not judge.
                continue
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    passage_id=passage_id,
                    doc_id=passage.doc_id,
                    score=self._score(float(entry["distance"])),
                    text=passage.text,
                    source=passage.source,
                    start=passage.start,
                    end=passage.end,
                )
            )
        return tuple(hits)

    def _score(self, distance: float) -> float:
        # Milvus Lite reports BM25 as a negated distance (smaller is better); Milvus
        # servers report the score itself. A BM25 score is never negative, so either
        # reading gives the score.
        return abs(distance) if self.mode == "bm25" else distance

    def _request(self, query: str, vector: list[float] | None, limit: int) -> list:
        from pymilvus import AnnSearchRequest, RRFRanker

        dense_params = {"metric_type": "IP", "params": {"ef": max(EF_SEARCH_MIN, limit)}}
        bm25_params = {"metric_type": "BM25"}
        name = self.collection
        if self.mode != "hybrid":
            data, field, params = (
                (vector, "dense", dense_params)
                if self.mode == "dense"
                else (query, "sparse", bm25_params)
            )
            return self._client.search(
                name,
                data=[data],
                anns_field=field,
                limit=limit,
                search_params=params,
                output_fields=coll.HIT_FIELDS,
            )[0]
        depth = max(limit, HYBRID_DEPTH)
        requests = [
            AnnSearchRequest([query], "sparse", bm25_params, depth),
            AnnSearchRequest([vector], "dense", dense_params, depth),
        ]
        return self._client.hybrid_search(
            name, requests, RRFRanker(RRF_K), limit=limit, output_fields=coll.HIT_FIELDS
        )[0]

    def search(self, query: str, k: int = 10) -> SearchResult:
        check_query(query, k)
        started = time.perf_counter()
        vector = None
        if self._encoder is not None:
            vector = self._encoder.encode_query(query).astype(float).tolist()
        encoded = time.perf_counter()
        limit = min(k, MAX_TOPK, max(len(self._indexes.corpus.passages), 1))
        try:
            found = self._request(query, vector, limit)
        except Exception as error:
            raise explain(error, self._uri, f"searching {self.collection}") from None
        engine_done = time.perf_counter()
        hits = self._hits(list(found))
        return SearchResult(
            query,
            str(self.spec),
            hits,
            (time.perf_counter() - started) * 1000,
            encode_ms=(encoded - started) * 1000 if vector is not None else 0.0,
            encoder=self.backend,
            engine_ms=(engine_done - encoded) * 1000,
            engine="milvus",
        )
