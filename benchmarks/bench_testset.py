"""Do generated questions rank retrievers as human judgments do? Kendall's tau on Cranfield.

    python benchmarks/bench_testset.py [--cranfield PATH] [-n 400] [--generators SPECS]

Seven retriever configurations are ranked by nDCG@10 on Cranfield's 225 human queries and
on a test set generated from the same corpus by each packaged generator (``ragtui testset``
with its default filters, seed 0, no hand-picking). The script prints, per generator, the
funnel, questions kept per minute, Kendall's tau between the two rankings with a bootstrap
95% interval (human and generated queries resampled independently, 1,000 rounds), and tau
for looser settings read from the same run's provenance: without the round-trip check
(kept + "not answerable") and with every parseable question.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from scipy.stats import kendalltau  # noqa: E402

from ragtui.config.backends import BackendSettings  # noqa: E402
from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.index.cache import Indexes  # noqa: E402
from ragtui.metrics import score_retrieval, scores_by_unit  # noqa: E402
from ragtui.retrieval import make_retriever  # noqa: E402
from ragtui.testsets.generate import TestsetPlan, generate_testset  # noqa: E402
from ragtui.testsets.store import read_testset  # noqa: E402

SPECS = ("bm25", "bm25:okapi", "static", "dense:minilm-int8", "dense", "hybrid", "hybrid:static")
ROUNDS = 1000


def per_query_ndcg(retrievers, queries: dict[str, str], qrels) -> dict[str, dict[str, float]]:
    """spec → query id → nDCG@10 (documents ranked by their best passage)."""
    table = {}
    for spec, retriever in retrievers.items():
        run = {
            qid: scores_by_unit(retriever.search(text, 100).hits, "document")
            for qid, text in queries.items()
        }
        table[spec] = {
            qid: figures["nDCG@10"] for qid, figures in score_retrieval(qrels, run, 10).items()
        }
    return table


def tau_with_interval(human, generated, seed: int = 0) -> tuple[float, float, float]:
    specs = list(SPECS)
    human_queries = sorted(next(iter(human.values())))
    generated_queries = sorted(next(iter(generated.values())))
    h = np.array([[human[s][q] for q in human_queries] for s in specs])
    g = np.array([[generated[s][q] for q in generated_queries] for s in specs])
    observed = kendalltau(h.mean(axis=1), g.mean(axis=1)).statistic
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(ROUNDS):
        hi = rng.integers(0, h.shape[1], h.shape[1])
        gi = rng.integers(0, g.shape[1], g.shape[1])
        taus.append(kendalltau(h[:, hi].mean(axis=1), g[:, gi].mean(axis=1)).statistic)
    low, high = np.nanpercentile(taus, [2.5, 97.5])
    return float(observed), float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--cranfield", type=Path, default=REPO.parent / "shared" / "data" / "cranfield"
    )
    parser.add_argument("-n", type=int, default=400, help="passages per generator")
    parser.add_argument("--generators", default="llamacpp:smollm2,llamacpp:gemma3")
    args = parser.parse_args()
    corpus = load_corpus(args.cranfield)
    indexes = Indexes(corpus)
    retrievers = {spec: make_retriever(spec, indexes) for spec in SPECS}
    human = per_query_ndcg(retrievers, dict(corpus.queries), corpus.qrels)
    print(
        "human nDCG@10:",
        ", ".join(f"{s} {np.mean(list(v.values())):.4f}" for s, v in human.items()),
    )
    data_root = Path(tempfile.mkdtemp(prefix="bench-testset-"))
    os.environ["RAGTUI_DATA_DIR"] = str(data_root)
    for generator in args.generators.split(","):
        plan = TestsetPlan(name=generator.replace(":", "-"), generator=generator, count=args.n)
        started = time.monotonic()
        outcome = asyncio.run(
            generate_testset(corpus, plan, BackendSettings.from_env(), data_root=data_root)
        )
        minutes = (time.monotonic() - started) / 60
        testset = read_testset(outcome.folder)
        print(
            f"\n{generator}: {outcome.funnel_line()}; {outcome.kept / minutes:.1f} kept per minute "
            f"({minutes:.1f} min); mean word overlap {outcome.mean_overlap or 0:.0%}"
        )
        settings = {
            "all filters": [r for r in testset.records if r["verdict"] == "kept"],
            "no round-trip check": [
                r for r in testset.records if r["verdict"] in {"kept", "not answerable"}
            ],
            "every parseable question": [r for r in testset.records if r.get("question")],
        }
        for label, records in settings.items():
            if len(records) < 10:
                print(f"  {label}: {len(records)} questions, too few for tau")
                continue
            queries = {r["query_id"]: r["question"] for r in records}
            qrels = {r["query_id"]: {r["doc_id"]: 1} for r in records}
            generated = per_query_ndcg(retrievers, queries, qrels)
            tau, low, high = tau_with_interval(human, generated)
            ranking = sorted(SPECS, key=lambda s: -np.mean(list(generated[s].values())))
            print(
                f"  {label}: {len(records)} questions, tau {tau:.2f} [{low:.2f}, {high:.2f}]; "
                f"ranking {' > '.join(ranking)}"
            )


if __name__ == "__main__":
    main()
