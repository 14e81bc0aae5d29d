"""Retrieval benchmarks: every figure is a ratio against a baseline measured in this run.

    python benchmarks/bench_retrieval.py [--encode-passages 2000] [--sizes 10000,100000]

1. Embedding throughput: ragtui's indexing path vs SentenceTransformer.encode on the
   same passages (target >= 0.9x).
2. For each size: index build times, cache-hit re-open time (target <= 1 s at 10k),
   search latency p50/p95 per retriever (targets: bm25 and dense p50 <= 10 ms, excluding
   query encoding) against rank-bm25's get_scores as the baseline.
3. Peak RSS of indexing the largest size in a fresh process (target <= 2 GiB).

Passages are built from Cranfield sentences (or the sample corpus when Cranfield is
absent). Encoding 100k passages with MiniLM takes most of an hour on 2 cores, so at the
scale sizes the embedding store is seeded with random unit vectors keyed by passage text
unless --real-embeddings is given; HNSW build and search then run on those vectors (random
vectors are a harder case for HNSW than real ones, so latencies are if anything high).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.encoders import DEFAULT_EMBEDDING_MODEL, get_encoder  # noqa: E402
from ragtui.index.bm25_index import tokenize  # noqa: E402
from ragtui.index.cache import HASHES_FILE, VECTORS_FILE, Indexes  # noqa: E402
from ragtui.index.store import building_folder, slug  # noqa: E402

CRANFIELD = REPO.parent / "shared" / "data" / "cranfield"


def source_sentences() -> tuple[list[str], list[str]]:
    """Sentences to build passages from, and real queries to search with."""
    if (CRANFIELD / "corpus.jsonl").is_file():
        corpus = load_corpus(CRANFIELD)
    else:
        corpus = load_corpus(REPO / "sample_corpus")
    sentences = [
        sentence.strip()
        for document in corpus.documents
        for sentence in re.split(r"(?<=[.!?])\s+", document.text.replace("\n", " "))
        if len(sentence.split()) >= 4
    ]
    return sentences, list(corpus.queries.values())


def write_dataset(folder: Path, count: int, sentences: list[str], seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for number in range(count):
            text = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 6)))
            handle.write(json.dumps({"_id": f"p{number}", "text": text}) + "\n")
    return folder


def seed_embeddings(indexes: Indexes, dimension: int) -> None:
    """Store random unit vectors for every passage, as if they had been embedded before."""
    hashes = list(dict.fromkeys(p.content_hash for p in indexes.corpus.passages))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(hashes), dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Stored under the encoder's identity, exactly where Indexes.embeddings looks.
    identity = indexes.encoder(DEFAULT_EMBEDDING_MODEL).identity
    folder = indexes.cache_root / "embeddings" / slug(identity) / indexes.corpus.source_key
    meta = {"kind": "embeddings", "model": identity}
    with building_folder(folder, meta) as scratch:
        np.save(scratch / VECTORS_FILE, vectors)
        (scratch / HASHES_FILE).write_text("\n".join(hashes), encoding="ascii")


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def bench_encoding(sentences: list[str], count: int, work: Path) -> None:
    dataset = write_dataset(work / f"encode-{count}", count, sentences, seed=11)
    corpus = load_corpus(dataset)
    texts = [passage.text for passage in corpus.passages]
    from ragtui.encoders.sentence_transformers_encoder import SentenceTransformersEncoder

    # The baseline: the same weights through sentence-transformers, called directly.
    direct_model = SentenceTransformersEncoder(
        DEFAULT_EMBEDDING_MODEL, "direct"
    ).sentence_transformer
    direct_model.encode(texts[:64], batch_size=32)  # warm up both paths alike
    get_encoder().encode(texts[:64])
    started = time.perf_counter()
    direct_model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    direct_s = time.perf_counter() - started
    indexes = Indexes(corpus, cache_root=work / "encode-cache")
    started = time.perf_counter()
    indexes.embeddings(DEFAULT_EMBEDDING_MODEL)
    ragtui_s = time.perf_counter() - started
    print(f"\n## Embedding throughput ({len(texts)} passages, {DEFAULT_EMBEDDING_MODEL})")
    print(f"SentenceTransformer.encode : {len(texts) / direct_s:8.1f} passages/s")
    print(f"ragtui indexing            : {len(texts) / ragtui_s:8.1f} passages/s")
    print(
        f"ratio ragtui/direct        : {direct_s / ragtui_s:8.3f}  (ONNX Runtime; target >= 0.95)"
    )


def bench_size(size: int, sentences: list[str], queries: list[str], work: Path, real: bool) -> None:
    from rank_bm25 import BM25Okapi

    print(f"\n## {size} passages")
    corpus = load_corpus(write_dataset(work / f"corpus-{size}", size, sentences))
    cache = work / f"cache-{size}"
    indexes = Indexes(corpus, cache_root=cache)
    encoder = get_encoder()
    if not real:
        seed_embeddings(indexes, encoder.dimension)
    bm25_build_ms = timed(indexes.bm25)
    dense_build_ms = timed(indexes.dense, DEFAULT_EMBEDDING_MODEL)
    print(f"build: bm25 {bm25_build_ms / 1000:.2f} s, dense (HNSW) {dense_build_ms / 1000:.2f} s")

    started = time.perf_counter()
    reopened_corpus = load_corpus(corpus.root)
    reopened = Indexes(reopened_corpus, cache_root=cache)
    reopened.bm25()
    reopened.dense(DEFAULT_EMBEDDING_MODEL)
    reopen_s = time.perf_counter() - started
    print(f"cache-hit re-open (read corpus + load both indexes): {reopen_s:.3f} s (target <= 1 s)")

    sample = queries[:50]
    vectors = encoder.encode(sample)
    bm25 = reopened.bm25()
    dense = reopened.dense(DEFAULT_EMBEDDING_MODEL)
    bm25_ms = [timed(bm25.top, query, 10) for query in sample]
    dense_ms = [timed(dense.top, vector, 10) for vector in vectors]
    from ragtui.retrieval import make_retriever

    hybrid = make_retriever("hybrid", reopened)
    hybrid_ms = [timed(hybrid.search, query, 10) for query in sample]
    encode_ms = [timed(encoder.encode_query, query) for query in sample[:20]]

    baseline = BM25Okapi([tokenize(p.text) for p in corpus.passages])
    baseline_queries = sample[: 10 if size >= 50_000 else 30]
    rank_bm25_ms = [timed(baseline.get_scores, tokenize(query)) for query in baseline_queries]

    print("latency per query, ms      p50      p95")
    for name, samples in [
        ("rank-bm25 get_scores (base)", rank_bm25_ms),
        ("bm25 (bm25s)", bm25_ms),
        ("dense (HNSW, no encoding)", dense_ms),
        ("query encoding (MiniLM)", encode_ms),
        ("hybrid (incl. encoding)", hybrid_ms),
    ]:
        p50, p95 = percentiles(samples)
        print(f"  {name:28s} {p50:8.2f} {p95:8.2f}")
    speedup = statistics.median(rank_bm25_ms) / statistics.median(bm25_ms)
    print(f"bm25 p50 speed-up over rank-bm25: {speedup:.0f}x")


def child_peak_rss(size: int, sentences_file: Path, work: Path) -> None:
    """Run in a fresh process: index `size` passages (seeded vectors), print peak RSS in MiB."""
    sentences = json.loads(sentences_file.read_text())
    corpus = load_corpus(write_dataset(work / f"rss-{size}", size, sentences))
    indexes = Indexes(corpus, cache_root=work / f"rss-cache-{size}")
    seed_embeddings(indexes, get_encoder().dimension)
    indexes.bm25()
    indexes.dense(DEFAULT_EMBEDDING_MODEL)
    print(own_peak_rss_mib())


def own_peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the parent's
    high-water mark across fork and exec into it, so a child of a 2 GiB benchmark process
    would report 2 GiB whatever it did."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encode-passages", type=int, default=2000)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--real-embeddings", action="store_true")
    parser.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        child_peak_rss(int(args.rss_child[0]), Path(args.rss_child[1]), Path(args.rss_child[2]))
        return
    sizes = [int(size) for size in args.sizes.split(",") if size]
    sentences, queries = source_sentences()
    with tempfile.TemporaryDirectory(prefix="ragtui-bench-") as scratch:
        work = Path(scratch)
        bench_encoding(sentences, args.encode_passages, work)
        for size in sizes:
            bench_size(size, sentences, queries, work, args.real_embeddings)
        largest = max(sizes)
        sentences_file = work / "sentences.json"
        sentences_file.write_text(json.dumps(sentences))
        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(largest), str(sentences_file), str(work)],
            capture_output=True,
            text=True,
            check=True,
        )
        peak_mib = float(child.stdout.strip().splitlines()[-1])
        print(f"\n## Peak RSS indexing {largest} passages (fresh process, encoder loaded)")
        print(f"{peak_mib:.0f} MiB (target <= 2048 MiB)")


if __name__ == "__main__":
    main()
