"""bench_pooled's core on the sample corpus (the Cranfield run takes many minutes): the pool
built once and reused, the budget sample the label screen would ask about, grades read
from qrels, condensed nDCG', judged@10, and tau between two rankings in pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_pooled import (
    PooledScores,
    agreement,
    agreement_sample,
    auc,
    budget_sample,
    build_pool,
    condensed_runs,
    judged_at_k,
    known_relevant,
    labeller_agreement,
    pool_pairs,
    query_sample,
    run_labeller,
    score_with_grades,
    simulated_grades,
    source_grades,
)
from benchmarks.retriever_ranking import means, ndcg_table, paired_taus, search_runs
from ragtui.corpus import load_corpus
from ragtui.index.cache import Indexes
from ragtui.judging.label_queue import QueueDesign, build_queue
from ragtui.judging.pools import POOL_FILE
from ragtui.retrieval import make_retriever
from tests.conftest import SAMPLE_CORPUS

SPECS = ("bm25", "bm25:okapi")  # no model to load: the test stays fast


class _NoSearch:
    def search(self, query: str, k: int):
        raise AssertionError("searched again")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory):
    corpus = load_corpus(SAMPLE_CORPUS)
    indexes = Indexes(corpus)
    retrievers = {spec: make_retriever(spec, indexes) for spec in SPECS}
    folder = tmp_path_factory.mktemp("pool")
    pool = build_pool(folder, corpus, corpus.queries, retrievers)
    runs = search_runs(retrievers, corpus.queries)
    return corpus, retrievers, folder, pool, runs


def test_the_pool_is_built_once_and_reused(bench) -> None:
    corpus, retrievers, folder, pool, _ = bench
    searches = (folder / POOL_FILE).read_text().count("\n")
    assert searches == len(corpus.queries) * len(SPECS)
    unusable = dict.fromkeys(retrievers, _NoSearch())
    again = build_pool(folder, corpus, corpus.queries, unusable)  # nothing searched again
    assert (folder / POOL_FILE).read_text().count("\n") == searches
    assert pool_pairs(again, SPECS) == pool_pairs(pool, SPECS)
    # The judged unit is the qrels': documents.
    documents = {document.doc_id for document in corpus.documents}
    assert {judged_id for _, judged_id in pool_pairs(pool, SPECS)} <= documents


def test_the_budget_sample_is_the_label_screens_queue(bench) -> None:
    corpus, _, _, pool, _ = bench
    sample = budget_sample(pool, corpus, corpus.queries, SPECS, 15, seed=3)
    queue = build_queue(pool, corpus, dict(corpus.queries), QueueDesign(SPECS, 10, 15, 3, False))
    assert sample == [(p.query_id, p.judged.judged_id) for p in queue.pairs]
    assert len(set(sample)) == 15
    assert set(sample) <= set(pool_pairs(pool, SPECS))
    assert budget_sample(pool, corpus, corpus.queries, SPECS, 15, seed=4) != sample


def test_a_simulated_person_grades_as_the_qrels_and_zero_elsewhere(bench) -> None:
    corpus, _, _, pool, _ = bench
    pairs = pool_pairs(pool, SPECS)
    grades = simulated_grades(pairs, corpus.qrels)
    assert sum(len(g) for g in grades.values()) == len(pairs)
    for query_id, judged_id in pairs:
        assert grades[query_id][judged_id] == corpus.qrels.get(query_id, {}).get(judged_id, 0)
    assert any(grade > 0 for g in grades.values() for grade in g.values())
    assert any(grade == 0 for g in grades.values() for grade in g.values())


def test_the_whole_pool_judges_every_top_10_and_keeps_the_numerators(bench) -> None:
    corpus, _, _, pool, runs = bench
    whole = score_with_grades(runs, simulated_grades(pool_pairs(pool, SPECS), corpus.qrels))
    assert whole.judged == {spec: 1.0 for spec in SPECS}
    full = ndcg_table(runs, corpus.qrels)
    for spec in SPECS:
        for query_id, pooled in whole.ndcg[spec].items():
            # The top 10 is graded exactly as the qrels grade it; only the ideal ranking can
            # lack relevant documents the pool missed, which can only raise nDCG.
            assert pooled >= full[spec][query_id] - 1e-12
    # No budget: a query's pool holds every relevant document some retriever ranked in its
    # top 10; a query the pool found nothing relevant for is not scored.
    assert set(whole.ndcg[SPECS[0]]) <= set(corpus.qrels)


def test_a_partial_sample_leaves_top_10s_unjudged(bench) -> None:
    corpus, _, _, pool, runs = bench
    partial = simulated_grades(query_sample(pool_pairs(pool, SPECS), 3, seed=0), corpus.qrels)
    assert len(partial) == 3
    shares = judged_at_k(runs, partial)
    assert all(0 < share < 1 for share in shares.values())


def test_condensed_ndcg_drops_unjudged_documents() -> None:
    runs = {"r": {"q": {"unjudged": 3.0, "rel": 2.0, "non": 1.0}}}
    grades = {"q": {"rel": 2, "non": 0}}
    assert condensed_runs(runs, grades) == {"r": {"q": {"rel": 2.0, "non": 1.0}}}
    scores = score_with_grades(runs, grades)
    assert scores.condensed["r"]["q"] == pytest.approx(1.0)  # the relevant one moves to 1
    assert scores.ndcg["r"]["q"] == pytest.approx(1 / np.log2(3))  # it stays at rank 2
    assert scores.judged == {"r": pytest.approx(2 / 3)}
    assert scores.labels == 2


def test_paired_taus_of_a_ranking_with_itself_and_its_reverse() -> None:
    rng = np.random.default_rng(0)
    reference = {f"s{i}": {f"q{q}": i + rng.normal(0, 0.1) for q in range(30)} for i in range(5)}
    reverse = {f"s{i}": {q: -v for q, v in reference[f"s{i}"].items()} for i in range(5)}
    assert paired_taus(reference, reference, 50, rng) == pytest.approx([1.0] * 50)
    # Means a noise apart: the rounds draw queries, and both sides the same ones.
    close = {f"s{i}": {f"q{q}": i * 0.05 + rng.normal(0, 1) for q in range(30)} for i in range(5)}
    assert paired_taus(close, close, 50, rng) == pytest.approx([1.0] * 50)
    other = {s: {q: v + rng.normal(0, 1) for q, v in scores.items()} for s, scores in close.items()}
    assert len({round(t, 6) for t in paired_taus(close, other, 50, rng)}) > 3
    assert paired_taus(reference, reverse, 50, rng) == pytest.approx([-1.0] * 50)
    # A side scoring only some queries averages over the drawn ones it scores.
    fewer = {s: {q: v for q, v in scores.items() if q < "q2"} for s, scores in reference.items()}
    assert np.nanmin(paired_taus(reference, fewer, 50, rng)) >= 0.6


def test_agreement_below_the_floor_gives_no_tau() -> None:
    reference = {f"s{i}": {f"q{q}": float(i) for q in range(20)} for i in range(4)}
    few = PooledScores(
        labels=5,
        ndcg={s: {"q0": float(i)} for i, s in enumerate(reference)},
        condensed={s: {"q0": float(i)} for i, s in enumerate(reference)},
        judged=dict.fromkeys(reference, 0.1),
    )
    enough = PooledScores(labels=50, ndcg=reference, condensed=reference, judged={})
    found = agreement(reference, [few, enough], "ndcg")
    assert np.isnan(found.taus[0]) and found.taus[1] == 1.0
    assert found.reached() == 0.5
    assert means(reference)["s3"] == 3.0


def test_a_generated_set_is_judged_by_its_source_documents_only(bench) -> None:
    corpus, _, _, _, runs = bench
    records = [
        {"query_id": query_id, "doc_id": next(iter(corpus.qrels[query_id]))}
        for query_id in sorted(corpus.qrels)[:3]
    ]
    grades = source_grades(records)
    assert grades == {r["query_id"]: {r["doc_id"]: 1} for r in records}
    # One judged document per question: of 3 top 10s (bm25 finds fewer than 10 documents
    # for a keyword query), at most 3 documents are judged.
    three = {spec: {q: run[q] for q in grades} for spec, run in runs.items()}
    shown = {spec: sum(min(len(run[q]), 10) for q in grades) for spec, run in three.items()}
    for spec, share in judged_at_k(three, grades).items():
        assert 0 < share * shown[spec] <= 3


def test_one_shot_starts_from_each_querys_best_graded_document() -> None:
    qrels = {"q1": {"d9": 2, "d3": 4, "d5": 4}, "q2": {"d1": 0}, "q3": {"d2": 1}}
    assert known_relevant(qrels) == {"q1": "d3", "q3": "d2"}


def test_auc_counts_ties_as_half_and_needs_both_classes() -> None:
    assert auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert auc([0.5, 0.7], [True, True]) is None


@pytest.fixture
def planted(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A tiny BEIR corpus whose documents carry the grade the scripted labeller gives them
    (``plantedN``), with qrels that agree: a planted grade of 2 or more is relevant."""
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    # No word is shared across the two questions' documents: each pool is its own three.
    documents = {
        "v3": "zorblax valve opening pressure 42 bar planted3",
        "v2": "zorblax valve pressure checked yearly planted2",
        "v0": "zorblax garden furniture planted0",
        "p3": "brine pump motor power 7 kW planted3",
        "p1": "brine well planted1",
        "p0": "pump station roof planted0",
    }
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in documents.items())
    )
    (root / "queries.jsonl").write_text(
        '{"_id": "1", "text": "zorblax valve opening pressure"}\n'
        '{"_id": "2", "text": "brine pump motor power"}\n'
    )
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\tv3\t4\n1\tv2\t2\n2\tp3\t4\n"
    )
    return load_corpus(root), tmp_path


