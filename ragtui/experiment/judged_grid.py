"""The judge over a finished grid: each answer graded, and every pair of pipelines compared.

Graded scores (correctness, reference-guided where the query has a reference answer;
faithfulness to the passages the generator read) join the answer metrics, so they enter
the attribution and the fix-one tables like F1. Pairwise verdicts between pipelines, per
query and in both orders, give Bradley–Terry strengths with bootstrap intervals
(FastChat's method: 1,000 rounds, a tie counts half to each side).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ragtui.encoders import EncodeProgress
from ragtui.evidence_rules import failure_outcome
from ragtui.experiment.grid import Cell, GridRun
from ragtui.experiment.statistics import bradley_terry_with_intervals
from ragtui.judging.agreement import wilson
from ragtui.judging.judge import Judge, PairJudgment

JUDGE_KINDS = ("correctness", "faithfulness", "pairwise")
JUDGE_METRICS = ("judge_correctness", "judge_faithfulness")
JUDGE_LABELS = {
    "judge_correctness": "judged correctness",
    "judge_faithfulness": "judged faithfulness",
}
BT_ROUNDS = 1000


@dataclass
class JudgedGrid:
    description: dict[str, Any]
    kinds: tuple[str, ...]
    # (retriever, generator, query id) → metric name → score on 0–1 (None: abstained)
    scores: dict[tuple[str, str, str], dict[str, float | None]] = field(default_factory=dict)
    # (query id, pipeline, pipeline, judgment)
    pairs: list[tuple[str, str, str, PairJudgment]] = field(default_factory=list)
    # (query id, pipeline, pipeline, outcome): pairs where an answer failed, decided without
    # the judge: the answer given wins, two failures tie (a failure counts as a failure)
    failure_pairs: list[tuple[str, str, str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0


def planned_calls(run: GridRun, kinds: Sequence[str]) -> int:
    """Judge calls the grid needs (before the cache is asked)."""
    answered = [cell for cell in run.cells if cell.error is None]
    by_query: dict[str, int] = {}
    for cell in answered:
        by_query[cell.query_id] = by_query.get(cell.query_id, 0) + 1
    return calls_for(list(by_query.values()), kinds)


def calls_for(answers_per_query: Sequence[int], kinds: Sequence[str]) -> int:
    """Judge calls for queries with these numbers of answers each: one per answer per
    graded kind, and both orders of every pair of answers to a query."""
    calls = sum(answers_per_query) * sum(kind in kinds for kind in ("correctness", "faithfulness"))
    if "pairwise" in kinds:
        calls += sum(2 * count * (count - 1) // 2 for count in answers_per_query)
    return calls


async def judge_grid(
    run: GridRun,
    judge: Judge,
    kinds: Sequence[str] = JUDGE_KINDS,
    progress: Callable[[EncodeProgress], None] | None = None,
) -> JudgedGrid:
    started = time.monotonic()
    judged = JudgedGrid(await judge.describe(), tuple(kinds))
    answered = [cell for cell in run.cells if cell.error is None]
    total = planned_calls(run, kinds)
    done = 0

    def step(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(EncodeProgress(done, total, time.monotonic() - started, "judging", "verdicts"))

    for cell in answered:
        question = run.dataset.queries[cell.query_id]
        references = run.dataset.answers.get(cell.query_id) or []
        scores: dict[str, float | None] = {}
        if "correctness" in kinds:
            graded = await judge.correctness(
                question, cell.answer, references[0] if references else None
            )
            scores["judge_correctness"] = graded.unit
            step(1)
        if "faithfulness" in kinds:
            scores["judge_faithfulness"] = (
                await judge.faithfulness(cell.context, cell.answer)
            ).unit
            step(1)
        judged.scores[(cell.retriever, cell.generator, cell.query_id)] = scores
    if "pairwise" in kinds:
        judged.failure_pairs = failure_outcomes(run)
        by_query: dict[str, list[Cell]] = {}
        for cell in answered:
            by_query.setdefault(cell.query_id, []).append(cell)
        for query_id, cells in by_query.items():
            references = run.dataset.answers.get(query_id) or []
            for first, second in itertools.combinations(cells, 2):
                pair = await judge.pairwise(
                    run.dataset.queries[query_id],
                    first.answer,
                    second.answer,
                    references[0] if references else None,
                )
                judged.pairs.append((query_id, first.pipeline, second.pipeline, pair))
                step(2)
    judged.elapsed_s = time.monotonic() - started
    return judged


def failure_outcomes(run: GridRun) -> list[tuple[str, str, str, str]]:
    """Every pair of pipelines on a query where at least one answer failed, with its outcome
    under ``evidence_rules``: the answer given beats the failure, two failures tie."""
    by_query: dict[str, list[Cell]] = {}
    for cell in run.cells:
        by_query.setdefault(cell.query_id, []).append(cell)
    outcomes = []
    for query_id, cells in by_query.items():
        for first, second in itertools.combinations(cells, 2):
            outcome = failure_outcome(first.error is not None, second.error is not None)
            if outcome is not None:
                outcomes.append((query_id, first.pipeline, second.pipeline, outcome))
    return outcomes


def judge_summary(
    judged: JudgedGrid, judge: Judge, calibration: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``judge`` object of results.json."""
    outcomes = []
    wins: dict[tuple[str, str], dict[str, int]] = {}
    decided = [(first, second, pair.outcome) for _, first, second, pair in judged.pairs]
    decided += [(first, second, outcome) for _, first, second, outcome in judged.failure_pairs]
    for first, second, outcome in decided:
        if outcome == "abstain":
            continue
        score = {"a": 1.0, "b": 0.0, "tie": 0.5}[outcome]
        outcomes.append((first, second, score))
        row = wins.setdefault((first, second), {"first_wins": 0, "second_wins": 0, "ties": 0})
        row[{"a": "first_wins", "b": "second_wins", "tie": "ties"}[outcome]] += 1
    orders = [pair.consistent for _, _, _, pair in judged.pairs if pair.consistent is not None]
    inconsistent = sum(not flag for flag in orders)
    tally = judge.tally
    from ragtui.judging.calibration import calibration_sentence

    return {
        **judged.description,
        "kinds": list(judged.kinds),
        "calls": tally.calls,
        "from_cache": tally.from_cache,
        "abstentions": tally.abstentions,
        "failed_calls": len(tally.errors),
        "errors": sorted(set(tally.errors))[:3],
        "prompt_tokens": tally.prompt_tokens,
        "completion_tokens": tally.completion_tokens,
        "cost_usd": tally.cost_usd,
        "elapsed_s": judged.elapsed_s,
        "pairs_judged": len(judged.pairs),
        "pairs_abstained": sum(pair.outcome == "abstain" for _, _, _, pair in judged.pairs),
        # Decided without the judge because an answer failed (evidence_rules: a failure
        # counts as a failure, it does not drop out of the strengths).
        "pairs_with_failed_answer": len(judged.failure_pairs),
        "position_inconsistency": inconsistent / len(orders) if orders else None,
        "position_inconsistency_ci": wilson(inconsistent, len(orders)),
        "pairwise": [
            {"first": first, "second": second, **counts} for (first, second), counts in wins.items()
        ],
        "bradley_terry": [
            {**asdict(strength), "p_beats_average": strength.p_beats_average}
            for strength in bradley_terry_with_intervals(outcomes, samples=BT_ROUNDS)
        ],
        "calibration": calibration,
        "calibration_sentence": calibration_sentence(calibration),
    }
