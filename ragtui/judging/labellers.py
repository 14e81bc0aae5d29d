"""Labeller models: an LLM grading a test set's pool pairs, each grade kept with its source.

The pairs are the labeling queue's (``ragtui.judging.label_queue``): the pool of the
compared retrievers, optionally a seeded sample of it. Each grade goes to the set's
``relevance_grades.jsonl`` (``ragtui.judging.automatic_grades``) as soon as it is made,
naming its source: the judge (generator spec and model identity), the method, the hash of
the prompt and of how the reply is read, and any encoder (none of the methods here uses
one). A run is resumable: a pair the same source graded or abstained on before is not
asked again; a pair whose call failed is not stored and is asked again by the next run;
``MAX_FAILURES_IN_A_ROW`` failed calls in a row stop the run (the backend is down).

Methods (prompts in ``ragtui.judging.labeller_prompts``):

* ``pointwise``: the query and the passage, graded 0–3 (UMBRELA-style). Where the backend
  gives next-token probabilities (llama.cpp) the grade is read from those of "0".."3": the
  most likely digit is the grade and the expected grade is kept as ``score``. Otherwise the
  written grade is read strictly; an unreadable reply is asked once more (sampled), then
  the pair is an abstention.
* ``one-shot``: the same with the query's known relevant passage shown beside it. Only
  generated sets know one (each question's source passage, found by its text in the
  corpus as it is now); the known passage itself is not graded (the set already judges
  it relevant).
* ``answer-based`` (eRAG, Salemi & Zamani 2024): the judge model, as a reader, answers the
  query from the passage alone; the passage is graded ``ANSWER_GRADE`` (2, "answers the
  query") when the answer agrees with a reference answer by the round-trip check's rule
  (``ragtui.testsets.roundtrip``: the reference's words in the answer, or token F1 ≥ 0.5,
  and not a restatement of the question), else 0. ``score`` is how much of the reference
  the answer holds (1 when whole, else token F1). A query with no reference answer is not
  asked: its pairs are abstentions, reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ragtui.answer_match import contains_reference, token_f1
from ragtui.config.specs import parse_generator_spec
from ragtui.corpus.model import Corpus
from ragtui.errors import RagtuiError
from ragtui.generation.base import GenerationError, GenerationOptions
from ragtui.generation.prices import PriceTable
from ragtui.judging.automatic_grades import AutomaticGrade, AutomaticGrades, LabellerSource, PairKey
from ragtui.judging.circularity import circularity_warnings
from ragtui.judging.judge import Judge, JudgeOptions, requests_per_verdict
from ragtui.judging.label_queue import QueuePair, pair_key
from ragtui.judging.labeller_prompts import (
    GRADE_CHOICES,
    LabellerTemplates,
    labeller_prompt,
    parse_grade,
)
from ragtui.judging.pools import UnitTexts
from ragtui.testsets.anchoring import anchor_questions
from ragtui.testsets.roundtrip import roundtrip_reference
from ragtui.testsets.store import StoredTestset, is_imported

__all__ = [
    "METHODS",
    "LabellerError",
    "RelevanceLabeller",
    "circularity_warnings",
    "label_pairs",
    "plan_labelling",
    "set_context",
]

METHODS = ("pointwise", "one-shot", "answer-based")
ANSWER_GRADE = 2  # answer-based: the passage answers the query (the 0–3 scale's "2")
READER_MAX_TOKENS = 48  # a short answer; more only feeds talk that the match must skip
MAX_FAILURES_IN_A_ROW = 3


class LabellerError(RagtuiError):
    """A labeller that cannot be used as asked (method, set, backend)."""


@dataclass(frozen=True)
class GradeReading:
    grade: int | None  # None: the labeller abstained
    score: float | None
    raw: str  # the replies as written, or the probabilities read


def grade_from_probabilities(probabilities: Mapping[str, float]) -> GradeReading:
    """The most likely grade, and the expected grade as its score."""
    chances = [(int(choice), float(probabilities[choice])) for choice in GRADE_CHOICES]
    expected = sum(grade * chance for grade, chance in chances)
    best = max(chances, key=lambda item: item[1])[0]
    shown = " ".join(f"p({grade})={chance:.3f}" for grade, chance in chances)
    return GradeReading(best, expected, shown)


def answer_reading(reply: str, query: str, passage: str, references: Iterable[str]) -> GradeReading:
    """answer-based: the reader's reply against the reference answers."""
    answer = " ".join(reply.split())
    references = [reference for reference in references if reference.strip()]
    agrees = any(roundtrip_reference(query, ref, answer, passage) for ref in references)
    held = max(contains_reference(answer, references), token_f1(answer, references))
    return GradeReading(ANSWER_GRADE if agrees else 0, held, answer)


