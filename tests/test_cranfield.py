"""ragtui's own runs on Cranfield against the collection's reference table (±0.02 nDCG@10)."""

from pathlib import Path

import pytest

from ragtui.corpus import load_corpus
from ragtui.index.cache import Indexes
from ragtui.metrics import document_ranking, evaluate, mean_over_queries, run_from_rankings
from ragtui.retrieval import make_retriever

# ../shared/data/cranfield/README.md: BM25 (bm25s defaults) and dense all-MiniLM-L6-v2.
REFERENCE_NDCG10 = {"bm25": 0.3489, "dense": 0.3817}


@pytest.fixture(scope="module")
def cranfield_indexes(cranfield: Path) -> Indexes:
    return Indexes(load_corpus(cranfield))


@pytest.mark.parametrize("retriever", ["bm25", "dense"])
def test_ndcg_at_10_matches_reference(cranfield_indexes: Indexes, retriever: str) -> None:
    corpus = cranfield_indexes.corpus
    assert len(corpus.queries) == 225
    search = make_retriever(retriever, cranfield_indexes)
    # Passages are scored per document (best passage), so over-fetch passages.
    rankings = {
        query_id: document_ranking(search.search(text, 100).hits)[:10]
        for query_id, text in corpus.queries.items()
    }
    per_query = evaluate(corpus.qrels, run_from_rankings(rankings), {"ndcg_cut.10"})
    ndcg = mean_over_queries(per_query, corpus.qrels)["ndcg_cut_10"]
    assert ndcg == pytest.approx(REFERENCE_NDCG10[retriever], abs=0.02)
