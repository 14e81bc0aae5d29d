"""From a finished grid to the decision: which components are good enough, the Pareto
frontier of pipelines, and the threshold effect — on the primary metric of each stage.

The rules are ``ragtui.evidence_rules``'s: a failed answer scores as a wrong one and its
time counts as slower than any answer, every stage compares its contenders on the same
queries, and all verdicts of the report are one Bonferroni family.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ragtui.errors import RagtuiError
from ragtui.evidence_rules import (
    CONFIDENCE,
    GOOD_ENOUGH_FAMILY,
    VERDICT_FLOOR,
    bonferroni_confidence,
    too_few,
)
from ragtui.experiment.stats.good_enough import (
    DEFAULT_MARGIN,
    GOOD_ENOUGH,
    Contender,
    Margin,
    Point,
    StagePlan,
    clearly_worse,
    describe_entry,
    frontier_steps,
    judge_plan,
    margin_note,
    pareto_frontier,
    plan_stage,
    quality_intervals,
)
from ragtui.experiment.stats.threshold import threshold_effect
from ragtui.metrics import retrieval_names

# Answer metrics in the order a default is looked for: F1 needs reference answers, the
# judge's correctness needs a --judge,
# groundedness needs none.
DEFAULT_ANSWER_METRICS = ("f1", "judge_correctness", "groundedness")
REFERENCE_METRICS = ("f1", "exact_match", "answer_recall")
# Other answer metrics a good-enough pipeline is checked against ("clearly worse on …").
CHECKED_ANSWER_METRICS = (
    "f1",
    "answer_recall",
    "exact_match",
    "groundedness",
    "judge_correctness",
    "judge_faithfulness",
)


def parse_primary(text: str | None) -> tuple[str, ...]:
    """The names of ``--primary``; an empty value is refused (leave the option out)."""
    if text is None:
        return ()
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",")))
    if not any(names):
        raise RagtuiError(
            f"--primary {text!r} names no metric: leave it out for the defaults, or name one "
            "retrieval and/or one answer metric"
        )
    if "" in names:
        raise RagtuiError(f"--primary {text!r} has an empty name between commas")
    return names


def check_primary(names: Sequence[str], k: int, answer_metrics: Sequence[str]) -> None:
    """Refuse a --primary name that no stage scores or that would be left unused, before
    any work starts: at most one retrieval and one answer metric are used."""
    known = [*retrieval_names(k), *answer_metrics]
    for name in names:
        if name not in known:
            raise RagtuiError(f"--primary {name!r}: use one of {', '.join(known)}")
    retrieval = [name for name in names if name in retrieval_names(k)]
    answer = [name for name in names if name not in retrieval_names(k)]
    for kind, chosen in (("retrieval", retrieval), ("answer", answer)):
        if len(chosen) > 1:
            raise RagtuiError(
                f"--primary {','.join(names)}: the verdicts use one {kind} metric, not "
                f"{len(chosen)} ({', '.join(chosen)}); keep one"
            )


def check_primary_for_dataset(names: Sequence[str], has_qrels: bool, has_answers: bool) -> None:
    """Refuse a --primary metric this dataset cannot score (it would be silently replaced)."""
    for name in names:
        if name in REFERENCE_METRICS and not has_answers:
            raise RagtuiError(
                f"--primary {name}: the dataset has no reference answers (answers.jsonl), so "
                f"{name} cannot be scored; use groundedness, or a judge metric with --judge"
            )
        if ("@" in name or name == "MAP") and not has_qrels:
            raise RagtuiError(
                f"--primary {name}: the dataset has no relevance judgments, so retrieval "
                "metrics are skipped; leave the retrieval metric out"
            )


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


def median_counting_failures(values: Sequence[float | None], failures: int) -> float | None:
    """Median time with each failure counted as slower than any answer, so a fast failure
    never makes a pipeline look quick; None when half or more failed (no median answer)."""
    times = [float(value) for value in values if value is not None]
    times += [math.inf] * failures
    if not times:
        return None
    median = float(np.median(times))
    return median if math.isfinite(median) else None


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
    """Each generator's score per query, averaged over the retrievers of the grid (a query
    some retriever's cell has no score for is left out, for every generator alike)."""
    plan = run.plan
    contenders = []
    for generator in plan.generators:
        scores: dict[str, float | None] = {}
        for query_id in run.dataset.queries:
            values = [
                figures.get((retriever, generator, query_id), {}).get(metric)
                for retriever in plan.retrievers
            ]
            present = values and all(value is not None for value in values)
            scores[query_id] = float(np.mean(values)) if present else None
        cells = [cell for cell in run.cells if cell.generator == generator]
        done = [cell for cell in cells if cell.error is None and cell.stats is not None]
        generation_ms = [
            cell.stats.total_ms - (cell.stats.retrieval_ms or 0.0)
            for cell in done
            if cell.stats.total_ms is not None
        ]
        failed = sum(cell.error is not None for cell in cells)
        costs = [cell.stats.cost_usd for cell in cells if cell.stats is not None]
        unknown_cost = not costs or None in costs or len(costs) < len(cells)
        contenders.append(
            Contender(
                name=generator,
                scores={query: value for query, value in scores.items() if value is not None}
                if any(value is not None for value in scores.values())
                else {},
                latency_ms=median_counting_failures(generation_ms, failed),
                cost_usd=None if unknown_cost else float(sum(costs)),  # type: ignore[arg-type]
                failed=failed,
            )
        )
    return contenders


