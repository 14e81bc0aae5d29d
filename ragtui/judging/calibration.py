"""Calibrate a judge against the user: replay every stored vote through it, both orders.

A vote holds both answers, so the judge sees exactly what the user saw. The figures are
appended to ``judge_calibrations.jsonl`` beside the votes, under the judge's whole
configuration (``Judge.describe()``: spec, model identity, method, reference-guided or
not, tie band, prompt hash) and the kind of judgment calibrated (pairwise: votes are
pairwise). eval's report and the app look them up there, and use one only for a judge
configured exactly the same and for the same kind of judgment; otherwise the judge is
"not calibrated".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from ragtui.evidence_rules import CALIBRATION_FLOOR, too_few
from ragtui.judging.agreement import (
    AgreementFigures,
    agreement_figures,
    user_label,
    votes_sentence,
)
from ragtui.judging.judge import ORDERS_PER_PAIR, Judge, PairJudgment, VerdictProgress
from ragtui.judging.store import JsonlLog, JudgmentStore, Vote
from ragtui.progress import WorkProgress

CALIBRATIONS_FILE = "judge_calibrations.jsonl"
# Votes compare two answers, so a calibration is of pairwise verdicts; 1–5 grades are never
# calibrated by it.
CALIBRATED_KIND = "pairwise"
# What must be equal between a stored calibration and the judge asking for one.
CONFIGURATION_KEYS = (
    "spec",
    "model_identity",
    "method",
    "reference_guided",
    "tie_band",
    "prompt_sha256",
)


def calibrations_log(store: JudgmentStore) -> JsonlLog:
    return JsonlLog(store.folder / CALIBRATIONS_FILE)


async def replay_votes(
    judge: Judge,
    votes: Sequence[Vote],
    references: Mapping[str, str] | None = None,
    progress: Callable[[WorkProgress], None] | None = None,
) -> list[PairJudgment]:
    """The judge's verdict on each vote's pair, in the vote's order.

    Progress counts verdicts (two per vote); those from the cache come off the total, so
    the rate and ETA are the model's.
    """
    judged = []
    counter = VerdictProgress(
        judge, ORDERS_PER_PAIR * len(votes), progress, "judging your votes", "verdicts"
    )
    for vote in votes:
        reference = (references or {}).get(vote.query_id)
        judged.append(await judge.pairwise(vote.query, vote.answer_a, vote.answer_b, reference))
        counter.step(ORDERS_PER_PAIR)
    return judged


def figures_of(votes: Sequence[Vote], judged: Sequence[PairJudgment]) -> AgreementFigures:
    return agreement_figures(
        [user_label(vote.choice) for vote in votes],
        [judgment.outcome for judgment in judged],
        [judgment.consistent for judgment in judged],
        questions=[vote.query_id or vote.query for vote in votes],
    )


def calibration_record(
    judge_description: Mapping[str, Any], figures: AgreementFigures
) -> dict[str, Any]:
    """``judge_description`` is ``Judge.describe()`` (plus counts), which holds the prompt
    hash the record is matched on."""
    return {
        "judge": dict(judge_description),
        "kind": CALIBRATED_KIND,
        "prompt_sha256": judge_description.get("prompt_sha256"),
        "figures": asdict(figures),
        "sentence": agreement_sentence(figures.non_tie, figures.sentence()),
        "time": time.time(),
    }


def _configuration(record: Mapping[str, Any]) -> dict[str, Any] | None:
    judge = record.get("judge")
    if not isinstance(judge, dict):
        return None
    # Records written before the hash joined the judge's description kept it beside it.
    return {**judge, "prompt_sha256": judge.get("prompt_sha256", record.get("prompt_sha256"))}


def latest_calibration(
    store: JudgmentStore, judge_description: Mapping[str, Any], kind: str = CALIBRATED_KIND
) -> dict[str, Any] | None:
    """The newest calibration of a judge configured exactly like ``judge_description``
    (``Judge.describe()``), for ``kind`` of judgment; None when there is none.

    A figure from another prompt, another way of reading verdicts, with or without the
    reference, or from another model says nothing about this judge. Records written before
    the kind was stored were pairwise (votes were the only source).
    """
    if kind != CALIBRATED_KIND:
        return None
    wanted = {key: judge_description.get(key) for key in CONFIGURATION_KEYS}
    found = None
    for record in calibrations_log(store).records():
        configuration = _configuration(record)
        if configuration is None or record.get("kind", CALIBRATED_KIND) != kind:
            continue
        if any(configuration.get(key) != value for key, value in wanted.items()):
            continue
        if isinstance(record.get("figures"), dict):
            found = record
    return found


NOT_CALIBRATED = "judge not checked against your votes (not calibrated: 'ragtui judge calibrate')"
NO_VOTES = (
    "judge not checked against your votes (you have cast none: vote in the app with a, b, "
    "t or n, or with 'ragtui vote', then 'ragtui judge calibrate')"
)


def calibration_sentence(record: Mapping[str, Any] | None, votes: int | None = None) -> str:
    """What to print next to a judged figure: this judge's agreement, or that it has none.

    Below ``CALIBRATION_FLOOR`` votes compared (a record written before the floor too) the
    agreement is not stated: "agrees 100%" from two votes is no evidence. ``votes``: how
    many votes the person has cast, where the caller knows (none: say so). The sentence is
    rebuilt from the stored figures, so one written before intervals were printed shows
    them too.
    """
    if record is None:
        return NO_VOTES if votes == 0 else NOT_CALIBRATED
    figures = record.get("figures")
    compared = figures.get("non_tie") if isinstance(figures, Mapping) else None
    sentence = str(record.get("sentence") or "judge calibrated, figures unreadable")
    rebuilt = _sentence_from(figures) if isinstance(figures, Mapping) else None
    sentence = rebuilt or sentence
    return agreement_sentence(compared, sentence) if isinstance(compared, int) else sentence


def _sentence_from(figures: Mapping[str, Any]) -> str | None:
    """The agreement sentence from a stored record's figures; None when they are not all
    there (a record of another version keeps its own sentence)."""
    agreement, non_tie = figures.get("agreement"), figures.get("non_tie")
    kappa = figures.get("kappa")
    if not isinstance(agreement, (int, float)) or not isinstance(non_tie, int):
        return None

    def interval(value: Any) -> tuple[float, float] | None:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return float(value[0]), float(value[1])
        return None

    return votes_sentence(
        float(agreement),
        interval(figures.get("agreement_ci")),
        float(kappa) if isinstance(kappa, (int, float)) else None,
        interval(figures.get("kappa_ci")),
        non_tie,
        str(figures.get("kappa_ci_basis") or "bootstrap"),
        figures["queries"] if isinstance(figures.get("queries"), int) else None,
        figures.get("by_question") is True,
    )


def agreement_sentence(compared: int, sentence: str) -> str:
    """``sentence`` (the agreement figures) from ``CALIBRATION_FLOOR`` votes compared up;
    below it, that there are too few."""
    if CALIBRATION_FLOOR.met(compared):
        return sentence
    return (
        f"judge calibration: {too_few(compared, 'votes')}; its agreement with you is stated "
        f"from {CALIBRATION_FLOOR.minimum} of your votes with a winner"
    )


def grid_calibration_sentence(record: Mapping[str, Any] | None, kinds: Sequence[str]) -> str:
    """The calibration sentence for a judged grid, naming which of its judgments it covers.

    A calibration comes from pairwise votes: beside 1–5 grades it says nothing, so a grid
    of grades alone is "not calibrated", and a grid with both says which part is.
    """
    graded = [kind for kind in kinds if kind != CALIBRATED_KIND]
    if CALIBRATED_KIND not in kinds:
        return "judge not calibrated for 1–5 grades (calibration covers pairwise verdicts only)"
    if not graded:
        return calibration_sentence(record)
    if record is None:
        return NOT_CALIBRATED
    return (
        f"pairwise verdicts: {calibration_sentence(record)}; "
        "1–5 grades: not calibrated (your votes are pairwise)"
    )
