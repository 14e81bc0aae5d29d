import pytest

from ragtui.metrics import document_ranking, evaluate, mean_over_queries, run_from_rankings
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