def _pipeline_contenders(run, pipelines: Mapping[str, Any], figures, metric: str):
    contenders = []
    for name, data in pipelines.items():
        retriever, generator = data["retriever"], data["generator"]
        scores = {
            query_id: value[metric]
            for (r, g, query_id), value in figures.items()
            if r == retriever and g == generator and value.get(metric) is not None
        }
        cells = [c for c in run.cells if c.retriever == retriever and c.generator == generator]
        totals = [
            cell.stats.total_ms for cell in cells if cell.error is None and cell.stats is not None
        ]
        contenders.append(
            Contender(
                name=name,
                scores=scores,
                latency_ms=median_counting_failures(totals, data["failed"]),
                # A failed call may have cost something the backend never reported.
                cost_usd=data["cost_usd_total"] if not data["failed"] else None,
                failed=data["failed"],
            )
        )
    return contenders


def _check_other_metrics(
    entries: list[dict],
    plan: StagePlan,
    others: Mapping[str, list[Contender]],
    margin: Margin,
    labels: Mapping[str, str],
) -> int:
    """Mark a good-enough entry that is clearly worse on another reported answer metric;
    the number of checks made (each an interval at the verdicts' level, outside their m)."""
    checks = 0
    for entry in entries:
        if entry["verdict"] != GOOD_ENOUGH:
            continue
        worse = []
        for metric, contenders in others.items():
            by_name = {contender.name: contender for contender in contenders}
            best, candidate = by_name.get(entry["best"]), by_name.get(entry["candidate"])
            if best is None or candidate is None:
                continue
            # The same queries as the verdict, where this metric has a value for both.
            queries = [q for q in plan.best.scores if q in best.scores and q in candidate.scores]
            best = replace(best, scores={q: best.scores[q] for q in queries})
            candidate = replace(candidate, scores={q: candidate.scores[q] for q in queries})
            checks += 1
            found = clearly_worse(
                best, candidate, margin.of(best.mean), entry["confidence"], seed=len(worse)
            )
            if found is not None:
                worse.append({"metric": metric, "label": labels.get(metric, metric), **found})
        entry["clearly_worse_on"] = worse
    return checks


