"""Retrieval metrics with trec_eval's definitions, computed by pytrec_eval.

Judgments may be per document (BEIR qrels) while retrieval returns passages; a document
then ranks by its best passage, so chunking never changes what is being judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ragtui.judged_unit import id_in_unit
from ragtui.retrieval.types import Hit

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
    # pytrec_eval brings numpy; the compare screen imports this module before it draws.
    import pytrec_eval

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


def retrieval_names(k: int) -> dict[str, str]:
    """Our metric names → pytrec_eval's result keys."""
    return {
        f"P@{k}": f"P_{k}",
        f"Recall@{k}": f"recall_{k}",
        f"MRR@{k}": "recip_rank",
        f"nDCG@{k}": f"ndcg_cut_{k}",
        "MAP": "map",
    }


def trec_order(scores: Mapping[str, float]) -> list[str]:
    """Ids as trec_eval ranks them: score descending, ties by id descending."""
    return [
        judged_id
        for judged_id, _ in sorted(
            scores.items(), key=lambda item: (item[1], item[0]), reverse=True
        )
    ]


def scores_by_unit(hits: Iterable[Hit], unit: str) -> dict[str, float]:
    """A run for one query: passage ids, or document ids scored by their best passage."""
    scores: dict[str, float] = {}
    for hit in hits:
        key = id_in_unit(hit.doc_id, hit.passage_id, unit)
        if key not in scores or hit.score > scores[key]:
            scores[key] = float(hit.score)
    return scores


def score_retrieval(
    qrels: Qrels,
    run: Run,
    k: int,
) -> dict[str, dict[str, float]]:
    """Per judged query: P@k, Recall@k, MRR@k, nDCG@k and MAP.

    The one implementation behind the app's live figures and ``ragtui eval``. MRR@k is
    ``recip_rank`` over the run's top k in trec_eval's order; a judged query with an
    empty run counts 0.
    """
    names = retrieval_names(k)
    judged = [query_id for query_id, grades in qrels.items() if grades]
    full = {query_id: dict(run.get(query_id, {})) for query_id in judged}
    # trec_eval skips queries with an empty run; give them a placeholder so they count 0.
    full = {query_id: scores or {"\u2205": 0.0} for query_id, scores in full.items()}
    top_k = {
        query_id: {judged_id: scores[judged_id] for judged_id in trec_order(scores)[:k]}
        for query_id, scores in full.items()
    }
    whole = evaluate(qrels, full, {f"P.{k}", f"recall.{k}", f"ndcg_cut.{k}", "map"})
    cut = evaluate(qrels, top_k, {"recip_rank"})
    return {
        query_id: {
            name: (cut if key == "recip_rank" else whole)[query_id][key]
            for name, key in names.items()
        }
        for query_id in judged
    }


def judged_at_k(qrels: Qrels, run: Run, k: int) -> dict[str, float]:
    """Per judged query: the share of the run's top k (trec_eval's order) that holds a
    judgment of any grade, 0 included.

    The share is of what the run returned, up to k (a run of 4 passages fully judged is
    100%); a judged query with an empty run counts 0, as it does in the other metrics.
    """
    shares: dict[str, float] = {}
    for query_id, grades in qrels.items():
        if not grades:
            continue
        top = trec_order(run.get(query_id, {}))[:k]
        shares[query_id] = sum(judged_id in grades for judged_id in top) / len(top) if top else 0.0
    return shares


def condensed_ndcg(qrels: Qrels, run: Run, k: int) -> dict[str, float]:
    """Per judged query: nDCG′@k (Sakai 2007), nDCG@k of the condensed list.

    Unjudged ids are removed from the ranking before cutting it at k, so an unjudged
    passage counts neither for nor against a retriever; the gains and the ideal ranking
    are trec_eval's ``ndcg_cut`` (a grade is its gain). A query whose condensed list is
    empty scores 0. This is what trec_eval computes with ``-J``.
    """
    judged = [query_id for query_id, grades in qrels.items() if grades]
    condensed = {
        query_id: {
            judged_id: score
            for judged_id, score in run.get(query_id, {}).items()
            if judged_id in qrels[query_id]
        }
        for query_id in judged
    }
    # trec_eval skips queries with an empty run; a placeholder makes them count 0.
    condensed = {query_id: scores or {"\u2205": 0.0} for query_id, scores in condensed.items()}
    figures = evaluate(qrels, condensed, {f"ndcg_cut.{k}"})
    return {query_id: figures[query_id][f"ndcg_cut_{k}"] for query_id in judged}


def live_figures(
    judgments: Mapping[str, int], hits: Sequence[Hit], k: int, unit: str
) -> dict[str, float]:
    """P@k, Recall@k, nDCG@k and MRR@k of one query's hits, exactly as ``ragtui eval`` scores.

    ``unit`` says what ``judgments`` name: ``passage`` ids or ``document`` ids (a document
    then scores as its best passage). Recall counts every judged-relevant id, including
    ones these hits missed.
    """
    if not judgments:
        return {}
    figures = score_retrieval({"q": dict(judgments)}, {"q": scores_by_unit(hits, unit)}, k)
    return figures.get("q", {})
