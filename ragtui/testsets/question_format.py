"""The prompts that ask a generator for a question (and for a check answer), and a lenient
reader of the plain ``Question: … / Answer: …`` lines small models manage to follow."""

from __future__ import annotations

import re

from ragtui.generation.base import Prompt, PromptStyle
from ragtui.generation.prompt_text import flatten

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
# A base model continues a pattern better than it follows a description: on Cranfield,
# Gemma-3-270M gave no question for 43% of 300 passages when the pattern was only
# described, and for 0 of 40 with these worked examples. They are our own, from other
# fields than any test corpus, and ask in other words than their passage (a question that
# reuses its passage's words favours BM25). Only the question: a base model's answer
# written before it is asked to read the passage is a guess, so the checker's answer from
# the passage becomes the reference (see generate.roundtrip_reference).
QUESTION_EXAMPLES = (
    (
        "Concrete test cylinders cured at 5 C for 28 days reached about 70 percent of the "
        "compressive strength of cylinders cured at 20 C. Adding a calcium chloride "
        "accelerator narrowed the gap to under 10 percent but increased corrosion of the "
        "embedded steel bars.",
        "does curing concrete in cold weather make it weaker?",
    ),
    (
        "In a trial of 412 adults with mild hypertension, a diet low in sodium lowered "
        "systolic pressure by an average of 6 mm Hg after eight weeks; the fall was larger "
        "in participants over sixty.",
        "how much can eating less salt reduce blood pressure?",
    ),
    (
        "The replacement policy proposed here scores each cache block by how often and how "
        "recently it was used and evicts the block with the lowest score. On database "
        "workloads it raised the hit rate from 61 to 74 percent compared with LRU.",
        "which cache eviction methods work better than least recently used for databases?",
    ),
)
QUESTION_COMPLETION = (
    "Questions people typed into a search engine, each under a passage that answers it. "
    "The questions use their own words, not the passage's.\n\n"
    + "".join(
        f"Passage: {passage}\nQuestion: {question}\n\n" for passage, question in QUESTION_EXAMPLES
    )
    + "Passage: {passage}\nQuestion:"
)

CHECK_SYSTEM = "Answer the question from the passage alone, in a few words."
CHECK_USER = "Passage:\n{passage}\n\nQuestion: {question}\nShort answer:"
# The worked examples again, answered in the passage's own words: without them Gemma-3
# often repeated the question instead of answering it.
CHECK_EXAMPLE_ANSWERS = (
    "about 70 percent of the compressive strength",
    "an average of 6 mm Hg",
    "a policy that scores each block by how often and how recently it was used",
)
CHECK_COMPLETION = (
    "".join(
        f"Passage: {passage}\nQuestion: {question}\nShort answer from the passage: {answer}\n\n"
        for (passage, question), answer in zip(
            QUESTION_EXAMPLES, CHECK_EXAMPLE_ANSWERS, strict=True
        )
    )
    + "Passage: {passage}\nQuestion: {question}\nShort answer from the passage:"
)


def question_prompt(style: PromptStyle, passage: str) -> Prompt:
    passage = flatten(passage, PASSAGE_CHARS)
    if style == "completion":
        return Prompt("completion", text=QUESTION_COMPLETION.format(passage=passage), stop=("\n",))
    messages = (
        {"role": "system", "content": QUESTION_SYSTEM},
        {"role": "user", "content": QUESTION_USER.format(passage=passage)},
    )
    return Prompt("chat", messages=messages)


def check_prompt(style: PromptStyle, passage: str, question: str) -> Prompt:
    passage = flatten(passage, PASSAGE_CHARS)
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