@pytest.mark.parametrize("method", ["pointwise", "one-shot"])
def test_a_labeller_grades_the_label_screens_pairs_through_the_labeller_module(
    planted, method: str
) -> None:
    corpus, tmp_path = planted
    retrievers = {"bm25": make_retriever("bm25", Indexes(corpus, cache_root=tmp_path / "c"))}
    pool = build_pool(tmp_path / "pool", corpus, corpus.queries, retrievers, depth=3)
    queue = build_queue(
        pool, corpus, dict(corpus.queries), QueueDesign(("bm25",), 3, None, 0, False)
    )
    known = known_relevant(corpus.qrels)
    folder = tmp_path / "grades"
    run = run_labeller("openai:label-planted", method, list(queue.pairs), corpus, folder, known)
    expected = {
        (pair.query_id, pair.judged.judged_id): int(pair.judged.text[-1]) for pair in queue.pairs
    }
    if method == "one-shot":  # the known document is not asked: the set already knows it
        expected = {pair: g for pair, g in expected.items() if pair[1] != known[pair[0]]}
    assert run.grades == expected and run.asked == len(expected) and run.failed == 0
    found = labeller_agreement(run, corpus.qrels, rounds=50)
    assert found["pairs"] == len(expected) and found["kappa"] == 1.0 and found["auc"] == 1.0
    # A second run asks nothing: the grades come back from the store.
    again = run_labeller("openai:label-planted", method, list(queue.pairs), corpus, folder, known)
    assert again.grades == run.grades and again.asked == 0


def test_the_agreement_sample_is_half_relevant_half_not(bench) -> None:
    corpus, _, _, pool, _ = bench
    pairs = agreement_sample(pool, corpus, SPECS, 8, seed=1)
    keys = [(pair.query_id, pair.judged.judged_id) for pair in pairs]
    grades = [corpus.qrels.get(q, {}).get(d, 0) for q, d in keys]
    assert len(set(keys)) == 8 and set(keys) <= set(pool_pairs(pool, SPECS))
    assert sum(grade > 0 for grade in grades) == 4
    assert agreement_sample(pool, corpus, SPECS, 8, seed=1) == pairs