def decide(
    run,
    figures: Mapping[tuple[str, str, str], Mapping[str, Any]],
    retrieval: Mapping[str, Any],
    per_query_retrieval: Mapping[str, Any],
    pipelines: Mapping[str, Any],
    answer_labels: Mapping[str, str],
    margin: float | Margin = DEFAULT_MARGIN,
    primary: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``decision`` part of results.json: primary metrics, verdicts, frontier, threshold."""
    chosen = margin if isinstance(margin, Margin) else Margin(margin)
    plan = run.plan
    retrieval_metric, answer_metric = primary_metrics(primary, plan.k, pipelines)
    labels = {**answer_labels, retrieval_metric: retrieval_metric}
    stages: list[StagePlan] = []
    retriever_plan = plan_stage(
        "retriever",
        retrieval_metric,
        _retriever_contenders(plan, retrieval, per_query_retrieval, retrieval_metric),
    )
    stages += [retriever_plan] if retriever_plan else []
    frontier: list[str] = []
    quality: dict[str, Any] = {}
    # Each pipeline's mean with its interval on every checked answer metric, for the
    # terminal's quality × latency chart, whose metric the user switches.
    quality_by_metric: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    threshold = None
    others: dict[str, dict[str, list[Contender]]] = {}
    if answer_metric is not None:
        generator_plan = plan_stage(
            "generator", answer_metric, _generator_contenders(run, figures, answer_metric)
        )
        pipeline_contenders = _pipeline_contenders(run, pipelines, figures, answer_metric)
        pipeline_plan = plan_stage("pipeline", answer_metric, pipeline_contenders)
        stages += [stage for stage in (generator_plan, pipeline_plan) if stage]
        # The frontier compares pipelines on the same queries too.
        shown = pipeline_plan.contenders if pipeline_plan else pipeline_contenders
        frontier = pareto_frontier(
            [Point(c.name, c.mean, c.latency_ms, c.cost_usd) for c in shown if c.scores]
        )
        # Each point's interval, and whether the data separates neighbours on the frontier.
        quality = quality_intervals([c for c in shown if c.scores])
        steps = frontier_steps(shown, frontier)
        threshold = threshold_effect(run, figures, answer_metric, answer_labels[answer_metric])
        reported = [
            metric
            for metric in CHECKED_ANSWER_METRICS
            if metric != answer_metric
            and metric in answer_labels
            and any(data["mean"].get(metric) is not None for data in pipelines.values())
        ]
        others["generator"] = {m: _generator_contenders(run, figures, m) for m in reported}
        others["pipeline"] = {m: _pipeline_contenders(run, pipelines, figures, m) for m in reported}
        quality_by_metric = {answer_metric: quality} | {
            m: quality_intervals([c for c in others["pipeline"][m] if c.scores]) for m in reported
        }
    claims = sum(stage.claims for stage in stages)
    entries: list[dict[str, Any]] = []
    notes: list[str] = []
    checks = 0
    for stage in stages:
        stage_entries = judge_plan(stage, chosen, claims)
        checks += _check_other_metrics(
            stage_entries, stage, others.get(stage.stage, {}), chosen, labels
        )
        entries += stage_entries
        shared = len(stage.best.scores)
        if not VERDICT_FLOOR.met(shared):
            if not stage_entries:  # nothing else would say why there is no verdict
                notes.append(
                    f"{stage.stage.capitalize()}s: {too_few(shared)}; a good-enough verdict "
                    f"needs at least {VERDICT_FLOOR.minimum} queries scored by every "
                    f"{stage.stage}."
                )
            continue
        note = margin_note(stage, chosen, labels.get(stage.metric, stage.metric))
        if note and stage_entries:
            notes.append(note)
    for entry in entries:
        entry["sentence"] = describe_entry(entry, labels.get(entry["metric"]))
    return {
        "primary": {
            "retriever": retrieval_metric,
            "answer": answer_metric,
            "answer_label": answer_labels.get(answer_metric or "", answer_metric),
        },
        # A number for charts: the margin itself, or (a share) the answer stage's in units.
        "margin": _margin_number(chosen, stages),
        "margin_spec": chosen.text(),
        "good_enough": entries,
        "good_enough_rules": {
            "floor": VERDICT_FLOOR.minimum,
            "claims": claims,
            "correction": GOOD_ENOUGH_FAMILY.correction,
            "confidence": bonferroni_confidence(claims),
            # "Clearly worse on …" checks use the same level but are not counted in the
            # verdicts' family (they are made only for verdicts found good enough): the
            # union bound gives what verdicts and checks hold at together.
            "clearly_worse_checks": checks,
            "joint_confidence": joint_confidence(claims, checks),
        },
        "not_tested": [
            {"stage": stage.stage, "candidate": name, "best": stage.best.name}
            for stage in stages
            for name in stage.not_tested
        ],
        "left_out": {stage.stage: list(stage.left_out) for stage in stages if stage.left_out},
        "margin_notes": notes,
        "pareto": frontier,
        "pareto_quality": quality,
        "quality_intervals": quality_by_metric,
        "pareto_steps": steps,
        "threshold": threshold,
    }


def joint_confidence(claims: int, checks: int) -> float:
    """At least how confident all ``claims`` verdicts and ``checks`` clearly-worse checks
    are together, each interval at ``bonferroni_confidence(claims)`` (Bonferroni)."""
    if claims == 0:
        return CONFIDENCE
    return max(0.0, 1 - (1 - CONFIDENCE) * (claims + checks) / claims)


def _margin_number(margin: Margin, stages: Sequence[StagePlan]) -> float:
    if not margin.share or not stages:
        return margin.value
    return margin.of(stages[-1].best.mean)
