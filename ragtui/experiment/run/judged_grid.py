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
from pathlib import Path
from typing import Any

from ragtui.display.safe_text import json_line
from ragtui.evidence_rules import PAIRWISE_FLOOR, failure_outcome
from ragtui.experiment.run.grid import Cell, GridRun
from ragtui.experiment.stats.comparisons import bradley_terry_with_intervals
from ragtui.judging.agreement import position_inconsistency
from ragtui.judging.grade_queue import CORRECTNESS, FAITHFULNESS, GRADE_KINDS, SCALES, GradeItem
from ragtui.judging.judge import ORDERS_PER_PAIR, Judge, PairJudgment, VerdictProgress
from ragtui.judging.vote_queue import VoteItem
from ragtui.progress import WorkProgress

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


def planned_verdicts(run: GridRun, kinds: Sequence[str]) -> int:
    """Verdicts the grid needs (before the cache is asked): one per grade, one per order
    of each pair. ``Judge.most_requests`` turns them into model calls, retries included."""
    answered = [cell for cell in run.cells if cell.error is None]
    by_query: dict[str, int] = {}
    for cell in answered:
        by_query[cell.query_id] = by_query.get(cell.query_id, 0) + 1
    return verdicts_for(list(by_query.values()), kinds)


def verdicts_for(answers_per_query: Sequence[int], kinds: Sequence[str]) -> int:
    """Verdicts for queries with these numbers of answers each: one per answer per graded
    kind, and one per order of every pair of answers to a query."""
    graded = sum(kind in kinds for kind in ("correctness", "faithfulness"))
    verdicts = sum(answers_per_query) * graded
    if "pairwise" in kinds:
        verdicts += sum(ORDERS_PER_PAIR * count * (count - 1) // 2 for count in answers_per_query)
    return verdicts


def planned_calls(run: GridRun, kinds: Sequence[str], judge: Judge) -> int:
    """The most model calls judging the grid can take, the judge's retries included."""
    return judge.most_requests(planned_verdicts(run, kinds))


async def judge_grid(
    run: GridRun,
    judge: Judge,
    kinds: Sequence[str] = JUDGE_KINDS,
    progress: Callable[[WorkProgress], None] | None = None,
) -> JudgedGrid:
    started = time.monotonic()
    judged = JudgedGrid(await judge.describe(), tuple(kinds))
    answered = [cell for cell in run.cells if cell.error is None]
    # Verdicts from the cache come off the total: the rate and ETA are the model's work.
    step = VerdictProgress(judge, planned_verdicts(run, kinds), progress, "judging").step

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
                step(ORDERS_PER_PAIR)
    judged.elapsed_s = time.monotonic() - started
    return judged


def write_judge_pairs(path: Path, judged: JudgedGrid) -> None:
    """Every judged pair with both raw verdicts, one JSON line each: position bias stays
    auditable. Pipeline names, query ids and replies are untrusted text: ``json_line``
    escapes what a line-based reader or a terminal would trip on (U+2028, C1, bidi)."""
    with path.open("w", encoding="utf-8") as handle:
        for query_id, first, second, pair in judged.pairs:
            record = {"query_id": query_id, "a": first, "b": second, **pair.to_json()}
            handle.write(json_line(record) + "\n")


def vote_items(run: GridRun, judged: JudgedGrid) -> list[VoteItem]:
    """Every pair the judge compared, with the question and both answers: the population
    the random vote queue draws from (``ragtui vote``)."""
    answers = {(cell.query_id, cell.pipeline): cell.answer for cell in run.cells}
    return [
        VoteItem(
            query_id=query_id,
            question=run.dataset.queries[query_id],
            first=first,
            second=second,
            answer_first=answers[(query_id, first)],
            answer_second=answers[(query_id, second)],
            judge_outcome=pair.outcome,
        )
        for query_id, first, second, pair in judged.pairs
    ]


def grade_items(run: GridRun, judged: JudgedGrid) -> list[GradeItem]:
    """Every answer the judge graded, once per kind it graded (correctness, then
    faithfulness with the passages the generator read): what 'ragtui vote grade' draws
    from."""
    items = []
    for kind in GRADE_KINDS:
        if kind not in judged.kinds:
            continue
        for cell in run.cells:
            scores = judged.scores.get((cell.retriever, cell.generator, cell.query_id))
            if cell.error is not None or scores is None:
                continue
            references = run.dataset.answers.get(cell.query_id) or []
            # The faithfulness judge sees the passages, not the reference answer.
            reference = references[0] if references and kind == CORRECTNESS else ""
            items.append(
                GradeItem(
                    query_id=cell.query_id,
                    question=run.dataset.queries[cell.query_id],
                    reference=reference,
                    pipeline=cell.pipeline,
                    answer=cell.answer,
                    judge_score=scores.get(SCALES[kind].metric),
                    kind=kind,
                    passages=tuple(cell.context) if kind == FAITHFULNESS else (),
                )
            )
    return items


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
    """The ``judge`` object of results.json.

    ``calibration`` is ``latest_calibration`` for this judge's configuration; it speaks
    for the pairwise verdicts only, and the sentence says so beside 1–5 grades.
    """
    outcomes = []
    queries: list[str] = []  # each outcome's query: the strengths' intervals resample queries
    wins: dict[tuple[str, str], dict[str, int]] = {}
    decided = [(query, first, second, pair.outcome) for query, first, second, pair in judged.pairs]
    decided += judged.failure_pairs
    for query_id, first, second, outcome in decided:
        if outcome == "abstain":
            continue
        score = {"a": 1.0, "b": 0.0, "tie": 0.5}[outcome]
        outcomes.append((first, second, score))
        queries.append(query_id)
        row = wins.setdefault((first, second), {"first_wins": 0, "second_wins": 0, "ties": 0})
        row[{"a": "first_wins", "b": "second_wins", "tie": "ties"}[outcome]] += 1
    inconsistency = position_inconsistency([pair.consistent for _, _, _, pair in judged.pairs])
    tally = judge.tally
    from ragtui.judging.calibration import grid_calibration_sentence

    return {
        **judged.description,
        "kinds": list(judged.kinds),
        "calls": tally.calls,
        "http_retries": tally.http_retries,
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
        "position_inconsistency": inconsistency.rate,
        "position_inconsistency_ci": inconsistency.interval,
        # Decided without the judge because an answer failed (evidence_rules: a failure
        # counts as a failure, it does not drop out of the strengths).
        "pairs_with_failed_answer": len(judged.failure_pairs),
        "pairwise": [
            {"first": first, "second": second, **counts} for (first, second), counts in wins.items()
        ],
        "bradley_terry": [
            {**asdict(strength), "p_beats_average": strength.p_beats_average}
            for strength in bradley_terry_with_intervals(
                outcomes, samples=BT_ROUNDS, queries=queries
            )
        ],
        # Strengths from verdicts on too few queries are not stated (the report says n).
        "bradley_terry_queries": len(set(queries)),
        "bradley_terry_enough": PAIRWISE_FLOOR.met(len(set(queries))),
        # A pairwise calibration is kept only where pairwise verdicts were made.
        "calibration": calibration if "pairwise" in judged.kinds else None,
        "calibration_sentence": grid_calibration_sentence(calibration, judged.kinds),
    }