class RelevanceLabeller(Judge):
    """A generator spec grading pool pairs by one method.

    A ``Judge`` underneath: the same generator, identity, attempt policy, log-probability
    reading, token and cost tally.
    """

    def __init__(
        self,
        spec: str,
        method: str,
        backends=None,
        *,
        reading: str = "auto",
        templates: LabellerTemplates | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        if method not in METHODS:
            raise LabellerError(f"labeller method {method!r}: use one of {', '.join(METHODS)}")
        if parse_generator_spec(spec).backend == "extractive":
            raise LabellerError(
                "extractive cannot grade relevance: use a model, e.g. --judge llamacpp:smollm2 "
                "or ollama:MODEL"
            )
        if method == "answer-based" and reading == "logprob":
            raise LabellerError(
                "answer-based labelling reads a written answer: leave --judge-method out"
            )
        # The reader of answer-based writes its answer, whatever the backend can do.
        super().__init__(
            spec,
            backends,
            options=JudgeOptions(method="text" if method == "answer-based" else reading),
            prices=prices,
        )
        self.relevance_method = method
        self.labeller_templates = templates or LabellerTemplates()

    @property
    def reading(self) -> str:
        """How a reply becomes a grade: part of the source's prompt hash."""
        if self.relevance_method == "answer-based":
            return f"reader: greedy, {READER_MAX_TOKENS} tokens; round-trip answer match"
        if self.method == "logprob":
            return "logprob"
        return "text: " + json.dumps(self.attempts.key_material(), sort_keys=True)

    async def source(self) -> LabellerSource:
        return LabellerSource(
            judge=f"{self.spec} ({await self.identity()})",
            method=self.relevance_method,
            prompt_sha256=self.labeller_templates.sha256(self.relevance_method, self.reading),
            encoder=None,
        )

    def requests_per_pair(self) -> int:
        if self.relevance_method == "answer-based":
            return 1
        return requests_per_verdict(self.method, self.attempts)

    def completion_tokens_per_call(self) -> int:
        if self.relevance_method == "answer-based":
            return READER_MAX_TOKENS
        return 0 if self.method == "logprob" else self.attempts.max_tokens

    async def grade(
        self, query: str, passage: str, known: str | None = None, references: Iterable[str] = ()
    ) -> GradeReading:
        """One pair's grade; a failed call raises ``GenerationError`` (nothing is kept)."""
        prompt = labeller_prompt(
            self.labeller_templates, self.relevance_method, self.style, query, passage, known
        )
        if self.relevance_method == "answer-based":
            self.tally.calls += 1
            options = GenerationOptions(
                max_tokens=READER_MAX_TOKENS, temperature=0.0, seed=0, fair=False
            )
            reply = await self._complete(prompt, options)
            return answer_reading(reply, query, passage, references)
        if self.method == "logprob":
            self.tally.calls += 1
            probabilities = await self.generator.choice_probabilities(prompt, GRADE_CHOICES)
            return grade_from_probabilities(probabilities)
        replies: list[str] = []
        for attempt in range(self.attempts.attempts):
            self.tally.calls += 1
            replies.append(await self._complete(prompt, self.attempts.options(attempt)))
            grade = parse_grade(replies[-1])
            if grade is not None:
                return GradeReading(grade, None, _joined(replies))
        self.tally.abstentions += 1
        return GradeReading(None, None, _joined(replies))


def _joined(replies: list[str]) -> str:
    return " | ".join(" ".join(reply.split()) for reply in replies)


# what the set knows about each query ------------------------------------------------------


@dataclass(frozen=True)
class SetContext:
    """Per query: the ids and text of its known relevant passage (generated sets) and its
    reference answers."""

    known_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    known_text: dict[str, str] = field(default_factory=dict)
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)


def set_context(testset: StoredTestset, corpus: Corpus, unit: str) -> SetContext:
    if is_imported(testset):
        references = {
            str(record["query_id"]): tuple(str(answer) for answer in record.get("answers") or ())
            for record in testset.records
        }
        return SetContext(references={qid: refs for qid, refs in references.items() if refs})
    scored = testset.scored()
    anchored = anchor_questions(scored, unit, corpus)
    texts = UnitTexts(corpus, unit)
    known_ids: dict[str, frozenset[str]] = {}
    known_text: dict[str, str] = {}
    for query_id, judged in anchored.qrels.items():
        found = [texts.get(judged_id) for judged_id in sorted(judged)]
        pieces = [text.text for text in found if text is not None]
        if pieces:
            known_ids[query_id] = frozenset(judged)
            known_text[query_id] = "\n".join(pieces)
    references = {
        str(record["query_id"]): (str(record["answer"]),)
        for record in scored
        if str(record.get("answer") or "").strip()
    }
    return SetContext(known_ids, known_text, references)


