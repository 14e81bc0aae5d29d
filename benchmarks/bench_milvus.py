"""Milvus Lite next to ragtui's in-process engines (hnswlib, bm25s), measured in one run.

    python benchmarks/bench_milvus.py [--size 100000] [--queries 50]

For one synthetic corpus (Cranfield sentences shuffled into passages, as in
bench_retrieval.py, with random unit vectors in place of real embeddings):
1. Load time: `ragtui index --to milvus` (passages, text for server-side BM25, vectors)
   into a `milvus-lite server` on 127.0.0.1, next to building hnswlib's HNSW graph and
   bm25s's index from the same passages.
2. Query latency p50/p95 per engine, without query encoding: hnswlib and bm25s called
   directly; Milvus dense, BM25 and hybrid as the engine time ragtui reports (request,
   server work and reply over gRPC), and the ratio to the in-process engine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_retrieval import (  # noqa: E402
    percentiles,
    seed_embeddings,
    source_sentences,
    timed,
    write_dataset,
)

from ragtui.config.backends import BackendSettings  # noqa: E402
from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.encoders import DEFAULT_EMBEDDING_MODEL, get_encoder  # noqa: E402
from ragtui.index.cache import Indexes  # noqa: E402
from ragtui.retrieval import make_retriever  # noqa: E402
from ragtui.retrieval.milvus.loading import load_corpus_into_milvus  # noqa: E402
from tests.servers.processes import free_port, milvus_lite_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    sentences, queries = source_sentences()
    sample = queries[: args.queries]
    with tempfile.TemporaryDirectory(prefix="ragtui-bench-milvus-") as scratch:
        work = Path(scratch)
        corpus = load_corpus(write_dataset(work / "corpus", args.size, sentences))
        indexes = Indexes(corpus, cache_root=work / "cache")
        encoder = get_encoder()
        seed_embeddings(indexes, encoder.dimension)
        indexes.embeddings(DEFAULT_EMBEDDING_MODEL)  # read once, outside every timing
        print(f"## {len(corpus.passages):,} passages, {encoder.dimension}-dimensional vectors")
        bm25_build_s = timed(indexes.bm25) / 1000
        hnsw_build_s = timed(indexes.dense, DEFAULT_EMBEDDING_MODEL) / 1000

        port = free_port()
        with milvus_lite_server(work / "milvus", port):
            backends = BackendSettings(milvus_uri=f"http://127.0.0.1:{port}")
            started = time.perf_counter()
            report = load_corpus_into_milvus(indexes, backends, DEFAULT_EMBEDDING_MODEL)
            load_s = time.perf_counter() - started
            print(report.summary())
            print("build/load time, s")
            print(f"  bm25s index            {bm25_build_s:8.1f}")
            print(f"  hnswlib HNSW graph     {hnsw_build_s:8.1f}")
            print(f"  milvus lite load       {load_s:8.1f}   (all fields, both indexes)")

            vectors = encoder.encode(sample)
            bm25 = indexes.bm25()
            dense = indexes.dense(DEFAULT_EMBEDDING_MODEL)
            local = {
                "hnswlib (dense)": [timed(dense.top, vector, 10) for vector in vectors],
                "bm25s (bm25)": [timed(bm25.top, query, 10) for query in sample],
            }
            served = {}
            for spec in ("milvus", "milvus:bm25", "milvus:hybrid"):
                retriever = make_retriever(spec, indexes, backends)
                retriever.search(sample[0], 10)  # first search loads segments
                served[spec] = [retriever.search(query, 10).engine_ms for query in sample]

        print(f"query latency over {len(sample)} queries, ms (no query encoding)   p50      p95")
        rows = [*local.items(), *served.items()]
        for name, samples in rows:
            p50, p95 = percentiles(samples)
            print(f"  {name:56s} {p50:8.2f} {p95:8.2f}")
        hnsw_p50 = percentiles(local["hnswlib (dense)"])[0]
        bm25_p50 = percentiles(local["bm25s (bm25)"])[0]
        print(
            f"milvus / hnswlib p50: {percentiles(served['milvus'])[0] / hnsw_p50:.0f}x; "
            f"milvus:bm25 / bm25s p50: {percentiles(served['milvus:bm25'])[0] / bm25_p50:.0f}x"
        )


if __name__ == "__main__":
    main()
