"""The prompts that ask a generator for a question (and for a check answer), and a lenient
reader of the plain ``Question: … / Answer: …`` lines small models manage to follow."""

from __future__ import annotations

import re

from ragtui.generation.base import Prompt, PromptStyle

PASSAGE_CHARS = 1500

# The prompt ends with "Question:", so even a model that ignores the format starts its
# reply with a question (on Cranfield, SmolLM2-135M summarised the passage instead for
# 56 of 80 passages when the format was only described).
QUESTION_SYSTEM = "You write the questions people type into a search engine."
QUESTION_USER = (
    "Passage: {passage}\n\n"
    "Write a question this passage answers, one that makes sense without the passage. "
    "Then write its short answer.\nQuestion:"
)
QUESTION_COMPLETION = (
    "Each passage below is followed by a search question it answers and the short answer.\n\n"
    "Passage: {passage}\nQuestion:"
)

CHECK_SYSTEM = "Answer the question from the passage alone, in a few words."
CHECK_USER = "Passage:\n{passage}\n\nQuestion: {question}\nShort answer:"
CHECK_COMPLETION = "Passage: {passage}\n\nQuestion: {question}\nShort answer from the passage:"


def _flat(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PASSAGE_CHARS else flat[: PASSAGE_CHARS - 1] + "…"


def question_prompt(style: PromptStyle, passage: str) -> Prompt:
    passage = _flat(passage)
    if style == "completion":
        return Prompt(
            "completion", text=QUESTION_COMPLETION.format(passage=passage), stop=("\n\n",)
        )
    messages = (
        {"role": "system", "content": QUESTION_SYSTEM},
        {"role": "user", "content": QUESTION_USER.format(passage=passage)},
    )
    return Prompt("chat", messages=messages)


def check_prompt(style: PromptStyle, passage: str, question: str) -> Prompt:
    passage = _flat(passage)
    if style == "completion":
        text = CHECK_COMPLETION.format(passage=passage, question=question)
        return Prompt("completion", text=text, stop=("\n",))
    messages = (
        {"role": "system", "content": CHECK_SYSTEM},
        {"role": "user", "content": CHECK_USER.format(passage=passage, question=question)},
    )
    return Prompt("chat", messages=messages)


TEMPLATE_TEXT = "\n---\n".join(
    (
        QUESTION_SYSTEM,
        QUESTION_USER,
        QUESTION_COMPLETION,
        CHECK_SYSTEM,
        CHECK_USER,
        CHECK_COMPLETION,
    )
)

_QUESTION_LABEL = re.compile(r"^[\s*_#>\-\d.)]*(?:question|q)\s*[:：]\s*", re.I | re.M)
# "Q1. What …", "1) What …", "a) What …", "(A) What …", ". . . what …": a numbered or
# lettered question keeps only the question.
_NUMBERING = re.compile(
    r"^(?:[.…\s]+|(?:q(?:uestion)?\s*)?(?:\d+|[a-e])\s*[.:)](?=\s)\s*|\((?:\d+|[a-e])\)\s*)+",
    re.I,
)
_ANSWER_LABEL = re.compile(r"(?:^|\s)[*_]*(?:answer|a)[*_]*\s*[:：]\s*", re.I)


def _clean(text: str) -> str:
    return " ".join(text.strip().strip("*_\"'`").split())


def parse_question(output: str) -> tuple[str, str] | None:
    """(question, answer) from a reply, or None when it holds no usable question. The answer
    is "" when the reply gave none (the round-trip check then supplies one).

    The prompts end with ``Question:``, so a reply may start with the question itself; it
    must then hold a "?" on its first line. Small models also put question and answer on
    one line, bold the labels, number them or write ``Q:``/``A:``.
    """
    text = output.replace("\r", "").strip()
    label = _QUESTION_LABEL.search(text)
    if label is not None:
        rest = text[label.end() :]
    elif "?" in text.split("\n", 1)[0]:
        rest = text
    else:
        return None
    answer_label = _ANSWER_LABEL.search(rest)
    if answer_label is not None:
        asked = rest[: answer_label.start()]
        answer = _clean(rest[answer_label.end() :].split("\n", 1)[0])
    else:
        asked, answer = rest, ""
    question = _NUMBERING.sub("", _clean(asked.strip().split("\n", 1)[0]))
    cut = question.find("?")
    question = question[: cut + 1] if cut > 0 else question.rstrip(".") + "?"
    if len(question.split()) < 3 or len(answer.split()) > 40:
        return None
    return question, answer
