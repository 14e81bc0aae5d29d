"""Write a test set: sample passages, ask a generator for a question and answer from each,
filter, and store every outcome as it is reached (so a stopped run resumes).

This module only runs the set; each policy lives in its own module: what is asked of one
passage and how it is filtered (``asking``, ``filters``, ``roundtrip``), how many calls
a passage may take (``attempts``), what is recorded about the makers (``provenance``),
and what a resumed run may reuse (``resume``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus
from ragtui.generation import make_generator
from ragtui.generation.base import GenerationError
from ragtui.progress import WorkProgress
from ragtui.testsets.asking import ask_passage
from ragtui.testsets.filters import word_overlap
from ragtui.testsets.for_labeling import labeling_only
from ragtui.testsets.funnel import OUTCOMES, REASON_OF_FILTER, funnel_line, shown_outcomes
from ragtui.testsets.plan import FILTERS, TestsetPlan
from ragtui.testsets.provenance import Makers, header, passage_record, refuse_other_makers
from ragtui.testsets.resume import (
    FAILED,
    STOP_AFTER_FAILURES,
    refuse_other_settings,
    resume_point,
)
from ragtui.testsets.roundtrip import answers_agree, roundtrip_reference
from ragtui.testsets.sampling import sample_passages
from ragtui.testsets.store import (
    META,
    TestsetError,
    TestsetFolder,
    check_name,
    judged_unit_of,
    latest_records,
    read_testset,
    testsets_root,
)

# Names other modules (the benchmark, older callers) import from here.
__all__ = [
    "FILTERS",
    "OUTCOMES",
    "REASON_OF_FILTER",
    "TestsetOutcome",
    "TestsetPlan",
    "answers_agree",
    "funnel_line",
    "generate_testset",
    "roundtrip_reference",
    "run_testset",
    "shown_outcomes",
    "word_overlap",
]


@dataclass
class TestsetOutcome:
    __test__ = False  # a pytest-style name, not a test class

    folder: Path
    funnel: dict[str, int]
    kept: int
    resumed: int  # passages already done by an earlier run
    elapsed_s: float
    mean_overlap: float | None
    warnings: list[str] = field(default_factory=list)
    # Questions that passed the cheap filters but not the round trip: offered for labeling
    # (``for_labeling``), counted apart from the kept ones.
    for_labeling: int = 0

    def funnel_line(self) -> str:
        return funnel_line(self.funnel)


def _failure_line(error: GenerationError, plan: TestsetPlan) -> str:
    """The backend's own message names its spec and address: say it once."""
    message = str(error)
    named = any(spec.split(":", 1)[-1] in message for spec in (plan.generator, plan.checker_spec))
    return f"cannot write questions: {message if named else f'{plan.generator}: {message}'}"


def _summary(
    records: list[dict[str, Any]], plan: TestsetPlan
) -> tuple[dict[str, int], float | None]:
    funnel = dict(Counter(record["verdict"] for record in records))
    if plan.max_overlap is not None:
        funnel.setdefault("high overlap", 0)
    overlaps = [r["overlap"] for r in records if r["verdict"] == "kept" and "overlap" in r]
    return funnel, (sum(overlaps) / len(overlaps) if overlaps else None)


