"""From a finished grid to the decision: which components are good enough, the Pareto
frontier of pipelines, and the threshold effect — on the primary metric of each stage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ragtui.errors import RagtuiError
from ragtui.experiment.statistics import percentile
from ragtui.experiment.threshold import threshold_effect
from ragtui.experiment.verdict import (
    DEFAULT_MARGIN,
    Contender,
    Point,
    describe_entry,
    judge_stage,
    pareto_frontier,
)
from ragtui.metrics import retrieval_names

# Answer metrics in the order a default is looked for: F1 needs reference answers, the
# judge's correctness needs a --judge,
# groundedness needs none.
DEFAULT_ANSWER_METRICS = ("f1", "judge_correctness", "groundedness")


def check_primary(names: Sequence[str], k: int, answer_metrics: Sequence[str]) -> None:
    """Refuse a --primary name that no stage scores, before any work starts."""
    known = [*retrieval_names(k), *answer_metrics]
    for name in names:
        if name not in known:
            raise RagtuiError(f"--primary {name!r}: use one of {', '.join(known)}")


def primary_metrics(
    primary: Sequence[str], k: int, pipelines: Mapping[str, Any]
) -> tuple[str, str | None]:
    """(retrieval metric, answer metric); the answer metric is None when no pipeline has one."""
    retrieval = next((name for name in primary if name in retrieval_names(k)), f"nDCG@{k}")
    chosen = [name for name in primary if name not in retrieval_names(k)]
    for name in [*chosen, *DEFAULT_ANSWER_METRICS]:
        if any(data["mean"].get(name) is not None for data in pipelines.values()):
            return retrieval, name
    return retrieval, None


def _retriever_contenders(
    plan, retrieval: Mapping[str, Any], per_query: Mapping[str, Any], metric: str
) -> list[Contender]:
    return [
        Contender(
            name=retriever,
            scores={query: figures[metric] for query, figures in per_query[retriever].items()},
            latency_ms=retrieval[retriever]["retrieval_ms"]["p50"],
            cost_usd=None,
        )
        for retriever in plan.retrievers
        if per_query.get(retriever)
    ]


def _generator_contenders(run, figures, metric: str) -> list[Contender]:
    """Each generator's score per query, averaged over the retrievers of the grid."""
    plan = run.plan
    contenders = []
    for generator in plan.generators:
        scores = {}
        for query_id in run.dataset.queries:
            values = [
                figures.get((retriever, generator, query_id), {}).get(metric)
                for retriever in plan.retrievers
            ]
            if values and all(value is not None for value in values):
                scores[query_id] = float(np.mean(values))
        cells = [
            cell
            for cell in run.cells
            if cell.generator == generator and cell.error is None and cell.stats is not None
        ]
        generation_ms = [
            cell.stats.total_ms - (cell.stats.retrieval_ms or 0.0)
            for cell in cells
            if cell.stats.total_ms is not None
        ]
        costs = [cell.stats.cost_usd for cell in cells]
        contenders.append(
            Contender(
                name=generator,
                scores=scores,
                latency_ms=percentile(generation_ms, 50),
                cost_usd=None if not costs or None in costs else float(sum(costs)),
            )
        )
    return contenders


def _pipeline_contenders(pipelines: Mapping[str, Any], figures, metric: str) -> list[Contender]:
    contenders = []
    for name, data in pipelines.items():
        retriever, generator = data["retriever"], data["generator"]
        scores = {
            query_id: value[metric]
            for (r, g, query_id), value in figures.items()
            if r == retriever and g == generator and value.get(metric) is not None
        }
        contenders.append(
            Contender(
                name=name,
                scores=scores,
                latency_ms=data["total_ms"]["p50"],
                cost_usd=data["cost_usd_total"],
            )
        )
    return contenders


def decide(
    run,
    figures: Mapping[tuple[str, str, str], Mapping[str, Any]],
    retrieval: Mapping[str, Any],
    per_query_retrieval: Mapping[str, Any],
    pipelines: Mapping[str, Any],
    answer_labels: Mapping[str, str],
    margin: float = DEFAULT_MARGIN,
    primary: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``decision`` part of results.json: primary metrics, verdicts, frontier, threshold."""
    plan = run.plan
    retrieval_metric, answer_metric = primary_metrics(primary, plan.k, pipelines)
    entries = judge_stage(
        "retriever",
        retrieval_metric,
        _retriever_contenders(plan, retrieval, per_query_retrieval, retrieval_metric),
        margin,
    )
    frontier: list[str] = []
    threshold = None
    if answer_metric is not None:
        entries += judge_stage(
            "generator", answer_metric, _generator_contenders(run, figures, answer_metric), margin
        )
        pipeline_contenders = _pipeline_contenders(pipelines, figures, answer_metric)
        entries += judge_stage("pipeline", answer_metric, pipeline_contenders, margin)
        frontier = pareto_frontier(
            [
                Point(c.name, c.mean, c.latency_ms, c.cost_usd)
                for c in pipeline_contenders
                if c.scores
            ]
        )
        threshold = threshold_effect(run, figures, answer_metric, answer_labels[answer_metric])
    for entry in entries:
        entry["sentence"] = describe_entry(entry, answer_labels.get(entry["metric"]))
    return {
        "primary": {
            "retriever": retrieval_metric,
            "answer": answer_metric,
            "answer_label": answer_labels.get(answer_metric or "", answer_metric),
        },
        "margin": margin,
        "good_enough": entries,
        "pareto": frontier,
        "threshold": threshold,
    }
