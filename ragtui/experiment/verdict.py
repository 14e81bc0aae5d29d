"""Is a faster or cheaper component good enough? Non-inferiority against the best, and the
Pareto frontier of pipelines over quality, latency and cost.

A candidate is *good enough* when the lower end of the paired bootstrap 95% interval of
``candidate − best`` lies above ``−margin``: whatever it loses is, with 97.5% confidence,
less than the margin. It is *worse* when the whole interval lies below ``−margin``, and
otherwise the queries cannot tell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ragtui.experiment.formatting import signed
from ragtui.experiment.statistics import paired_bootstrap_ci

# On the 0–1 scale of every quality metric ragtui computes; README says why this default.
DEFAULT_MARGIN = 0.02

GOOD_ENOUGH = "good enough"
WORSE = "worse"
UNDECIDED = "cannot tell"

STAGES = ("retriever", "generator", "pipeline")


@dataclass(frozen=True)
class Contender:
    """One retriever, generator or pipeline at a stage: its score per query, its median
    latency and its total cost (None when unknown)."""

    name: str
    scores: Mapping[str, float]
    latency_ms: float | None
    cost_usd: float | None

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.scores.values()))) if self.scores else float("nan")


def _faster(candidate: Contender, best: Contender) -> bool:
    return (
        candidate.latency_ms is not None
        and best.latency_ms is not None
        and candidate.latency_ms < best.latency_ms
    )


def _cheaper(candidate: Contender, best: Contender) -> bool:
    return (
        candidate.cost_usd is not None
        and best.cost_usd is not None
        and candidate.cost_usd < best.cost_usd
    )


def pick_best(contenders: Sequence[Contender]) -> Contender:
    """Highest mean score; among equal scores the faster one."""
    return max(
        contenders,
        key=lambda contender: (
            round(contender.mean, 12),
            -(contender.latency_ms if contender.latency_ms is not None else float("inf")),
        ),
    )


def non_inferiority(
    best: Contender, candidate: Contender, margin: float, seed: int = 0
) -> dict | None:
    """diff = candidate − best over the queries both scored, its interval and the verdict."""
    shared = [query for query in best.scores if query in candidate.scores]
    if len(shared) < 2:
        return None
    differences = np.array([candidate.scores[q] - best.scores[q] for q in shared], dtype=float)
    low, high = paired_bootstrap_ci(differences, seed=seed)
    if low > -margin:
        verdict = GOOD_ENOUGH
    elif high < -margin:
        verdict = WORSE
    else:
        verdict = UNDECIDED
    speedup = (
        best.latency_ms / candidate.latency_ms
        if best.latency_ms is not None and candidate.latency_ms
        else None
    )
    cost_ratio = (
        candidate.cost_usd / best.cost_usd
        if candidate.cost_usd is not None and best.cost_usd
        else None
    )
    return {
        "diff": float(differences.mean()),
        "ci_low": low,
        "ci_high": high,
        "n": len(shared),
        "margin": margin,
        "verdict": verdict,
        "speedup": speedup,
        "cost_ratio": cost_ratio,
    }


def judge_stage(
    stage: str, metric: str, contenders: Sequence[Contender], margin: float
) -> list[dict]:
    """Every other contender tested against the stage's best, faster or cheaper ones first.

    The question is whether a faster or cheaper one will do; slower ones are tested too
    (marked ``faster_or_cheaper: false``), since whichever side of a near-tie comes out on
    top is chance, and the reader should see the other side is good enough as well.
    """
    scored = [contender for contender in contenders if contender.scores]
    if len(scored) < 2:
        return []
    values = {value for contender in scored for value in contender.scores.values()}
    if len(values) == 1:
        return []  # one value everywhere (extractive answers are always grounded): no choice
    best = pick_best(scored)
    entries = []
    for position, candidate in enumerate(scored):
        if candidate is best:
            continue
        result = non_inferiority(best, candidate, margin, seed=position)
        if result is not None:
            entries.append(
                {
                    "stage": stage,
                    "best": best.name,
                    "candidate": candidate.name,
                    "metric": metric,
                    **result,
                    "faster_or_cheaper": _faster(candidate, best) or _cheaper(candidate, best),
                }
            )
    return sorted(entries, key=lambda entry: not entry["faster_or_cheaper"])


def describe_entry(entry: Mapping, label: str | None = None) -> str:
    """One sentence, e.g. "`dense:minilm-int8` is good enough: nDCG@10 −0.001 [−0.008,
    +0.006] against `dense`, 2.6× faster per query (margin 0.02, 225 queries)."

    ``label`` names the metric in words (``answer F1`` for ``f1``).
    """
    figures = (
        f"{label or entry['metric']} {signed(entry['diff'])} "
        f"[{signed(entry['ci_low'])}, {signed(entry['ci_high'])}] against `{entry['best']}`"
    )
    gains = []
    speedup = entry.get("speedup")
    if speedup:
        per = "to generate" if entry["stage"] == "generator" else "per query"
        ratio = speedup if speedup >= 1 else 1 / speedup
        shown = f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.1f}"
        gains.append(f"{shown}× {'faster' if speedup >= 1 else 'slower'} {per}")
    if entry.get("cost_ratio") is not None:
        gains.append(f"{entry['cost_ratio']:.2f}× the cost")
    basis = f"margin {entry['margin']:g}, {entry['n']} queries"
    name = f"`{entry['candidate']}`"
    if entry["verdict"] == GOOD_ENOUGH:
        tail = "".join(f", {gain}" for gain in gains)
        return f"{name} is good enough: {figures}{tail} ({basis})."
    aside = f" ({', '.join(gains)})" if gains else ""
    if entry["verdict"] == WORSE:
        return f"{name}{aside} is not good enough: {figures} loses more than the margin ({basis})."
    return (
        f"{name}{aside} is not shown good enough: {figures}; the interval straddles "
        f"−{entry['margin']:g}, so these {entry['n']} queries cannot tell."
    )


@dataclass(frozen=True)
class Point:
    """A pipeline in the quality × latency × cost space."""

    name: str
    quality: float
    latency_ms: float | None
    cost_usd: float | None


def _dominates(a: Point, b: Point, with_cost: bool) -> bool:
    no_worse = a.quality >= b.quality and a.latency_ms <= b.latency_ms  # type: ignore[operator]
    strictly = a.quality > b.quality or a.latency_ms < b.latency_ms  # type: ignore[operator]
    if with_cost:
        no_worse = no_worse and a.cost_usd <= b.cost_usd  # type: ignore[operator]
        strictly = strictly or a.cost_usd < b.cost_usd  # type: ignore[operator]
    return no_worse and strictly


def pareto_frontier(points: Sequence[Point]) -> list[str]:
    """Pipelines no other pipeline beats on quality, median latency and cost at once.

    Cost counts only when every pipeline's cost is known (local models cost 0); sorted by
    latency, fastest first.
    """
    timed = [
        point for point in points if point.latency_ms is not None and not np.isnan(point.quality)
    ]
    with_cost = all(point.cost_usd is not None for point in timed)
    frontier = [
        point
        for point in timed
        if not any(_dominates(other, point, with_cost) for other in timed if other is not point)
    ]
    return [point.name for point in sorted(frontier, key=lambda point: point.latency_ms)]
