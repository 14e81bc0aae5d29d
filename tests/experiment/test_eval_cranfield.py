"""ragtui eval on Cranfield: the written TREC runs, scored by pytrec_eval, give the report."""

import csv
import json
from pathlib import Path

import pytest
import pytrec_eval

from ragtui.cli import main
from ragtui.corpus.loading import load_qrels

REFERENCE_NDCG10 = {"bm25": 0.3489, "dense": 0.3817}  # ../shared/data/cranfield/README.md


def read_run(path: Path) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The whole run, and its top 10 by the rank column written in the file."""
    whole: dict[str, dict[str, float]] = {}
    top10: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        query_id, _, doc_id, rank, score, _ = line.split()
        whole.setdefault(query_id, {})[doc_id] = float(score)
        if int(rank) <= 10:
            top10.setdefault(query_id, {})[doc_id] = float(score)
    return whole, top10


def eval_retrievers(cranfield: Path, retrievers: str, out: Path) -> dict:
    """``ragtui eval`` of retrievers with the extractive generator; its results.json."""
    command = ["eval", str(cranfield), "--retrievers", retrievers, "--generators", "extractive"]
    code = main([*command, "--out", str(out)])
    assert code == 0
    return json.loads((out / "results.json").read_text())


def test_pytrec_eval_on_the_written_runs_reproduces_the_report(
    cranfield: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cranfield-eval"
    results = eval_retrievers(cranfield, "bm25,dense,hybrid", out)
    assert results["dataset"]["judged_queries"] == 225
    # Judgments of documents with no text (nothing to retrieve) are the only ones skipped.
    empty = set()
    for line in (cranfield / "corpus.jsonl").read_text().splitlines():
        record = json.loads(line)
        if not (record.get("title") or "").strip() and not (record.get("text") or "").strip():
            empty.add(record["_id"])
    original = load_qrels(cranfield / "qrels" / "test.tsv")
    qrels = load_qrels(out / "qrels.tsv")
    assert qrels == {
        query_id: {doc_id: grade for doc_id, grade in grades.items() if doc_id not in empty}
        for query_id, grades in original.items()
    }
    assert any("no document of the corpus" in warning for warning in results["dataset"]["warnings"])
    for retriever in ("bm25", "dense", "hybrid"):
        whole, top10 = read_run(out / "runs" / f"{retriever}.trec")
        figures = pytrec_eval.RelevanceEvaluator(
            qrels, {"P.10", "recall.10", "ndcg_cut.10", "map"}
        ).evaluate(whole)
        reciprocal = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
        judged = list(qrels)
        expected = {
            "P@10": sum(figures[q]["P_10"] for q in judged) / len(judged),
            "Recall@10": sum(figures[q]["recall_10"] for q in judged) / len(judged),
            "nDCG@10": sum(figures[q]["ndcg_cut_10"] for q in judged) / len(judged),
            "MAP": sum(figures[q]["map"] for q in judged) / len(judged),
            "MRR@10": sum(reciprocal[q]["recip_rank"] for q in judged) / len(judged),
        }
        reported = results["retrieval"][retriever]["mean"]
        for name, value in expected.items():
            assert reported[name] == pytest.approx(value, abs=1e-6), (retriever, name)
        if retriever in REFERENCE_NDCG10:
            assert reported["nDCG@10"] == pytest.approx(REFERENCE_NDCG10[retriever], abs=0.02)
    report = (out / "report.md").read_text()
    assert "| `dense` |" in report and "## Method" in report
    assert {path.name for path in out.iterdir()} == {
        ".ragtui-eval",
        "report.md",
        "report.html",
        "results.json",
        "per_query.csv",
        "qrels.tsv",
        "runs",
    }


def test_a_near_tie_is_good_enough_and_a_clearly_worse_retriever_is_not(
    cranfield: Path, tmp_path: Path
) -> None:
    """int8 weights change nDCG@10 by about 0.001 on Cranfield; static embeddings lose ~0.1."""
    out = tmp_path / "verdicts"
    results = eval_retrievers(cranfield, "dense,dense:minilm-int8,static", out)
    stage = [entry for entry in results["good_enough"] if entry["stage"] == "retriever"]
    verdicts = {entry["candidate"]: entry for entry in stage}
    # Which of the near-tie comes out on top is chance. int8 is faster: when dense is on
    # top, int8 must be good enough; when int8 is, dense is slower and no cheaper, so it is
    # no choice to weigh and is not listed (it used to be tested too).
    best = {entry["best"] for entry in verdicts.values()}
    assert best in ({"dense"}, {"dense:minilm-int8"})
    checked = [verdicts["static"]]
    if best == {"dense"}:
        near_tie = verdicts["dense:minilm-int8"]
        assert near_tie["verdict"] == "good enough", near_tie
        assert near_tie["ci_low"] > -near_tie["margin"] and near_tie["n"] == 225
        checked.append(near_tie)
    else:
        assert "dense" not in verdicts
        assert {"stage": "retriever", "candidate": "dense", "best": "dense:minilm-int8"} in (
            results["not_tested"]
        )
    static = verdicts["static"]
    assert static["verdict"] == "worse" and static["ci_high"] < -0.02, static
    assert static["speedup"] > 1 and static["faster_or_cheaper"]
    # Each verdict's difference is the mean of the per-query differences in per_query.csv.
    ndcg: dict[str, dict[str, float]] = {}
    with (out / "per_query.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["nDCG@10"]:
                ndcg.setdefault(row["retriever"], {})[row["query_id"]] = float(row["nDCG@10"])
    for entry in checked:
        expected = [
            ndcg[entry["candidate"]][q] - ndcg[entry["best"]][q] for q in ndcg[entry["best"]]
        ]
        assert entry["diff"] == pytest.approx(sum(expected) / len(expected), abs=1e-9)
    report = (out / "report.md").read_text()
    assert all(entry["sentence"] in report for entry in checked)
    # The sentence carries the measured difference (about −0.1; the static model is
    # distilled on this machine, so its last digits vary between machines).
    assert f"is not good enough: nDCG@10 −{-static['diff']:.3f}" in static["sentence"]
