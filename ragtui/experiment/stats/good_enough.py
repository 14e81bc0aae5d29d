"""Is a faster or cheaper component good enough? Non-inferiority against the best, and the
Pareto frontier of pipelines over quality, latency and cost.

A candidate is *good enough* when the lower end of the paired bootstrap interval of
``candidate − best`` lies above ``−margin``: whatever it loses is, with the interval's
confidence, less than the margin. It is *worse* when the whole interval lies below
``−margin``, and otherwise the queries cannot tell. The rules come from
``ragtui.evidence_rules``: every contender of a stage is compared on the same queries, no
verdict below ``VERDICT_FLOOR`` or from an interval of zero width, and the verdicts of one
report are one family, Bonferroni-corrected.

Only candidates faster or cheaper than the best are tested: the question is whether one
of them will do, and a candidate slower and no cheaper is no choice to weigh.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ragtui.errors import RagtuiError
from ragtui.evidence_rules import (
    CONFIDENCE,
    GOOD_ENOUGH_FAMILY,
    MEAN_INTERVAL_FLOOR,
    PAIRWISE_FLOOR,
    VERDICT_FLOOR,
    align,
    bonferroni_confidence,
    too_few,
)
from ragtui.experiment.report.formatting import signed
from ragtui.experiment.stats.comparisons import paired_bootstrap_ci

# On the 0–1 scale of every quality metric ragtui computes; README says why this default.
DEFAULT_MARGIN = 0.02

GOOD_ENOUGH = "good enough"
WORSE = "worse"
UNDECIDED = "cannot tell"
TOO_FEW = "too few queries"

STAGES = ("retriever", "generator", "pipeline")


@dataclass(frozen=True)
class Margin:
    """The largest loss still called good enough: a number on the metric's 0–1 scale, or a
    share of the best contender's mean (``5%``)."""

    value: float
    share: bool = False

    def of(self, best_mean: float) -> float:
        """The margin in the metric's own units, for a stage whose best has this mean."""
        return self.value * best_mean if self.share else self.value

    def text(self) -> str:
        return f"{self.value * 100:g}%" if self.share else f"{self.value:g}"


def parse_margin(text: str | float | None) -> Margin:
    """``0.02`` (absolute) or ``5%`` (a share of the best's mean); one line if neither."""
    if text is None:
        return Margin(DEFAULT_MARGIN)
    if isinstance(text, int | float):
        number, share = float(text), False
    else:
        found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(%?)\s*", text)
        if found is None:
            raise RagtuiError(
                f"--margin {text!r}: use a number on the metric's 0–1 scale (0.02) or a share "
                "of the best's score (5%)"
            )
        number, share = float(found.group(1)), bool(found.group(2))
        if share:
            number /= 100
    if not 0 <= number < 1:
        raise RagtuiError(
            f"--margin {text}: use a number from 0 up to (not incl.) 1, or a share below 100%"
        )
    return Margin(number, share)


@dataclass(frozen=True)
class Contender:
    """One retriever, generator or pipeline at a stage: its score per query (a failed
    answer already counted as a wrong one), its median latency (failures counted as slowest;
    None when unknown) and its total cost (None when unknown)."""

    name: str
    scores: Mapping[str, float]
    latency_ms: float | None
    cost_usd: float | None
    failed: int = 0  # answers that failed, each scored as a wrong answer

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
    best: Contender,
    candidate: Contender,
    margin: float,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict | None:
    """diff = candidate − best over the queries both scored, its interval and the verdict.

    None when they share no query. Below ``VERDICT_FLOOR`` or with an interval of zero
    width the verdict is ``TOO_FEW``.
    """
    shared = [query for query in best.scores if query in candidate.scores]
    if not shared:
        return None
    differences = np.array([candidate.scores[q] - best.scores[q] for q in shared], dtype=float)
    if len(shared) >= 2:
        low, high = paired_bootstrap_ci(differences, confidence=confidence, seed=seed)
    else:
        low = high = float(differences[0])
    if not VERDICT_FLOOR.met(len(shared), (low, high)):
        verdict = TOO_FEW
    elif low > -margin:
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
        "confidence": confidence,
        "n": len(shared),
        "margin": margin,
        "verdict": verdict,
        "speedup": speedup,
        "cost_ratio": cost_ratio,
    }


@dataclass(frozen=True)
class StagePlan:
    """A stage's contenders on their shared queries: the best, the candidates to test (the
    faster or cheaper ones), and what was left out."""

    stage: str
    metric: str
    best: Contender
    candidates: tuple[Contender, ...]
    not_tested: tuple[str, ...]  # slower and no cheaper than the best
    left_out: tuple[str, ...]  # queries some contender has no score for
    spread: tuple[float, float]  # lowest and highest mean of the stage's contenders
    contenders: tuple[Contender, ...] = field(default=())

    @property
    def claims(self) -> int:
        """Verdicts this stage will state (none below the floor)."""
        return len(self.candidates) if VERDICT_FLOOR.met(len(self.best.scores)) else 0


