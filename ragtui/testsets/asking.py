"""One passage's way through the set: ask for a question (retrying by the attempt policy),
run the filters in funnel order, then the round-trip check. Everything asked and answered
goes into the passage's record, which ends in its outcome."""

from __future__ import annotations

from typing import Any

from ragtui.corpus.model import Passage
from ragtui.generation.base import Prompt, PromptSource
from ragtui.generation.complete import complete
from ragtui.testsets import filters
from ragtui.testsets.attempts import CHECK_MAX_TOKENS, CHECK_RETRY, question_retry
from ragtui.testsets.funnel import REASON_OF_FILTER
from ragtui.testsets.plan import TestsetPlan
from ragtui.testsets.question_format import check_prompt, parse_question, question_prompt
from ragtui.testsets.roundtrip import roundtrip_reference


async def _ask_question(
    passage: Passage, plan: TestsetPlan, generator, kept_questions: list[str], record: dict
) -> tuple[str, str] | None:
    """The question (and answer) to judge, or None when no reply held one."""

    def acceptable(candidate: tuple[str, str]) -> bool:
        # Without a cap, any question ends the tries; with one, only a question that the
        # cheap filters and the cap would keep (else the first question is judged).
        if plan.max_overlap is None:
            return True
        question = candidate[0]
        if filters.word_overlap(question, passage.text) > plan.max_overlap:
            return False
        checks = filters.cheap_checks(question, passage.text, kept_questions, plan.enabled)
        return "fail" not in checks.values()

    parsed = None
    retry = question_retry(plan.max_overlap)
    prompt = question_prompt(generator.prompt_style, passage.text)
    for attempt in range(retry.attempts):
        options = retry.options(attempt, max_tokens=plan.max_tokens, seed=plan.seed)
        reply, _ = await complete(generator, prompt, options)
        record["replies"].append(reply)
        candidate = parse_question(reply)
        if candidate is None:
            continue
        fits = acceptable(candidate)
        if parsed is None or fits:
            parsed = candidate
        if fits:
            break
    return parsed


async def _check_answer(passage: Passage, question: str, plan: TestsetPlan, checker) -> str:
    prompt = check_prompt(checker.prompt_style, passage.text, question)
    prompt = Prompt(
        prompt.style,
        messages=prompt.messages,
        text=prompt.text,
        stop=prompt.stop,
        source=PromptSource(question, (passage.text,)),
    )
    options = CHECK_RETRY.options(0, max_tokens=CHECK_MAX_TOKENS, seed=plan.seed)
    reply, _ = await complete(checker, prompt, options)
    return " ".join(reply.split())


async def ask_passage(
    passage: Passage,
    plan: TestsetPlan,
    generator,
    checker,
    kept_questions: list[str],
) -> dict[str, Any]:
    """Everything the set records about one passage, ending in its outcome ("verdict")."""
    record: dict[str, Any] = {"replies": [], "checks": {}}
    parsed = await _ask_question(passage, plan, generator, kept_questions, record)
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
        too_close = filters.word_overlap(question, passage.text) > plan.max_overlap
        checks["overlap"] = "fail" if too_close else "pass"
        if too_close:
            record["verdict"] = "high overlap"
            return record
    if "roundtrip" in plan.enabled:
        checked = await _check_answer(passage, question, plan, checker)
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
    record["overlap"] = filters.word_overlap(question, passage.text)
    return record
