import math
import random

import pytest

from ragtui.metrics import (
    condensed_ndcg,
    document_ranking,
    evaluate,
    judged_at_k,
    mean_over_queries,
    run_from_rankings,
)
from ragtui.retrieval.types import Hit


def hit(rank: int, doc_id: str) -> Hit:
    return Hit(rank, f"{doc_id}#{rank}", doc_id, 1.0 / rank, "", doc_id, 0, 0)


def test_a_document_ranks_by_its_best_passage() -> None:
    hits = [hit(1, "b"), hit(2, "a"), hit(3, "b"), hit(4, "c"), hit(5, "a")]
    assert document_ranking(hits) == ["b", "a", "c"]


def test_figures_follow_trec_eval_definitions() -> None:
    qrels = {"q1": {"a": 2, "b": 0, "c": 1}, "q2": {"z": 1}}
    run = run_from_rankings({"q1": ["b", "a", "x", "c"], "q2": ["y"]})
    per_query = evaluate(qrels, run, {"P.2", "recip_rank", "recall.2", "map", "ndcg_cut.3"})
    q1 = per_query["q1"]
    assert q1["P_2"] == pytest.approx(0.5)
    assert q1["recip_rank"] == pytest.approx(0.5)
    assert q1["recall_2"] == pytest.approx(0.5)
    assert q1["map"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    # trec_eval's nDCG uses the grade itself as gain (not 2**grade - 1).
    ideal = 2 / 1 + 1 / 1.5849625007
    assert q1["ndcg_cut_3"] == pytest.approx((2 / 1.5849625007) / ideal, rel=1e-6)
    assert per_query["q2"]["map"] == 0.0


def test_unretrieved_judged_queries_count_as_zero() -> None:
    per_query = {"q1": {"map": 0.5}}
    assert mean_over_queries(per_query, ["q1", "q2"]) == {"map": 0.25}


def _tied_hits() -> list[Hit]:
    # scores with ties inside and across documents, in an order trec_eval would not keep
    rows = [("d3", 2.0), ("d1", 2.0), ("d2", 1.5), ("d1", 1.5), ("d4", 1.5), ("d5", 0.5)]
    return [
        Hit(rank, f"{doc}#{rank}", doc, score, "", doc, 0, 0)
        for rank, (doc, score) in enumerate(rows, start=1)
    ]


@pytest.mark.parametrize("unit", ["passage", "document"])
def test_live_figures_equal_the_eval_path_and_pytrec_eval_with_ties(unit: str) -> None:
    import pytrec_eval

    from ragtui.metrics import live_figures, score_retrieval, scores_by_unit, trec_order

    hits = _tied_hits()
    if unit == "document":
        judgments = {"d1": 2, "d2": 0, "d4": 1, "d9": 3}
    else:
        judgments = {"d1#2": 2, "d2#3": 1, "d4#5": 3, "d5#6": 0, "d9#0": 1}
    k = 3
    live = live_figures(judgments, hits, k, unit)
    # the eval's path: a run of best scores per unit, scored over all judged queries
    evaluated = score_retrieval({"q": judgments}, {"q": scores_by_unit(hits, unit)}, k)["q"]
    assert live == evaluated
    # and pytrec_eval itself on the same run (MRR@k over trec_eval's top k)
    run = scores_by_unit(hits, unit)
    reference = pytrec_eval.RelevanceEvaluator(
        {"q": judgments}, {f"P.{k}", f"recall.{k}", f"ndcg_cut.{k}"}
    ).evaluate({"q": run})["q"]
    top = {key: run[key] for key in trec_order(run)[:k]}
    mrr = pytrec_eval.RelevanceEvaluator({"q": judgments}, {"recip_rank"}).evaluate({"q": top})
    assert live[f"P@{k}"] == pytest.approx(reference[f"P_{k}"], abs=1e-9)
    assert live[f"Recall@{k}"] == pytest.approx(reference[f"recall_{k}"], abs=1e-9)
    assert live[f"nDCG@{k}"] == pytest.approx(reference[f"ndcg_cut_{k}"], abs=1e-9)
    assert live[f"MRR@{k}"] == pytest.approx(mrr["q"]["recip_rank"], abs=1e-9)
    # ties matter: ranking by position instead gives another nDCG here
    by_position = {hit.doc_id if unit == "document" else hit.passage_id: 0.0 for hit in hits}
    for position, key in enumerate(list(dict.fromkeys(by_position))):
        by_position[key] = float(100 - position)
    positional = pytrec_eval.RelevanceEvaluator({"q": judgments}, {f"ndcg_cut.{k}"}).evaluate(
        {"q": by_position}
    )["q"][f"ndcg_cut_{k}"]
    assert positional != pytest.approx(live[f"nDCG@{k}"], abs=1e-6)


def test_condensed_ndcg_by_hand() -> None:
    """nDCG′@3 (Sakai 2007): the unjudged x and y leave the ranking before the cut."""
    qrels = {"q1": {"a": 2, "b": 0, "c": 1, "d": 3}}
    run = run_from_rankings({"q1": ["x", "b", "y", "a", "c", "d"]})
    log2 = math.log2
    # Condensed list b, a, c, d; its top 3 is b (0), a (2), c (1); the ideal is d, a, c.
    dcg = 0 / log2(2) + 2 / log2(3) + 1 / log2(4)
    ideal = 3 / log2(2) + 2 / log2(3) + 1 / log2(4)
    assert condensed_ndcg(qrels, run, 3)["q1"] == pytest.approx(dcg / ideal)
    # nDCG@3 of the full list counts x and y as not relevant: only a at rank 4 is cut off.
    assert evaluate(qrels, run, {"ndcg_cut.3"})["q1"]["ndcg_cut_3"] == pytest.approx(0.0)
    # judged@3: b of x, b, y.
    assert judged_at_k(qrels, run, 3) == {"q1": pytest.approx(1 / 3)}


def test_condensed_ndcg_equals_trec_eval_judged_only() -> None:
    """The same figure as trec_eval -J (pytrec_eval's judged_docs_only_flag), on random
    graded judgments and runs with unjudged ids, ties and an empty condensed list."""
    import pytrec_eval

    rng = random.Random(7)
    ids = [f"d{number}" for number in range(40)]
    qrels, run = {}, {}
    for query in range(30):
        judged = rng.sample(ids, rng.randint(1, 15))
        qrels[f"q{query}"] = {doc: rng.randint(0, 3) for doc in judged}
        retrieved = rng.sample(ids, rng.randint(1, 25))
        run[f"q{query}"] = {doc: float(rng.randint(0, 8)) for doc in retrieved}
    run["q0"] = {"never-judged": 1.0}
    for k in (5, 10):
        ours = condensed_ndcg(qrels, run, k)
        reference = pytrec_eval.RelevanceEvaluator(
            qrels, {f"ndcg_cut.{k}"}, judged_docs_only_flag=True
        ).evaluate(run)
        assert ours["q0"] == 0.0
        for query_id, figures in reference.items():
            assert ours[query_id] == pytest.approx(figures[f"ndcg_cut_{k}"], abs=1e-12)
        # Leaving unjudged ids out only ever helps: nDCG′ ≥ nDCG on every query.
        full = evaluate(qrels, run, {f"ndcg_cut.{k}"})
        assert all(ours[q] >= full[q][f"ndcg_cut_{k}"] - 1e-12 for q in full)