def plan_stage(stage: str, metric: str, contenders: Sequence[Contender]) -> StagePlan | None:
    """Align the stage's contenders on the queries all of them scored and pick the best;
    None when there is nothing to choose (one contender, or one value everywhere)."""
    scored = [contender for contender in contenders if contender.scores]
    if len(scored) < 2:
        return None
    aligned, left_out = align({contender.name: contender.scores for contender in scored})
    shared = [replace(contender, scores=aligned[contender.name]) for contender in scored]
    values = {value for contender in shared for value in contender.scores.values()}
    if len(values) <= 1:
        return None  # one value everywhere (extractive answers are always grounded): no choice
    best = pick_best(shared)
    candidates, not_tested = [], []
    for contender in shared:
        if contender is best:
            continue
        if _faster(contender, best) or _cheaper(contender, best):
            candidates.append(contender)
        else:
            not_tested.append(contender.name)
    means = [contender.mean for contender in shared]
    return StagePlan(
        stage,
        metric,
        best,
        tuple(candidates),
        tuple(not_tested),
        tuple(left_out),
        (min(means), max(means)),
        tuple(shared),
    )


def judge_plan(plan: StagePlan, margin: Margin, claims: int) -> list[dict]:
    """Every candidate of the stage tested against its best, with intervals at the
    Bonferroni level for ``claims`` verdicts in the report."""
    confidence = bonferroni_confidence(claims)
    best_mean = plan.best.mean
    absolute = margin.of(best_mean)
    entries = []
    for position, candidate in enumerate(plan.candidates, start=1):
        result = non_inferiority(plan.best, candidate, absolute, position, confidence)
        if result is None:
            continue
        entries.append(
            {
                "stage": plan.stage,
                "best": plan.best.name,
                "candidate": candidate.name,
                "metric": plan.metric,
                **result,
                "margin_share": margin.value if margin.share else None,
                "best_mean": best_mean,
                "claims": claims,
                "correction": GOOD_ENOUGH_FAMILY.correction,
                "left_out": len(plan.left_out),
                "failed": candidate.failed,
                "best_failed": plan.best.failed,
                "faster_or_cheaper": True,
            }
        )
    return entries


def judge_stage(
    stage: str,
    metric: str,
    contenders: Sequence[Contender],
    margin: float | Margin,
    claims: int | None = None,
) -> list[dict]:
    """One stage on its own: its faster or cheaper contenders against its best.

    ``claims`` is the number of verdicts of the whole report (for the Bonferroni level);
    by default this stage's own.
    """
    plan = plan_stage(stage, metric, contenders)
    if plan is None:
        return []
    chosen = margin if isinstance(margin, Margin) else Margin(margin)
    return judge_plan(plan, chosen, plan.claims if claims is None else claims)


def _basis(entry: Mapping) -> str:
    margin = f"margin {entry['margin']:.3g}"
    best_mean = entry.get("best_mean")
    if best_mean:
        if entry.get("margin_share") is not None:
            margin = f"margin {entry['margin_share'] * 100:g}% of the best's {best_mean:.3f}"
            margin += f" = {entry['margin']:.3g}"
        else:
            margin += f", {entry['margin'] / best_mean:.0%} of the best's {best_mean:.3f}"
    parts = [margin, f"{entry['n']} queries"]
    claims = entry.get("claims") or 1
    if claims > 1:
        level = entry.get("confidence", CONFIDENCE) * 100
        correction = entry.get("correction", "Bonferroni")
        parts.append(f"{level:.4g}% interval, {correction} over {claims} verdicts")
    if entry.get("failed"):
        parts.append(f"{entry['failed']} failed answers counted as wrong")
    if entry.get("left_out"):
        parts.append(f"{entry['left_out']} queries not scored for every contender left out")
    return "; ".join(parts)


def describe_entry(entry: Mapping, label: str | None = None) -> str:
    """One sentence, e.g. "`dense:minilm-int8` is good enough: nDCG@10 −0.001 [−0.008,
    +0.006] against `dense`, 2.6× faster per query (margin 0.02, …, 225 queries)."

    ``label`` names the metric in words (``answer F1`` for ``f1``).
    """
    name = f"`{entry['candidate']}`"
    if entry["verdict"] == TOO_FEW:
        left_out = (
            f"; {entry['left_out']} queries not scored for every contender left out"
            if entry.get("left_out")
            else ""
        )
        return (
            f"{name} against `{entry['best']}`: {too_few(entry['n'])}; a verdict needs at "
            f"least {VERDICT_FLOOR.minimum} shared queries and an interval of some width "
            f"({label or entry['metric']} {signed(entry['diff'])}{left_out})."
        )
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
    basis = _basis(entry)
    if entry["verdict"] == GOOD_ENOUGH:
        tail = "".join(f", {gain}" for gain in gains)
        worse = "".join(
            f"; but clearly worse on {other['label']}: {signed(other['diff'])} "
            f"[{signed(other['ci_low'])}, {signed(other['ci_high'])}]"
            for other in entry.get("clearly_worse_on", [])
        )
        return f"{name} is good enough: {figures}{tail} ({basis}){worse}."
    aside = f" ({', '.join(gains)})" if gains else ""
    if entry["verdict"] == WORSE:
        return f"{name}{aside} is not good enough: {figures} loses more than the margin ({basis})."
    return (
        f"{name}{aside} is not shown good enough: {figures}; the interval straddles "
        f"−{entry['margin']:.3g}, so these queries cannot tell ({basis})."
    )


