import pytest

from ragtui.metrics import document_ranking, evaluate, mean_over_queries, run_from_rankings
from ragtui.retrieval import Hit


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