async def generate_testset(
    corpus: Corpus,
    plan: TestsetPlan,
    backends,
    *,
    data_root: Path | None = None,
    progress: Callable[[WorkProgress], None] | None = None,
) -> TestsetOutcome:
    """Make (or resume) the named set; returns where it is and its funnel.

    Nothing is written until the first passage has its outcome, so a run that cannot
    reach its backend leaves no empty set behind. The first failed call of a run that has
    had no answer yet stops it (the backend is down or misnamed); a later failed call is
    recorded as failed and asked again by the next run.
    """
    check_name(plan.name)
    if plan.generator.split(":", 1)[0] == "extractive":
        raise TestsetError(
            "extractive cannot write questions: use a model, e.g. --generator llamacpp:smollm2"
        )
    folder = testsets_root(corpus.root, corpus.source_key, data_root) / plan.name
    writer = TestsetFolder(folder)
    earlier = writer.meta()
    refuse_other_settings(plan.name, folder / META, earlier, plan.settings())
    on_disk = writer.records()
    sampled = sample_passages(
        corpus, max([plan.count, *(int(r["index"]) + 1 for r in on_disk)]), plan.seed
    )
    point = resume_point(plan.name, folder / META, earlier, on_disk, corpus, sampled)
    passages = sampled[: plan.count]
    if not passages:
        raise TestsetError(f"{corpus.root} holds no passage with text to write a question from")
    generator = make_generator(plan.generator, backends)
    checker = generator if not plan.checker else make_generator(plan.checker, backends)
    started = time.monotonic()
    done = dict(point.done)
    kept_questions = point.kept_questions
    answered_this_run = failed_in_a_row = 0
    stopped = False
    try:
        identity = await generator.identity()
        makers = Makers(identity, identity if checker is generator else await checker.identity())
        if earlier is not None:
            refuse_other_makers(plan.name, str(folder / META), earlier, makers)
        todo = [(index, passage) for index, passage in enumerate(passages) if index not in done]
        for number, (index, passage) in enumerate(todo, start=1):
            try:
                judged = await ask_passage(passage, plan, generator, checker, kept_questions)
                answered_this_run += 1
            except GenerationError as error:
                if not answered_this_run:
                    raise TestsetError(_failure_line(error, plan)) from None
                judged = {"verdict": FAILED, "error": str(error)}
            if number == 1:
                meta = header(plan.name, corpus, plan.settings(), makers, plan.count, earlier)
                writer.write_meta(meta)
            record = {**passage_record(passage, index, plan.name, makers), **judged}
            writer.add(record)
            if record["verdict"] != FAILED:
                done[index] = record
            failed_in_a_row = failed_in_a_row + 1 if record["verdict"] == FAILED else 0
            if record["verdict"] == "kept":
                kept_questions.append(record["question"])
            if progress is not None:
                kept_count = len(kept_questions)
                note = f"kept {kept_count} · dropped {len(done) - kept_count}"
                elapsed = time.monotonic() - started
                progress(
                    WorkProgress(number, len(todo), elapsed, "writing questions", "passages", note)
                )
            if failed_in_a_row >= STOP_AFTER_FAILURES:
                stopped = True
                break
    finally:
        await generator.aclose()
        if checker is not generator:
            await checker.aclose()
    records = latest_records(writer.records())
    funnel, mean_overlap = _summary(records, plan)
    kept = [record for record in records if record["verdict"] == "kept"]
    for_labeling = 0
    if records:
        writer.write_beir(kept, judged_unit_of(corpus))
        writer.write_meta(
            {
                **(writer.meta() or {}),
                "complete": all(index in done for index in range(len(passages))),
                "sampled": max(len(passages), len(records)),
                "funnel": {outcome: funnel.get(outcome, 0) for outcome in shown_outcomes(funnel)},
                "funnel_line": funnel_line(funnel),
                "mean_word_overlap": mean_overlap,
            }
        )
        for_labeling = len(labeling_only(read_testset(folder)))
    warnings = []
    if len(passages) < plan.count:
        warnings.append(
            f"{corpus.root} has passages for only {len(passages)} questions "
            f"(asked for {plan.count})"
        )
    if stopped:
        warnings.append(
            f"stopped after {STOP_AFTER_FAILURES} failed passages in a row; the questions "
            "written are kept: run the same command again when the backend answers"
        )
    elif funnel.get(FAILED):
        warnings.append(
            f"{funnel[FAILED]} passages failed (their backend did not answer); "
            "run the same command again to ask about them"
        )
    return TestsetOutcome(
        folder=folder,
        funnel=funnel,
        kept=len(kept),
        resumed=len(point.done),
        elapsed_s=time.monotonic() - started,
        mean_overlap=mean_overlap,
        warnings=warnings,
        for_labeling=for_labeling,
    )


def run_testset(corpus: Corpus, plan: TestsetPlan, backends, **kwargs) -> TestsetOutcome:
    return asyncio.run(generate_testset(corpus, plan, backends, **kwargs))
