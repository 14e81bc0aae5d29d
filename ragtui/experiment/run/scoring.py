"""Turn a finished grid into figures: retrieval metrics per retriever, answer metrics,
latency and cost per pipeline, attribution, pairwise tests and the vote strengths.

Retrieval metrics follow trec_eval (computed by pytrec_eval on the very runs written to
``runs/``): P@k, Recall@k, nDCG@k (``ndcg_cut``), MAP over the whole run, and MRR@k as
``recip_rank`` over each run's top k (ties ordered as trec_eval orders them: by score,
then by id, both descending). Means are over judged queries; a judged query a retriever
returned nothing for counts as 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from ragtui.evidence_rules import (
    CORRELATION_FLOOR,
    FAILED_SCORE,
    JUDGED_SHARE_FLOOR,
    PAIRWISE_FLOOR,
)
from ragtui.experiment.run.answer_metrics import answer_figures
from ragtui.experiment.run.grid import Cell, GridRun
from ragtui.experiment.stats.attribution import Attribution, attribute, describe
from ragtui.experiment.stats.comparisons import (
    adjust_p_values,
    bradley_terry_with_intervals,
    compare_paired,
    percentile,
)
from ragtui.experiment.stats.decision import REFERENCE_METRICS, decide
from ragtui.experiment.stats.good_enough import DEFAULT_MARGIN, Margin
from ragtui.metrics import (
    condensed_ndcg,
    judged_at_k,
    retrieval_names,
    score_retrieval,
    scores_by_unit,
    trec_order,
)

ANSWER_METRICS = ("f1", "exact_match", "answer_recall", "groundedness", "citation_validity")
ANSWER_LABELS = {
    "f1": "answer F1",
    "exact_match": "exact match",
    "answer_recall": "answer recall",
    "groundedness": "groundedness",
    "citation_validity": "citation validity",
}
COMPARED_METRICS = ("f1", "answer_recall", "groundedness", "total_ms")


def build_runs(run: GridRun) -> dict[str, dict[str, dict[str, float]]]:
    """retriever → query → judged id → score; a document scores as its best passage."""
    runs: dict[str, dict[str, dict[str, float]]] = {}
    for (retriever, query_id), retrieval in run.retrievals.items():
        scores = scores_by_unit(retrieval.hits, run.dataset.judged_unit)
        runs.setdefault(retriever, {})[query_id] = scores
    return runs


def coverage_names(k: int) -> tuple[str, str]:
    """The names of judged@k and nDCG′@k in results.json and per_query.csv."""
    return f"judged@{k}", f"nDCG'@{k}"


def score_coverage(qrels, runs_of_retriever, k: int) -> dict[str, dict[str, float]]:
    """Per judged query: judged@k and nDCG′@k (``ragtui.metrics``)."""
    judged_name, prime_name = coverage_names(k)
    shares = judged_at_k(qrels, runs_of_retriever, k)
    primes = condensed_ndcg(qrels, runs_of_retriever, k)
    return {
        query_id: {judged_name: shares[query_id], prime_name: primes[query_id]}
        for query_id in shares
    }


def unjudged_pool(
    runs: Mapping[str, Mapping[str, Mapping[str, float]]],
    qrels: Mapping[str, Mapping[str, int]],
    queries: Sequence[str],
    k: int,
) -> dict[str, int]:
    """The pool of this eval (per query, the union of every retriever's top k) and how
    much of it holds no judgment: {"pairs": n, "unjudged": n}."""
    pairs = unjudged = 0
    for query_id in queries:
        pool = {
            judged_id
            for by_query in runs.values()
            for judged_id in trec_order(by_query.get(query_id, {}))[:k]
        }
        grades = qrels.get(query_id, {})
        pairs += len(pool)
        unjudged += sum(judged_id not in grades for judged_id in pool)
    return {"pairs": pairs, "unjudged": unjudged}


def _mean(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.mean(present)) if present else None


def cell_figures(run: GridRun) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(retriever, generator, query id) → answer metrics of that cell.

    A failed answer counts as a wrong one (``FAILED_SCORE`` on every metric the query can
    be scored on), so a pipeline never gains by failing; whether the passages held the
    answer is about retrieval and is kept.
    """
    figures = {}
    for cell in run.cells:
        references = run.dataset.answers.get(cell.query_id)
        scores: dict[str, Any] = answer_figures(cell.answer, references, cell.context)
        if cell.error is not None:
            for name in ANSWER_METRICS:
                if name == "citation_validity" or (name in REFERENCE_METRICS and not references):
                    scores[name] = None  # not defined for this query or answer anyway
                else:
                    scores[name] = FAILED_SCORE
        figures[(cell.retriever, cell.generator, cell.query_id)] = scores
    return figures


def add_judged_scores(run: GridRun, figures, judged) -> None:
    """The judge's scores joined to the answer metrics; an answer that failed (so was never
    judged) counts as a wrong one, an abstention stays unknown."""
    from ragtui.experiment.run.judged_grid import JUDGE_METRICS

    measured = [metric for metric in JUDGE_METRICS if metric.split("_", 1)[1] in judged.kinds]
    for key, scores in figures.items():
        scores.update(judged.scores.get(key, {}))
    for cell in run.cells:
        if cell.error is not None:
            scores = figures[(cell.retriever, cell.generator, cell.query_id)]
            scores.update(dict.fromkeys(measured, FAILED_SCORE))


def _latency(cells: Sequence[Cell]) -> dict[str, Any]:
    done = [cell.stats for cell in cells if cell.stats is not None and cell.error is None]
    table: dict[str, Any] = {}
    for name in ("retrieval_ms", "ttft_ms", "total_ms", "tokens_per_s"):
        values = [getattr(stats, name) for stats in done]
        table[name] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    prompt = [stats.prompt_tokens for stats in done if stats.prompt_tokens is not None]
    completion = [stats.completion_tokens for stats in done if stats.completion_tokens is not None]
    costs = [stats.cost_usd for stats in done]
    table["prompt_tokens_mean"] = float(np.mean(prompt)) if prompt else None
    table["completion_tokens_mean"] = float(np.mean(completion)) if completion else None
    table["tokens_estimated"] = any(stats.tokens_estimated for stats in done)
    table["cost_usd_total"] = (
        None if not costs or any(cost is None for cost in costs) else float(sum(costs))
    )
    table["timing_modes"] = sorted({stats.timing_mode for stats in done})
    return table


def _grid_scores(
    figures: Mapping[tuple[str, str, str], Mapping[str, Any]],
    metric: str,
    queries: Sequence[str],
    retrievers: Sequence[str],
    generators: Sequence[str],
) -> tuple[np.ndarray, list[str]]:
    """[query, retriever, generator] for the queries with a value in every cell."""
    rows, kept = [], []
    for query_id in queries:
        block = [
            [figures.get((r, g, query_id), {}).get(metric) for g in generators] for r in retrievers
        ]
        if all(value is not None for row in block for value in row):
            rows.append(block)
            kept.append(query_id)
    return np.array(rows, dtype=float).reshape(len(rows), len(retrievers), len(generators)), kept


def _attribution_json(attribution: Attribution, label: str) -> dict[str, Any]:
    def effect(value):
        return None if value is None else asdict(value)

    return {
        "queries": attribution.queries,
        "terms": [asdict(term) for term in attribution.terms],
        "retriever_effect": effect(attribution.retriever),
        "generator_effect": effect(attribution.generator),
        "interaction": effect(attribution.interaction),
        "cell_means": {
            f"{r}+{g}": float(attribution.cell_means[i, j])
            for i, r in enumerate(attribution.retrievers)
            for j, g in enumerate(attribution.generators)
        },
        "findings": describe(attribution, label),
    }


def _comparison(first: Sequence[float], second: Sequence[float], seed: int) -> dict | None:
    """The paired test, or below ``PAIRWISE_FLOOR`` (or with no spread) the mean difference
    alone, marked ``too_few``; None when no query has both."""
    if not first:
        return None
    result = compare_paired(first, second, seed=seed)
    interval = None if result is None else (result.ci_low, result.ci_high)
    if result is None or not PAIRWISE_FLOOR.met(len(first), interval):
        difference = float(np.mean(np.asarray(second) - np.asarray(first)))
        return {"mean_difference": difference, "n": len(first), "too_few": True}
    return asdict(result)


def _paired_values(
    values: Mapping[tuple[str, str, str], float | None],
    first: tuple[str, str],
    second: tuple[str, str],
    queries: Sequence[str],
) -> tuple[list[float], list[float]]:
    a, b = [], []
    for query_id in queries:
        x, y = values.get((*first, query_id)), values.get((*second, query_id))
        if x is not None and y is not None:
            a.append(x)
            b.append(y)
    return a, b


def summarize(
    run: GridRun,
    votes: Sequence[Any] = (),
    margin: float | Margin = DEFAULT_MARGIN,
    primary: Sequence[str] = (),
    judged: Any = None,
    judge: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as plain JSON-able values.

    ``judged`` (a JudgedGrid) adds the judge's graded scores as answer metrics; ``judge``
    is the ``judge`` object of results.json.
    """
    dataset, plan = run.dataset, run.plan
    metrics, labels = ANSWER_METRICS, dict(ANSWER_LABELS)
    if judged is not None:
        from ragtui.experiment.run.judged_grid import JUDGE_LABELS, JUDGE_METRICS

        metrics = (
            *ANSWER_METRICS,
            *(m for m in JUDGE_METRICS if m.split("_", 1)[1] in judged.kinds),
        )
        labels.update(JUDGE_LABELS)
    queries = list(dataset.queries)
    runs = build_runs(run)
    retrieval: dict[str, Any] = {}
    per_query_retrieval: dict[str, dict[str, dict[str, float]]] = {}
    for retriever in plan.retrievers:
        per_query = (
            score_retrieval(dataset.qrels, runs.get(retriever, {}), plan.k) if dataset.qrels else {}
        )
        if per_query:
            coverage = score_coverage(dataset.qrels, runs.get(retriever, {}), plan.k)
            for query_id, figures in per_query.items():
                figures.update(coverage[query_id])
        per_query_retrieval[retriever] = per_query
        results = [run.retrievals[(retriever, query_id)] for query_id in queries]
        times = [result.elapsed_ms for result in results]
        encode_times = [result.encode_ms for result in results]
        engine_times = [result.engine_ms for result in results if result.engine_ms is not None]
        names = [*retrieval_names(plan.k), *coverage_names(plan.k)]
        mean = (
            {
                name: float(np.mean([figures[name] for figures in per_query.values()]))
                for name in names
            }
            if per_query
            else {}
        )
        judged_share = mean.get(coverage_names(plan.k)[0])
        retrieval[retriever] = {
            "mean": mean,
            "judged_queries": len(per_query),
            # The share of its top k holding a judgment, over the judged queries; below
            # the floor its figures count many unjudged passages as not relevant.
            "judged_at_k": judged_share,
            "judged_below_floor": judged_share is not None and judged_share < JUDGED_SHARE_FLOOR,
            "retrieval_ms": {"p50": percentile(times, 50), "p95": percentile(times, 95)},
            # Of which: embedding the query here, and the search engine's own time (request
            # and reply included) when an engine such as Milvus served it.
            "encode_ms": {"p50": percentile(encode_times, 50), "p95": percentile(encode_times, 95)},
            "engine_ms": {"p50": percentile(engine_times, 50), "p95": percentile(engine_times, 95)}
            if engine_times
            else None,
        }

    figures = cell_figures(run)
    if judged is not None:
        add_judged_scores(run, figures, judged)
    pipelines: dict[str, Any] = {}
    for retriever, generator in itertools.product(plan.retrievers, plan.generators):
        cells = [c for c in run.cells if c.retriever == retriever and c.generator == generator]
        pipelines[f"{retriever}+{generator}"] = {
            "retriever": retriever,
            "generator": generator,
            "answers": len(cells),
            "failed": sum(cell.error is not None for cell in cells),
            "from_cache": sum(cell.cached for cell in cells),
            "errors": sorted({cell.error for cell in cells if cell.error})[:3],
            "mean": {
                name: _mean([figures[(retriever, generator, c.query_id)][name] for c in cells])
                for name in (*metrics, "context_has_answer")
            },
            **_latency(cells),
        }

    attribution: dict[str, Any] = {}
    fix_one: dict[str, Any] = {}
    if len(plan.retrievers) > 1 or len(plan.generators) > 1:
        for metric in metrics:
            y, kept = _grid_scores(figures, metric, queries, plan.retrievers, plan.generators)
            if len(kept) < 2:
                continue
            result = attribute(metric, y, plan.retrievers, plan.generators)
            attribution[metric] = _attribution_json(result, labels[metric])
            fix_one[metric] = _fix_one_vary_other(figures, metric, kept, plan)

    pairwise: dict[str, list[dict[str, Any]]] = {}
    names = list(pipelines)
    for metric in COMPARED_METRICS:
        values = _metric_values(run, figures, metric)
        rows = []
        for first, second in itertools.combinations(names, 2):
            a, b = _paired_values(
                values, tuple(first.split("+", 1)), tuple(second.split("+", 1)), queries
            )
            comparison = _comparison(a, b, seed=len(rows))
            if comparison is not None:
                rows.append({"a": first, "b": second, **comparison})
        adjust_p_values(rows)  # all pairs of pipelines on one metric: one family
        if rows:
            pairwise[metric] = rows

    pool_counts = unjudged_pool(runs, dataset.qrels, queries, plan.k)
    return {
        "dataset": {
            "path": str(dataset.corpus.root),
            # What a shared report names the corpus by, instead of a local path.
            "name": dataset.corpus.root.name,
            "content_sha256": dataset.corpus.content_key,
            "queries": len(queries),
            "judged_queries": len([q for q in queries if dataset.qrels.get(q)]),
            "queries_with_answers": len([q for q in queries if dataset.answers.get(q)]),
            "judged_unit": dataset.judged_unit,
            "judgments": dataset.source,
            # Judgments used, by source; "unjudged": this eval's pool (each query's union
            # of every retriever's top k) pairs without any.
            "judgment_counts": {
                **dataset.judgment_counts,
                "unjudged": pool_counts["unjudged"],
            },
            "pool_pairs": pool_counts["pairs"],
            "labeller": None
            if dataset.pooled is None or dataset.pooled.labeller is None
            else dataset.pooled.labeller.describe(),
            "passages": len(dataset.corpus.passages),
            "warnings": list(dataset.warnings),
        },
        "plan": asdict(plan),
        "elapsed_s": run.elapsed_s,
        "generated": dict(run.generated),
        "reused": dict(run.reused),
        "retrieval": retrieval,
        "retrieval_per_query": per_query_retrieval,
        "pipelines": pipelines,
        "attribution": attribution,
        "fix_one_vary_other": fix_one,
        "pairwise": pairwise,
        "retrieval_vs_answer": _retrieval_vs_answer(run, figures, per_query_retrieval),
        "votes": _votes(votes),
        **decide(
            run,
            figures,
            retrieval,
            per_query_retrieval,
            pipelines,
            labels,
            margin=margin,
            primary=primary,
        ),
        "judge": judge,
    }


def _metric_values(
    run: GridRun, figures: Mapping[tuple[str, str, str], Mapping[str, Any]], metric: str
) -> dict[tuple[str, str, str], float | None]:
    if metric in ANSWER_METRICS:
        return {key: value.get(metric) for key, value in figures.items()}
    return {
        (cell.retriever, cell.generator, cell.query_id): getattr(cell.stats, metric, None)
        if cell.error is None
        else None
        for cell in run.cells
    }


def _fix_one_vary_other(figures, metric: str, queries: Sequence[str], plan) -> dict[str, Any]:
    """Each retriever against the first one with the generator fixed, and vice versa."""
    values = {key: value.get(metric) for key, value in figures.items()}
    vary_retriever, vary_generator = [], []
    for generator in plan.generators:
        base = plan.retrievers[0]
        for other in plan.retrievers[1:]:
            a, b = _paired_values(values, (base, generator), (other, generator), queries)
            vary_retriever.append(
                {"fixed": generator, "from": base, "to": other, **(_comparison(a, b, 0) or {})}
            )
    for retriever in plan.retrievers:
        base = plan.generators[0]
        for other in plan.generators[1:]:
            a, b = _paired_values(values, (retriever, base), (retriever, other), queries)
            vary_generator.append(
                {"fixed": retriever, "from": base, "to": other, **(_comparison(a, b, 0) or {})}
            )
    adjust_p_values([*vary_retriever, *vary_generator])  # one family per metric
    return {"vary_retriever": vary_retriever, "vary_generator": vary_generator}


def _retrieval_vs_answer(run: GridRun, figures, per_query_retrieval) -> dict[str, Any]:
    """Per generator: answer F1 with and without a reference answer among the passages it
    read, and the rank correlation between the retriever's nDCG@k and the answer's F1."""
    k = run.plan.k
    table: dict[str, Any] = {}
    for generator in run.plan.generators:
        with_answer, without, ndcg, f1 = [], [], [], []
        for (retriever, gen, query_id), scores in figures.items():
            if gen != generator or scores.get("f1") is None:
                continue
            if scores.get("context_has_answer"):
                with_answer.append(scores["f1"])
            else:
                without.append(scores["f1"])
            judged = per_query_retrieval.get(retriever, {}).get(query_id)
            if judged is not None:
                ndcg.append(judged[f"nDCG@{k}"])
                f1.append(scores["f1"])
        # Below the floor (or with no spread) ρ is left out and the report says n.
        correlation: dict[str, Any] = {"rho": None, "p_value": None, "n": len(f1)}
        if CORRELATION_FLOOR.met(len(f1)) and np.ptp(ndcg) > 0 and np.ptp(f1) > 0:
            rho, p_value = scipy_stats.spearmanr(ndcg, f1)
            correlation = {"rho": float(rho), "p_value": float(p_value), "n": len(f1)}
        table[generator] = {
            "answer_in_context": {"n": len(with_answer), "f1": _mean(with_answer)},
            "answer_not_in_context": {"n": len(without), "f1": _mean(without)},
            "spearman_ndcg_f1": correlation,
        }
    return table


def _votes(votes: Sequence[Any]) -> dict[str, Any]:
    if not votes:
        return {}
    from ragtui.judging.store import win_table

    outcomes = []
    for vote in votes:
        if vote.choice == "a":
            outcomes.append((vote.pipeline_a, vote.pipeline_b, 1.0))
        elif vote.choice == "b":
            outcomes.append((vote.pipeline_a, vote.pipeline_b, 0.0))
        else:  # a tie, and "both bad" (a tie of losers, as in the app's win table)
            outcomes.append((vote.pipeline_a, vote.pipeline_b, 0.5))
    queries = [vote.query_id or vote.query for vote in votes]
    from ragtui.judging.agreement import position_bias

    position = {}
    for name, blind in (("blind", True), ("sighted", False)):
        bias = position_bias([vote.choice for vote in votes if vote.blind is blind])
        position[name] = {**asdict(bias), "share": bias.share, "sentence": bias.sentence()}
    return {
        "votes": len(votes),
        "blind_votes": sum(vote.blind for vote in votes),
        "position_bias": position,
        "pairs": [
            {**asdict(record), "first_win_rate": record.first_win_rate}
            for record in win_table(list(votes))
        ],
        # Whole queries are resampled: the votes on one query share its difficulty.
        "bradley_terry": [
            {**asdict(strength), "p_beats_average": strength.p_beats_average}
            for strength in bradley_terry_with_intervals(outcomes, queries=queries)
        ],
        "bradley_terry_queries": len(set(queries)),
        "bradley_terry_enough": PAIRWISE_FLOOR.met(len(set(queries))),
    }
