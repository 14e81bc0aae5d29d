"""Milvus against ragtui's own engines on Cranfield (2,532 passages, 225 judged queries)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval

from ragtui.cli import main
from ragtui.config.backends import BackendSettings
from ragtui.corpus import load_corpus
from ragtui.corpus.loading import load_qrels
from ragtui.experiment.report.outputs import run_file_name
from ragtui.index.cache import Indexes
from ragtui.metrics import document_ranking, evaluate, mean_over_queries, run_from_rankings
from ragtui.retrieval import make_retriever
from ragtui.retrieval.milvus.loading import load_corpus_into_milvus
from tests.experiment.test_eval_cranfield import read_run


@pytest.fixture(scope="module")
def cranfield_in_milvus(cranfield: Path, milvus_server: str) -> tuple[Indexes, BackendSettings]:
    backends = BackendSettings(milvus_uri=milvus_server)
    indexes = Indexes(load_corpus(cranfield))
    report = load_corpus_into_milvus(indexes, backends, "all-MiniLM-L6-v2")
    assert report.inserted + report.unchanged == len(indexes.corpus.passages)
    return indexes, backends


def test_milvus_ranks_as_ragtuis_own_engines(
    cranfield_in_milvus: tuple[Indexes, BackendSettings],
) -> None:
    indexes, backends = cranfield_in_milvus
    corpus = indexes.corpus
    specs = ("dense", "milvus", "bm25", "milvus:bm25", "hybrid", "milvus:hybrid")
    retrievers = {spec: make_retriever(spec, indexes, backends) for spec in specs}
    rankings: dict[str, dict[str, list[str]]] = {spec: {} for spec in specs}
    overlaps = []
    for query_id, text in corpus.queries.items():
        hits = {spec: retriever.search(text, 100).hits for spec, retriever in retrievers.items()}
        for spec in specs:
            rankings[spec][query_id] = document_ranking(hits[spec])[:10]
        served = {hit.passage_id for hit in hits["milvus"][:10]}
        local = {hit.passage_id for hit in hits["dense"][:10]}
        overlaps.append(len(served & local) / 10)
    ndcg = {
        spec: mean_over_queries(
            evaluate(corpus.qrels, run_from_rankings(ranking), {"ndcg_cut.10"}), corpus.qrels
        )["ndcg_cut_10"]
        for spec, ranking in rankings.items()
    }
    print("nDCG@10", {spec: round(value, 4) for spec, value in ndcg.items()})
    print("top-10 overlap milvus/dense", round(float(np.mean(overlaps)), 4))
    assert ndcg["milvus"] == pytest.approx(ndcg["dense"], abs=0.01)
    assert np.mean(overlaps) >= 0.9
    assert ndcg["milvus:bm25"] == pytest.approx(ndcg["bm25"], abs=0.03)
    # Server-side RRF of the same two lists, with the same k and depth, as ragtui's hybrid.
    assert ndcg["milvus:hybrid"] == pytest.approx(ndcg["hybrid"], abs=0.02)


def test_eval_with_milvus_retrievers_scores_as_pytrec_eval(
    cranfield: Path,
    cranfield_in_milvus: tuple[Indexes, BackendSettings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, backends = cranfield_in_milvus
    monkeypatch.setenv("MILVUS_URI", str(backends.milvus_uri))
    out = tmp_path / "eval"
    retrievers = ["bm25", "dense", "milvus", "milvus:bm25"]
    code = main(
        [
            "eval",
            str(cranfield),
            "--retrievers",
            ",".join(retrievers),
            "--generators",
            "extractive",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    qrels = load_qrels(out / "qrels.tsv")
    for retriever in retrievers:
        whole, _ = read_run(out / "runs" / run_file_name(retriever))
        figures = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "map"}).evaluate(whole)
        reported = results["retrieval"][retriever]
        for name, key in (("nDCG@10", "ndcg_cut_10"), ("MAP", "map")):
            expected = sum(figures[q][key] for q in qrels) / len(qrels)
            assert reported["mean"][name] == pytest.approx(expected, abs=1e-6), (retriever, name)
        if retriever.startswith("milvus"):
            assert reported["engine_ms"]["p50"] > 0
        else:
            assert reported["engine_ms"] is None
    report = (out / "report.md").read_text()
    assert "| `milvus:bm25` |" in report and "engine p50" in report
