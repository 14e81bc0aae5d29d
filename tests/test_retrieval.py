import math
from pathlib import Path

import pytest

from ragtui.corpus import load_corpus
from ragtui.errors import RagtuiError, SpecError
from ragtui.index.bm25_index import K1, B, Bm25Index, tokenize
from ragtui.index.cache import Indexes
from ragtui.retrieval import make_retriever
from ragtui.retrieval.types import RRF_K
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture(scope="module")
def sample_indexes() -> Indexes:
    return Indexes(load_corpus(SAMPLE_CORPUS))


def lucene_bm25(texts: list[str], query: str) -> list[float]:
    """Lucene's BM25 written out from its documented formula, as an independent check.

    Since Lucene 8 the (k1 + 1) factor of the textbook numerator is dropped: it scales
    every score equally and so never changes a ranking.
    """
    docs = [tokenize(text) for text in texts]
    average = sum(map(len, docs)) / len(docs)
    scores = []
    for doc in docs:
        total = 0.0
        for term in tokenize(query):  # a repeated query word counts each time, as in Lucene
            frequency = doc.count(term)
            containing = sum(term in other for other in docs)
            if not frequency:
                continue
            idf = math.log(1 + (len(docs) - containing + 0.5) / (containing + 0.5))
            total += idf * frequency / (frequency + K1 * (1 - B + B * len(doc) / average))
        scores.append(total)
    return scores


def test_bm25_scores_follow_lucenes_formula() -> None:
    texts = [
        "the battery stores energy",
        "error E-104 cell imbalance in the battery battery",
        "inverter peak output",
        "E-104 E-104 again",
        "nothing relevant here at all",
    ]
    index = Bm25Index.build(texts)
    for query in ["battery E-104", "peak inverter output", "unknownword", "the the"]:
        expected = lucene_bm25(texts, query)
        assert list(index.scores(query)) == pytest.approx(expected, rel=1e-5)


def test_bm25_finds_exact_codes(sample_indexes: Indexes) -> None:
    result = make_retriever("bm25", sample_indexes).search("E-412", 5)
    assert result.hits[0].doc_id == "error-e412.txt"
    assert [hit.rank for hit in result.hits] == list(range(1, len(result.hits) + 1))
    assert result.elapsed_ms > 0
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_bm25_returns_nothing_for_unknown_words(sample_indexes: Indexes) -> None:
    assert make_retriever("bm25", sample_indexes).search("zyxxyq", 5).hits == ()


def test_dense_finds_paraphrases_that_share_no_words(sample_indexes: Indexes) -> None:
    query = "What should I do with the pack when it is worn out?"
    dense = make_retriever("dense", sample_indexes).search(query, 3)
    assert dense.hits[0].doc_id == "recycling.txt"
    assert dense.encode_ms > 0
    assert all(-1.0 <= hit.score <= 1.0 for hit in dense.hits)


def test_hybrid_fuses_ranks(sample_indexes: Indexes) -> None:
    query = "E-412 communication lost"
    bm25 = make_retriever("bm25", sample_indexes).search(query, 100)
    dense = make_retriever("dense", sample_indexes).search(query, 100)
    hybrid = make_retriever("hybrid", sample_indexes).search(query, 5)
    bm25_rank = {hit.passage_id: hit.rank for hit in bm25.hits}
    dense_rank = {hit.passage_id: hit.rank for hit in dense.hits}
    fused = {
        passage_id: sum(
            1 / (RRF_K + ranks[passage_id])
            for ranks in (bm25_rank, dense_rank)
            if passage_id in ranks
        )
        for passage_id in bm25_rank.keys() | dense_rank.keys()
    }
    order = sample_indexes.corpus.passage_index
    best = sorted(fused, key=lambda passage_id: (-fused[passage_id], order[passage_id]))[:5]
    # the top 5 of the fused ranking, in order, with their fused scores
    assert [hit.passage_id for hit in hybrid.hits] == best
    assert [hit.score for hit in hybrid.hits] == pytest.approx([fused[pid] for pid in best])
    assert [hit.rank for hit in hybrid.hits] == [1, 2, 3, 4, 5]
    assert hybrid.hits[0].doc_id == "error-e412.txt"


def test_bad_queries_and_specs_are_user_errors(sample_indexes: Indexes) -> None:
    with pytest.raises(RagtuiError, match="query is empty"):
        make_retriever("bm25", sample_indexes).search("   ", 5)
    with pytest.raises(SpecError, match="unknown retriever 'splade'"):
        make_retriever("splade", sample_indexes)


def test_unknown_dense_model_is_a_user_error(sample_indexes: Indexes, tmp_path: Path) -> None:
    with pytest.raises(RagtuiError, match=r"could not be loaded offline|has no config\.json"):
        make_retriever(f"dense:{tmp_path}", sample_indexes)
    with pytest.raises(RagtuiError, match="could not be loaded offline"):
        make_retriever("dense:no-such-org/no-such-model", sample_indexes)
