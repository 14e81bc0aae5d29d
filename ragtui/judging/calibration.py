"""Calibrate a judge against the user: replay every stored vote through it, both orders.

A vote holds both answers, so the judge sees exactly what the user saw. The figures are
appended to ``judge_calibrations.jsonl`` beside the votes, under the judge's spec, model
identity and method; eval's report and the app look them up there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from ragtui.evidence_rules import CALIBRATION_FLOOR, too_few
from ragtui.judging.agreement import AgreementFigures, agreement_figures, user_label
from ragtui.judging.judge import Judge, PairJudgment
from ragtui.judging.judge_prompts import JudgeTemplates
from ragtui.judging.store import JsonlLog, JudgmentStore, Vote

CALIBRATIONS_FILE = "judge_calibrations.jsonl"


def calibrations_log(store: JudgmentStore) -> JsonlLog:
    return JsonlLog(store.folder / CALIBRATIONS_FILE)


async def replay_votes(
    judge: Judge,
    votes: Sequence[Vote],
    references: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[PairJudgment]:
    """The judge's verdict on each vote's pair, in the vote's order."""
    judged = []
    for number, vote in enumerate(votes, start=1):
        reference = (references or {}).get(vote.query_id)
        judged.append(await judge.pairwise(vote.query, vote.answer_a, vote.answer_b, reference))
        if progress is not None:
            progress(number, len(votes))
    return judged


def figures_of(votes: Sequence[Vote], judged: Sequence[PairJudgment]) -> AgreementFigures:
    return agreement_figures(
        [user_label(vote.choice) for vote in votes],
        [judgment.outcome for judgment in judged],
        [judgment.consistent for judgment in judged],
    )


def calibration_record(
    judge_description: Mapping[str, Any], figures: AgreementFigures, templates: JudgeTemplates
) -> dict[str, Any]:
    import hashlib

    return {
        "judge": dict(judge_description),
        "prompt_sha256": hashlib.sha256(templates.text().encode("utf-8")).hexdigest(),
        "figures": asdict(figures),
        "sentence": agreement_sentence(figures.non_tie, figures.sentence()),
        "time": time.time(),
    }


def latest_calibration(
    store: JudgmentStore, spec: str, model_identity: str | None = None, method: str | None = None
) -> dict[str, Any] | None:
    """The newest calibration of this judge (same spec, and model and method when given)."""
    found = None
    for record in calibrations_log(store).records():
        judge = record.get("judge")
        if not isinstance(judge, dict) or judge.get("spec") != spec:
            continue
        if model_identity is not None and judge.get("model_identity") != model_identity:
            continue
        if method is not None and judge.get("method") != method:
            continue
        if isinstance(record.get("figures"), dict):
            found = record
    return found


def calibration_sentence(record: Mapping[str, Any] | None) -> str:
    """What to print next to a judged figure: this judge's agreement, or that it has none.

    Below ``CALIBRATION_FLOOR`` votes compared (a record written before the floor too) the
    agreement is not stated: "agrees 100%" from two votes is no evidence.
    """
    if record is None:
        return "judge not calibrated against your votes (ragtui judge calibrate)"
    figures = record.get("figures")
    compared = figures.get("non_tie") if isinstance(figures, Mapping) else None
    sentence = str(record.get("sentence") or "judge calibrated, figures unreadable")
    return agreement_sentence(compared, sentence) if isinstance(compared, int) else sentence


def agreement_sentence(compared: int, sentence: str) -> str:
    """``sentence`` (the agreement figures) from ``CALIBRATION_FLOOR`` votes compared up;
    below it, that there are too few."""
    if CALIBRATION_FLOOR.met(compared):
        return sentence
    return (
        f"judge calibration: {too_few(compared, 'votes')}; its agreement with you is stated "
        f"from {CALIBRATION_FLOOR.minimum} of your votes with a winner"
    )
