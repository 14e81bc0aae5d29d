"""Write a test set: sample passages, ask a generator for a question and answer from each,
filter, and store every verdict as it is reached (so a stopped run resumes).

The round-trip check (Alberti et al., 2019): the checker — the generator itself unless
``--checker`` names another — answers the question from the source passage alone; the
question is kept only when that answer agrees with the reference answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus, Passage
from ragtui.encoders import EncodeProgress
from ragtui.experiment.answer_metrics import normalize_answer, token_f1
from ragtui.generation import GenerationOptions, make_generator
from ragtui.generation.base import GenerationDone, GenerationError, Prompt, PromptSource, TextDelta
from ragtui.testsets import filters
from ragtui.testsets.question_format import (
    TEMPLATE_TEXT,
    check_prompt,
    parse_question,
    question_prompt,
)
from ragtui.testsets.sampling import sample_passages
from ragtui.testsets.store import TestsetError, TestsetFolder, check_name, testsets_root

FILTERS = ("generic", "copied", "duplicate", "language", "roundtrip")
# Funnel order: each sampled passage ends in exactly one of these.
OUTCOMES = (
    "failed",
    "unparseable",
    "generic",
    "copied",
    "duplicate",
    "other language",
    "high overlap",
    "not answerable",
    "kept",
)
REASON_OF_FILTER = {
    "generic": "generic",
    "copied": "copied",
    "duplicate": "duplicate",
    "language": "other language",
    "roundtrip": "not answerable",
}
ATTEMPTS = 2  # a second try (sampled, not greedy) when the first reply has no question
# With --max-overlap: up to this many tries (the first greedy, then sampled) for a question
# that passes the cheap filters and the cap; on Cranfield only about one kept greedy
# question in ten had at most 60% of its content words in its passage.
OVERLAP_ATTEMPTS = 4
# Share of an answer's content words found in the passage for the passage to support it.
SUPPORTED_SHARE = 0.6
AGREEMENT_F1 = 0.5  # token F1 between the check answer and the reference that counts as agreeing


@dataclass(frozen=True)
class TestsetPlan:
    __test__ = False  # a pytest-style name, not a test class

    name: str
    generator: str
    count: int = 100
    seed: int = 0
    checker: str | None = None
    enabled: tuple[str, ...] = FILTERS
    max_tokens: int = 96
    # Opt-in: drop a question when more than this share of its content words are in its
    # passage (the lexical bias that favours BM25); None keeps them all.
    max_overlap: float | None = None

    def settings(self) -> dict[str, Any]:
        """What must match for a stopped run to be resumed into the same set. The count is
        not among them: the sample for a larger -n begins with the sample for a smaller
        one, so a larger -n grows the set without asking about any passage again."""
        return {
            "generator": self.generator,
            "checker": self.checker or self.generator,
            "seed": self.seed,
            "filters": {name: name in self.enabled for name in FILTERS},
            "sampling": {
                "temperature": 0.0,
                "retry_temperature": 0.7,
                "max_tokens": self.max_tokens,
            },
            "attempts": ATTEMPTS,
        } | (
            {}
            if self.max_overlap is None
            else {"max_overlap": self.max_overlap, "overlap_attempts": OVERLAP_ATTEMPTS}
        )


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

    def funnel_line(self) -> str:
        return funnel_line(self.funnel)


def shown_outcomes(funnel: dict[str, int]) -> list[str]:
    # The overlap cap is opt-in: its count is shown only for sets made with it.
    return [o for o in OUTCOMES if o != "high overlap" or o in funnel]


def funnel_line(funnel: dict[str, int]) -> str:
    done = sum(funnel.get(outcome, 0) for outcome in OUTCOMES)
    parts = [f"generated {done}"]
    parts += [f"{outcome} {funnel.get(outcome, 0)}" for outcome in shown_outcomes(funnel)]
    return " · ".join(parts)


def word_overlap(question: str, passage: str) -> float:
    """Share of the question's content words found in its source passage (lexical bias)."""
    own = filters.content_words(question)
    return len(own & filters.content_words(passage)) / len(own) if own else 0.0


async def _complete(generator, prompt: Prompt, options: GenerationOptions) -> str:
    pieces = []
    async for event in generator.stream(prompt, options):
        if isinstance(event, TextDelta):
            pieces.append(event.text)
        elif isinstance(event, GenerationDone):
            break
    return "".join(pieces)


def answers_agree(checked: str, reference: str) -> bool:
    if not normalize_answer(checked) or not normalize_answer(reference):
        return False
    if normalize_answer(reference) in normalize_answer(checked):
        return True
    return token_f1(checked, [reference]) >= AGREEMENT_F1