def clearly_worse(
    best: Contender, candidate: Contender, margin: float, confidence: float, seed: int = 0
) -> dict | None:
    """candidate − best on another metric when its whole interval lies below −margin."""
    result = non_inferiority(best, candidate, margin, seed, confidence)
    if result is None or result["verdict"] != WORSE:
        return None
    return {key: result[key] for key in ("diff", "ci_low", "ci_high", "n")}


def margin_note(plan: StagePlan, margin: Margin, label: str) -> str | None:
    """A warning when the margin is wider than the whole spread of the stage's means: the
    metric barely separates the contenders, so "good enough" on it says little."""
    low, high = plan.spread
    absolute = margin.of(plan.best.mean)
    if not math.isfinite(low) or absolute <= high - low:
        return None
    return (
        f"The margin ({absolute:.3g} {label}) is wider than the whole spread of {label} across "
        f"the {plan.stage}s ({low:.3f}–{high:.3f}): this metric barely tells them apart, so "
        f"“good enough” on it says little; a share (--margin 5%) scales with the metric."
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


def quality_intervals(contenders: Sequence[Contender]) -> dict[str, dict[str, float | int]]:
    """Each contender's mean quality with its 95% interval (percentile bootstrap,
    resampling queries), for the points of the quality × latency chart; ``enough`` is
    False below MEAN_INTERVAL_FLOOR, where charts draw no bar."""
    found: dict[str, dict[str, float | int]] = {}
    for contender in contenders:
        scores = np.array(list(contender.scores.values()), dtype=float)
        if len(scores) == 0:
            continue
        mean = float(scores.mean())
        low, high = paired_bootstrap_ci(scores) if len(scores) >= 2 else (mean, mean)
        found[contender.name] = {
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "n": len(scores),
            "enough": MEAN_INTERVAL_FLOOR.met(len(scores)),
        }
    return found


def frontier_steps(contenders: Sequence[Contender], frontier: Sequence[str]) -> list[dict]:
    """Each step along the frontier (fastest first): the slower pipeline's quality gap over
    the faster one on the queries both scored, its paired 95% interval, and whether the data
    separates the two. Not separated (the gap's interval reaches 0, or too few queries):
    the slower one's place on the frontier rests on a quality difference the data cannot
    show. The gap is paired, as every comparison here; two points whose own intervals
    overlap may still be separated by it (``intervals_overlap`` says whether they do)."""
    by_name = {contender.name: contender for contender in contenders}
    intervals = quality_intervals([by_name[name] for name in frontier if name in by_name])
    steps = []
    for faster, slower in itertools.pairwise(frontier):
        if faster not in by_name or slower not in by_name:
            continue
        first, second = by_name[faster], by_name[slower]
        shared = [query for query in second.scores if query in first.scores]
        if not shared:
            continue
        gaps = np.array([second.scores[q] - first.scores[q] for q in shared], dtype=float)
        low, high = (
            paired_bootstrap_ci(gaps) if len(shared) >= 2 else (float(gaps[0]), float(gaps[0]))
        )
        enough = PAIRWISE_FLOOR.met(len(shared), (low, high))
        separated = enough and (low > 0 or high < 0)
        overlap = (
            intervals[faster]["ci_low"] <= intervals[slower]["ci_high"]
            and intervals[slower]["ci_low"] <= intervals[faster]["ci_high"]
        )
        steps.append(
            {
                "faster": faster,
                "slower": slower,
                "gap": float(gaps.mean()),
                "ci_low": low,
                "ci_high": high,
                "n": len(shared),
                "enough": enough,
                "separated": separated,
                "intervals_overlap": bool(overlap),
            }
        )
    return steps


def frontier_step_words(step: Mapping, label: str) -> str:
    """One step of the frontier in words: separated, or not and why."""
    gap = (
        f"{label} gap {signed(step['gap'])} [{signed(step['ci_low'])}, "
        f"{signed(step['ci_high'])}], n = {step['n']} queries, paired"
    )
    if not step["enough"]:
        return (
            f"`{step['slower']}` and `{step['faster']}` on the frontier are not separated: "
            f"{too_few(step['n'])}"
        )
    if step["separated"]:
        return f"`{step['slower']}` is separated from `{step['faster']}` ({gap})"
    return (
        f"`{step['slower']}` is not separated from `{step['faster']}` ({gap}): the data "
        f"cannot tell their {label} apart"
    )
