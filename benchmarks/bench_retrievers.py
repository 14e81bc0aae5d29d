"""Every offline retriever on Cranfield: quality, indexing time, query latency, wake-up, RSS.

    python benchmarks/bench_retrievers.py [--cranfield PATH] [--markdown]

Per retriever, in one run: nDCG@10 and Recall@100 (trec_eval definitions, documents
ranked by their best passage), the time to index the collection from scratch (a fresh
index cache; the one-time ONNX export / static distillation is reported separately),
query p50 over the 225 queries, and a fresh ``ragtui search`` process with the index
cached: its wall time and peak RSS, next to the same for ``bm25``.

Then the encoders themselves, on the same Cranfield passages: ONNX fp32 against
sentence-transformers (cosine of every vector, nDCG@10 with exact search, throughput),
int8 against fp32 and static against fp32 (throughput ratio, nDCG@10).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.encoders import get_encoder  # noqa: E402
from ragtui.index.cache import Indexes  # noqa: E402
from ragtui.metrics import score_retrieval, scores_by_unit  # noqa: E402
from ragtui.retrieval import make_retriever  # noqa: E402

SPECS = ("bm25", "bm25:okapi", "static", "dense:minilm-int8", "dense", "hybrid", "hybrid:static")
QUERY = "what similarity laws must be obeyed when constructing aeroelastic models"


def _fresh_process(corpus: Path, spec: str, cache: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a new process running one cached search."""
    script = (
        "import sys\n"
        "from ragtui.cli import main\n"
        f"code = main(['search', {str(corpus)!r}, {QUERY!r}, '--retriever', {spec!r}, "
        f"'--cache-dir', {str(cache)!r}, '--json'])\n"
        # VmHWM, not ru_maxrss: Linux carries the parent's high-water mark into a child.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(hwm.split()[1], file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{spec}: search failed: {done.stderr.strip().splitlines()[-1:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def _quality(corpus, indexes: Indexes, spec: str) -> tuple[float, float, float]:
    retriever = make_retriever(spec, indexes)
    runs, times = {}, []
    for query_id, text in corpus.queries.items():
        result = retriever.search(text, 100)
        times.append(result.elapsed_ms)
        runs[query_id] = scores_by_unit(result.hits, "document")
    per_query = score_retrieval(corpus.qrels, runs, 10)
    recall = score_retrieval(corpus.qrels, runs, 100)
    judged = list(per_query)
    ndcg = statistics.fmean(per_query[q]["nDCG@10"] for q in judged)
    recall_100 = statistics.fmean(recall[q]["Recall@100"] for q in judged)
    return ndcg, recall_100, statistics.median(times)


def retriever_table(cranfield: Path, work: Path) -> list[dict[str, object]]:
    shared = work / "shared-cache"
    corpus = load_corpus(cranfield)
    # One-time model preparation, outside the per-retriever clock.
    prepared = {}
    for name in ("all-MiniLM-L6-v2", "minilm-int8", "minilm-static"):
        started = time.perf_counter()
        get_encoder(name, shared)
        prepared[name] = time.perf_counter() - started
    print("one-time model preparation (export / quantize / distill), s:", prepared)
    rows = []
    for spec in SPECS:
        cache = work / f"cache-{spec.replace(':', '-')}"
        shutil.copytree(shared / "encoders", cache / "encoders")
        started = time.perf_counter()
        done = subprocess.run(
            [
                *(sys.executable, "-m", "ragtui", "index", str(cranfield)),
                *("--retrievers", spec, "--cache-dir", str(cache)),
            ],
            capture_output=True,
            text=True,
        )
        index_s = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{spec}: index failed: {done.stderr.strip()[-300:]}")
        ndcg, recall, p50 = _quality(corpus, Indexes(corpus, cache), spec)
        load_s, rss = _fresh_process(cranfield, spec, cache)
        rows.append(
            {
                "spec": spec,
                "nDCG@10": ndcg,
                "Recall@100": recall,
                "index_s": index_s,
                "p50_ms": p50,
                "load_s": load_s,
                "rss_mib": rss,
            }
        )
        print(rows[-1], flush=True)
    return rows


def encoder_comparison(cranfield: Path, work: Path) -> None:
    import numpy as np

    from ragtui.encoders.sentence_transformers_encoder import SentenceTransformersEncoder

    corpus = load_corpus(cranfield)
    texts = [p.text for p in corpus.passages]
    shared = work / "shared-cache"
    encoders = {
        "onnx fp32": get_encoder("all-MiniLM-L6-v2", shared),
        "onnx int8": get_encoder("minilm-int8", shared),
        "static": get_encoder("minilm-static", shared),
    }
    vectors, rates = {}, {}
    for name, encoder in encoders.items():
        encoder.encode(texts[:64])  # warm
        started = time.perf_counter()
        vectors[name] = encoder.encode(texts)
        rates[name] = len(texts) / (time.perf_counter() - started)
    # Last: loading sentence-transformers switches off the tokenizers' threads
    # (TOKENIZERS_PARALLELISM=false), which would slow the encoders measured after it.
    encoders["sentence-transformers"] = SentenceTransformersEncoder("all-MiniLM-L6-v2", "reference")
    for name in ("sentence-transformers",):
        encoder = encoders[name]
        encoder.encode(texts[:64])  # warm
        started = time.perf_counter()
        vectors[name] = encoder.encode(texts)
        rates[name] = len(texts) / (time.perf_counter() - started)
    queries = list(corpus.queries.items())

    def ndcg(name: str) -> float:
        encoder = encoders[name]
        query_vectors = encoder.encode([text for _, text in queries])
        scores = query_vectors @ vectors[name].T
        runs = {}
        for (query_id, _), row in zip(queries, scores, strict=True):
            top = np.argsort(-row)[:100]
            hits = {}
            for index in top:
                doc = corpus.passages[index].doc_id
                hits[doc] = max(hits.get(doc, -1.0), float(row[index]))
            runs[query_id] = hits
        figures = score_retrieval(corpus.qrels, runs, 10)
        return statistics.fmean(value["nDCG@10"] for value in figures.values())

    cosines = (vectors["onnx fp32"] * vectors["sentence-transformers"]).sum(axis=1)
    quality = {name: ndcg(name) for name in encoders}
    print(f"\nencoders on {len(texts)} Cranfield passages (exact search for nDCG@10):")
    print(f"  ONNX fp32 vs sentence-transformers: min cosine {cosines.min():.7f}")
    for name in encoders:
        print(
            f"  {name:22s} {rates[name]:9.1f} passages/s  "
            f"({rates[name] / rates['onnx fp32']:.2f}x fp32; "
            f"{rates[name] / rates['sentence-transformers']:.2f}x sentence-transformers)  "
            f"nDCG@10 {quality[name]:.4f}"
        )
    int8_cos = (vectors["onnx int8"] * vectors["onnx fp32"]).sum(axis=1)
    print(f"  int8 vs fp32: mean cosine {int8_cos.mean():.4f}, min {int8_cos.min():.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cranfield", type=Path, default=REPO.parent / "shared" / "data" / "cranfield"
    )
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    parser.add_argument("--skip-encoders", action="store_true")
    parser.add_argument("--skip-table", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragtui-bench-retrievers-"))
    try:
        if args.skip_table:
            encoder_comparison(args.cranfield, work)
            return
        rows = retriever_table(args.cranfield, work)
        bm25 = next(row for row in rows if row["spec"] == "bm25")
        print(
            "\n| retriever | nDCG@10 | Recall@100 | index from scratch | query p50 "
            "| fresh process (search, index cached) | peak RSS |"
        )
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            extra = row["load_s"] - bm25["load_s"]  # type: ignore[operator]
            print(
                f"| `{row['spec']}` | {row['nDCG@10']:.4f} | {row['Recall@100']:.4f} "
                f"| {row['index_s']:.1f} s | {row['p50_ms']:.2f} ms "
                f"| {row['load_s']:.2f} s ({extra:+.2f} s vs bm25) | {row['rss_mib']:.0f} MiB |"
            )
        if not args.skip_encoders:
            encoder_comparison(args.cranfield, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(benchmark process peak RSS {usage:.0f} MiB)")


if __name__ == "__main__":
    main()