# "Answer: …", "a. …", "(b) …" before the answer itself.
_ANSWER_LEAD = re.compile(r"^[\s*_]*(?:(?:short\s+)?answer\s*[:：]|\(?[a-e1-9][.)](?=\s))\s*", re.I)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def restates(checked: str, question: str) -> bool:
    """The check answer is a question, or says nothing the question did not (small models
    echo "2. What is the p-function?" or "The wing lift affects drag." when asked "How
    does the wing lift affect drag?"). Such an answer proves nothing about the passage."""
    if "?" in checked:
        return True
    asked = {_stem(word) for word in filters.words(question)}
    said = {_stem(word) for word in filters.words(checked)} - filters.STOP_WORDS
    return not said - asked


def roundtrip_reference(question: str, answer: str, checked: str, passage: str) -> str | None:
    """The question's reference answer when the round trip agrees, else None.

    With an answer from the generator, the checker's answer must agree with it. Without
    one, the checker's answer becomes the reference when the passage supports it (most of
    its content words are in the passage). An answer that restates the question never
    agrees: otherwise the questions that reuse their passage's words pass most easily.
    """
    checked = _ANSWER_LEAD.sub("", " ".join(checked.split()))
    if not checked or restates(checked, question):
        return None
    if answer:
        return answer if answers_agree(checked, answer) else None
    return checked if word_overlap(checked, passage) >= SUPPORTED_SHARE else None


def _record_base(passage: Passage, index: int, name: str) -> dict[str, Any]:
    return {
        "index": index,
        "query_id": f"{name}-{index:04d}",
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "source": passage.source,
        "start": passage.start,
        "end": passage.end,
        "text_hash": passage.content_hash,
    }


async def _judge_passage(
    passage: Passage,
    plan: TestsetPlan,
    generator,
    checker,
    kept_questions: list[str],
) -> dict[str, Any]:
    """Everything the set records about one passage, ending in its verdict."""
    record: dict[str, Any] = {"replies": [], "checks": {}}

    def acceptable(candidate: tuple[str, str]) -> bool:
        # Without a cap, any question ends the tries; with one, only a question that the
        # cheap filters and the cap would keep (else the first question is judged).
        if plan.max_overlap is None:
            return True
        question = candidate[0]
        if word_overlap(question, passage.text) > plan.max_overlap:
            return False
        verdicts = filters.cheap_checks(question, passage.text, kept_questions, plan.enabled)
        return "fail" not in verdicts.values()

    parsed = None
    attempts = ATTEMPTS if plan.max_overlap is None else OVERLAP_ATTEMPTS
    for attempt in range(attempts):
        options = GenerationOptions(
            max_tokens=plan.max_tokens,
            temperature=0.0 if attempt == 0 else 0.7,
            seed=plan.seed + attempt,
            fair=False,
        )
        reply = await _complete(
            generator, question_prompt(generator.prompt_style, passage.text), options
        )
        record["replies"].append(reply)
        candidate = parse_question(reply)
        if candidate is None:
            continue
        fits = acceptable(candidate)
        if parsed is None or fits:
            parsed = candidate
        if fits:
            break
    if parsed is None:
        record["verdict"] = "unparseable"
        return record
    question, answer = parsed
    record["question"], record["answer"] = question, answer
    checks = record["checks"]
    checks.update(filters.cheap_checks(question, passage.text, kept_questions, plan.enabled))
    failed = [name for name, verdict in checks.items() if verdict == "fail"]
    if failed:
        record["verdict"] = REASON_OF_FILTER[failed[0]]
        return record
    if plan.max_overlap is not None:
        # Before the round-trip check, so a dropped question costs no second call.
        too_close = word_overlap(question, passage.text) > plan.max_overlap
        checks["overlap"] = "fail" if too_close else "pass"
        if too_close:
            record["verdict"] = "high overlap"
            return record
    if "roundtrip" in plan.enabled:
        prompt = check_prompt(checker.prompt_style, passage.text, question)
        prompt = Prompt(
            prompt.style,
            messages=prompt.messages,
            text=prompt.text,
            stop=prompt.stop,
            source=PromptSource(question, (passage.text,)),
        )
        options = GenerationOptions(max_tokens=48, temperature=0.0, seed=plan.seed, fair=False)
        checked = " ".join((await _complete(checker, prompt, options)).split())
        record["check_answer"] = checked
        reference = roundtrip_reference(question, answer, checked, passage.text)
        if reference is not None and not answer:
            record["answer"] = answer = reference
            record["answer_from"] = "checker"
        checks["roundtrip"] = "fail" if reference is None else "pass"
        if checks["roundtrip"] == "fail":
            record["verdict"] = "not answerable"
            return record
    else:
        checks["roundtrip"] = "off"
    record["verdict"] = "kept"
    record["overlap"] = word_overlap(question, passage.text)
    return record


