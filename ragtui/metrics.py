"""Retrieval metrics with trec_eval's definitions, computed by pytrec_eval.

Judgments may be per document (BEIR qrels) while retrieval returns passages; a document
then ranks by its best passage, so chunking never changes what is being judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pytrec_eval

from ragtui.retrieval import Hit

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def document_ranking(hits: Iterable[Hit]) -> list[str]:
    """Document ids in the order of their best passage."""
    seen: dict[str, None] = {}
    for hit in sorted(hits, key=lambda hit: hit.rank):
        seen.setdefault(hit.doc_id, None)
    return list(seen)


def run_from_rankings(rankings: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """A run whose scores fall strictly with rank, so trec_eval keeps our order exactly."""
    return {
        query_id: {
            doc_id: float(len(ranking) - position) for position, doc_id in enumerate(ranking)
        }
        for query_id, ranking in rankings.items()
    }


def measure_names(k_values: Sequence[int] = (10,)) -> set[str]:
    names = {"map", "recip_rank"}
    for k in k_values:
        names |= {f"ndcg_cut.{k}", f"P.{k}", f"recall.{k}"}
    return names


def evaluate(
    qrels: Qrels,
    run: Run,
    measures: set[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Per-query figures (keys like ``ndcg_cut_10``) for the queries that have judgments."""
    judged = {query_id: dict(judgments) for query_id, judgments in qrels.items() if query_id in run}
    scored = {query_id: dict(run[query_id]) for query_id in judged}
    evaluator = pytrec_eval.RelevanceEvaluator(judged, measures or measure_names())
    return evaluator.evaluate(scored)


def mean_over_queries(
    per_query: Mapping[str, Mapping[str, float]], query_ids: Iterable[str]
) -> dict[str, float]:
    """Means over query_ids; a judged query missing from the run counts as 0, as trec_eval -c."""
    ids = list(query_ids)
    if not ids:
        return {}
    names = sorted({name for figures in per_query.values() for name in figures})
    return {
        name: sum(per_query.get(query_id, {}).get(name, 0.0) for query_id in ids) / len(ids)
        for name in names
    }


def ranking_figures(
    labels: Mapping[str, int], ranked_ids: Sequence[str], k: int
) -> dict[str, float]:
    """P@k, Recall@k, nDCG@k and MRR of one ranking against one query's graded labels.

    Recall counts every labelled-relevant id (grade ≥ 1), including ones this ranking missed.
    """
    if not labels or not ranked_ids:
        return {}
    run = run_from_rankings({"q": list(ranked_ids)})
    figures = evaluate(
        {"q": dict(labels)}, run, {f"P.{k}", f"recall.{k}", f"ndcg_cut.{k}", "recip_rank"}
    )
    per_query = figures.get("q", {})
    return {
        "P": per_query.get(f"P_{k}", 0.0),
        "Recall": per_query.get(f"recall_{k}", 0.0),
        "nDCG": per_query.get(f"ndcg_cut_{k}", 0.0),
        "MRR": per_query.get("recip_rank", 0.0),
    }