def check_method(testset: StoredTestset, method: str, context: SetContext) -> None:
    """A method the set cannot serve is refused before any pooling or call."""
    if method == "one-shot" and is_imported(testset):
        raise LabellerError(
            f"test set {testset.name!r} was imported: it knows no relevant passage for "
            "one-shot grading; use --method pointwise"
        )
    if method == "one-shot" and not context.known_text:
        raise LabellerError(
            f"test set {testset.name!r}: no question's source text is in the corpus any more, "
            "so one-shot grading has nothing to grade against; use --method pointwise"
        )
    if method == "answer-based" and not context.references:
        raise LabellerError(
            f"test set {testset.name!r} holds no reference answers, which answer-based "
            "grading matches against; import them (testset import --answers FILE) or use "
            "--method pointwise"
        )


# a run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairTask:
    pair: QueuePair
    known: str | None = None
    references: tuple[str, ...] = ()


@dataclass
class LabellingPlan:
    tasks: list[PairTask] = field(default_factory=list)
    earlier: int = 0  # graded or abstained on by the same source before
    known_itself: int = 0  # one-shot: the known relevant passage (not asked)
    # one-shot: the question has no known relevant passage (not kept by the round trip, or
    # its source text is gone): not asked
    no_known: int = 0
    no_reference: int = 0  # answer-based: the query has no reference answer (abstentions)


def plan_labelling(
    pairs: Iterable[QueuePair],
    method: str,
    earlier: Mapping[PairKey, AutomaticGrade],
    context: SetContext,
) -> LabellingPlan:
    """Which pairs to ask about, and why the others are not asked."""
    plan = LabellingPlan()
    for pair in pairs:
        if pair_key(pair) in earlier:
            plan.earlier += 1
            continue
        if method == "one-shot":
            known = context.known_text.get(pair.query_id)
            if known is None:
                plan.no_known += 1
            elif pair.judged.judged_id in context.known_ids[pair.query_id]:
                plan.known_itself += 1
            else:
                plan.tasks.append(PairTask(pair, known=known))
        elif method == "answer-based":
            references = context.references.get(pair.query_id, ())
            if references:
                plan.tasks.append(PairTask(pair, references=references))
            else:
                plan.no_reference += 1
        else:
            plan.tasks.append(PairTask(pair))
    return plan


@dataclass
class LabellingSummary:
    source: LabellerSource
    plan: LabellingPlan
    graded: int = 0
    abstained: int = 0  # answered, but with no usable grade
    failed: int = 0  # the call failed: asked again next run
    stopped: str | None = None  # why the run stopped before its last pair

    @property
    def asked(self) -> int:
        return self.graded + self.abstained + self.failed

    def line(self) -> str:
        """The summary a run ends with."""
        plan = self.plan
        abstained = f"abstained {self.abstained + plan.no_reference}"
        if plan.no_reference:
            abstained += f" ({plan.no_reference} with no reference answer, not asked)"
        parts = [f"graded {self.graded}", abstained, f"failed {self.failed}"]
        line = ", ".join(parts) + f"; source {self.source.describe()}"
        notes = []
        if plan.earlier:
            notes.append(f"{plan.earlier} done by an earlier run")
        if plan.known_itself:
            notes.append(f"{plan.known_itself} known relevant passages not asked")
        if plan.no_known:
            notes.append(f"{plan.no_known} not asked (no known relevant passage)")
        if self.failed:
            notes.append("failed pairs are asked again by the next run")
        return line + ("; " + "; ".join(notes) if notes else "")


async def label_pairs(
    labeller: RelevanceLabeller,
    plan: LabellingPlan,
    store: AutomaticGrades,
    source: LabellerSource,
    progress: Callable[[int, int], None] | None = None,
) -> LabellingSummary:
    """Grade the plan's pairs one by one, each stored before the next is asked."""
    summary = LabellingSummary(source, plan)
    failures_in_a_row = 0
    total = len(plan.tasks)
    for done, task in enumerate(plan.tasks, start=1):
        judged = task.pair.judged
        try:
            reading = await labeller.grade(
                task.pair.query, judged.text, task.known, task.references
            )
        except GenerationError as error:
            summary.failed += 1
            failures_in_a_row += 1
            labeller.tally.errors.append(str(error))
            if failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
                left = total - done
                summary.stopped = (
                    f"{failures_in_a_row} calls to {labeller.spec} failed in a row (last: "
                    f"{error}); {left} {'pair' if left == 1 else 'pairs'} not asked; run the "
                    "same command again to resume"
                )
                break
            continue
        failures_in_a_row = 0
        store.add(
            AutomaticGrade(
                query_id=task.pair.query_id,
                doc_id=judged.doc_id,
                passage_id=judged.passage_id,
                start=judged.start,
                end=judged.end,
                text_sha256=judged.text_sha256,
                grade=reading.grade,
                source=source,
                score=reading.score,
            )
        )
        if reading.grade is None:
            summary.abstained += 1
        else:
            summary.graded += 1
        if progress is not None:
            progress(done, total)
    return summary