def _without_count(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    # Sets made before -n could grow a set kept the count among their settings.
    return None if settings is None else {k: v for k, v in settings.items() if k != "count"}


async def generate_testset(
    corpus: Corpus,
    plan: TestsetPlan,
    backends,
    *,
    data_root: Path | None = None,
    progress: Callable[[EncodeProgress], None] | None = None,
) -> TestsetOutcome:
    """Make (or resume) the named set; returns where it is and its funnel."""
    check_name(plan.name)
    if plan.generator.split(":", 1)[0] == "extractive":
        raise TestsetError(
            "extractive cannot write questions: use a model, e.g. --generator llamacpp:smollm2"
        )
    folder = testsets_root(corpus.root, corpus.source_key, data_root) / plan.name
    writer = TestsetFolder(folder)
    unit = "document" if corpus.kind == "beir" else "passage"
    earlier = writer.meta()
    if earlier is not None and _without_count(earlier.get("settings")) != plan.settings():
        raise TestsetError(
            f"test set {plan.name!r} for {corpus.root} was made with other settings "
            f"({folder / 'testset.json'}): choose another --name, or remove that folder"
        )
    generator = make_generator(plan.generator, backends)
    checker = generator if not plan.checker else make_generator(plan.checker, backends)
    started = time.monotonic()
    try:
        identity = await generator.identity()
        checker_identity = identity if checker is generator else await checker.identity()
        meta = {
            "name": plan.name,
            "corpus": str(corpus.root),
            "corpus_key": corpus.source_key,
            "judged_unit": unit,
            "settings": plan.settings(),
            "model_identity": identity,
            "checker_identity": checker_identity,
            "prompt_templates": TEMPLATE_TEXT,
            "prompt_sha256": hashlib.sha256(TEMPLATE_TEXT.encode()).hexdigest(),
            "count": max(plan.count, (earlier or {}).get("count", 0)),
            "created": (earlier or {}).get("created")
            or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "complete": False,
        }
        writer.write_meta({**(earlier or {}), **meta})
        done = {record["index"]: record for record in writer.records()}
        passages = sample_passages(corpus, plan.count, plan.seed)
        kept_questions = [r["question"] for r in done.values() if r.get("verdict") == "kept"]
        resumed = len(done)
        todo = [(index, passage) for index, passage in enumerate(passages) if index not in done]
        for number, (index, passage) in enumerate(todo, start=1):
            try:
                judged = await _judge_passage(passage, plan, generator, checker, kept_questions)
            except GenerationError as error:
                if not done and number == 1:
                    raise TestsetError(f"{plan.generator}: {error}") from None
                judged = {"verdict": "failed", "error": str(error)}
            record = {**_record_base(passage, index, plan.name), **judged}
            writer.add(record)
            done[index] = record
            if record["verdict"] == "kept":
                kept_questions.append(record["question"])
            if progress is not None:
                kept_count = len(kept_questions)
                note = f"kept {kept_count} · dropped {len(done) - kept_count}"
                elapsed = time.monotonic() - started
                progress(
                    EncodeProgress(
                        number, len(todo), elapsed, "writing questions", "passages", note
                    )
                )
    finally:
        await generator.aclose()
        if checker is not generator:
            await checker.aclose()
    records = [done[index] for index in sorted(done)]
    kept = [record for record in records if record["verdict"] == "kept"]
    funnel = dict(Counter(record["verdict"] for record in records))
    if plan.max_overlap is not None:
        funnel.setdefault("high overlap", 0)
    overlaps = [record["overlap"] for record in kept if "overlap" in record]
    mean_overlap = sum(overlaps) / len(overlaps) if overlaps else None
    writer.write_beir(kept, unit)
    writer.write_meta(
        {
            **writer.meta(),
            "complete": len(records) >= len(passages),
            "sampled": max(len(passages), len(records)),
            "funnel": {outcome: funnel.get(outcome, 0) for outcome in shown_outcomes(funnel)},
            "funnel_line": funnel_line(funnel),
            "mean_word_overlap": mean_overlap,
        }
    )
    warnings = []
    if len(passages) < plan.count:
        warnings.append(
            f"{corpus.root} has passages for only {len(passages)} questions "
            f"(asked for {plan.count})"
        )
    return TestsetOutcome(
        folder=folder,
        funnel=funnel,
        kept=len(kept),
        resumed=resumed,
        elapsed_s=time.monotonic() - started,
        mean_overlap=mean_overlap,
        warnings=warnings,
    )


def run_testset(corpus: Corpus, plan: TestsetPlan, backends, **kwargs) -> TestsetOutcome:
    return asyncio.run(generate_testset(corpus, plan, backends, **kwargs))
