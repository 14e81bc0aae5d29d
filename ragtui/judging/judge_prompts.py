"""What the LLM judge is asked, and how its replies are read.

Verdicts are one word or one digit: the packaged 135M/270M models follow that where they
do not follow JSON. Replies are read leniently ("Answer 2 is better." is a 2); anything
that names no verdict, or names two, is an abstention.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass

from ragtui.errors import RagtuiError
from ragtui.generation.base import Prompt, PromptStyle
from ragtui.generation.prompt_text import flatten

ANSWER_CHARS = 1200  # per answer in a judge prompt: small models have small contexts
SCALE = (1, 2, 3, 4, 5)

REFERENCE_LINE = "Reference answer (correct): {reference}\n\n"

_FIELDS = {
    "pairwise_user": {"question", "first", "second", "reference_line"},
    "pairwise_completion": {"question", "first", "second", "reference_line"},
    "correctness_user": {"question", "answer", "reference_line"},
    "correctness_completion": {"question", "answer", "reference_line"},
    "faithfulness_user": {"passages", "answer"},
    "faithfulness_completion": {"passages", "answer"},
}


@dataclass(frozen=True)
class JudgeTemplates:
    """The judge's prompts; ``[judge]`` in ragtui.toml overrides any of them.

    ``{reference_line}`` is empty without a reference answer, so one template serves the
    reference-guided and the reference-free judge.
    """

    system: str = (
        "You are a strict, fair judge of answers to questions. Ignore the order in which "
        "answers are shown and their length; judge only whether they answer the question "
        "correctly."
    )
    pairwise_user: str = (
        "Question: {question}\n\n{reference_line}Answer 1: {first}\n\nAnswer 2: {second}\n\n"
        "Which answer answers the question better? Reply with one word: 1, 2 or tie."
    )
    pairwise_completion: str = (
        "Two answers to a question, and which one answers it better.\n\n"
        "Question: {question}\n{reference_line}Answer 1: {first}\nAnswer 2: {second}\n"
        "The better answer is Answer"
    )
    correctness_user: str = (
        "Question: {question}\n\n{reference_line}Answer: {answer}\n\n"
        "How correct and complete is the answer? Reply with one number from 1 (wrong or "
        "no answer) to 5 (fully correct)."
    )
    correctness_completion: str = (
        "Question: {question}\n{reference_line}Answer: {answer}\n"
        "Correctness of the answer from 1 (wrong) to 5 (fully correct):"
    )
    faithfulness_user: str = (
        "Passages:\n{passages}\n\nAnswer: {answer}\n\n"
        "Is every claim of the answer supported by the passages? Reply with one number "
        "from 1 (mostly unsupported) to 5 (fully supported)."
    )
    faithfulness_completion: str = (
        "Passages:\n{passages}\nAnswer: {answer}\n"
        "Support of the answer by the passages from 1 (none) to 5 (full):"
    )

    def validate(self, where: str) -> None:
        for name, allowed in _FIELDS.items():
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(getattr(self, name)) if f}
            except ValueError as error:
                raise RagtuiError(
                    f"{where}: judge.{name} is not a valid template ({error})"
                ) from None
            unknown = used - allowed
            if unknown:
                raise RagtuiError(
                    f"{where}: judge.{name} uses {{{sorted(unknown)[0]}}}; only "
                    + ", ".join("{" + field + "}" for field in sorted(allowed))
                    + " are filled in"
                )

    def text(self) -> str:
        """Every template in one string: part of each verdict's cache key."""
        return "\n\x1e".join(getattr(self, name) for name in ("system", *_FIELDS))

    def sha256(self) -> str:
        """The templates' hash: a calibration holds only for the prompts it was made with."""
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()


def _flat(text: str, limit: int = ANSWER_CHARS) -> str:
    return flatten(text, limit)


def _prompt(style: PromptStyle, system: str, user: str, completion: str, values) -> Prompt:
    if style == "completion":
        return Prompt("completion", text=completion.format(**values), stop=("\n",))
    messages = (
        {"role": "system", "content": system},
        {"role": "user", "content": user.format(**values)},
    )
    return Prompt("chat", messages=messages)


def reference_line(reference: str | None, style: PromptStyle) -> str:
    if not reference:
        return ""
    line = REFERENCE_LINE.format(reference=_flat(reference, 400))
    return line if style == "chat" else line.rstrip("\n") + "\n"


def pairwise_prompt(
    templates: JudgeTemplates,
    style: PromptStyle,
    question: str,
    first: str,
    second: str,
    reference: str | None = None,
) -> Prompt:
    values = {
        "question": _flat(question, 600),
        "first": _flat(first),
        "second": _flat(second),
        "reference_line": reference_line(reference, style),
    }
    return _prompt(
        style, templates.system, templates.pairwise_user, templates.pairwise_completion, values
    )


def correctness_prompt(
    templates: JudgeTemplates,
    style: PromptStyle,
    question: str,
    answer: str,
    reference: str | None = None,
) -> Prompt:
    values = {
        "question": _flat(question, 600),
        "answer": _flat(answer),
        "reference_line": reference_line(reference, style),
    }
    return _prompt(
        style,
        templates.system,
        templates.correctness_user,
        templates.correctness_completion,
        values,
    )


def faithfulness_prompt(
    templates: JudgeTemplates, style: PromptStyle, passages: list[str], answer: str
) -> Prompt:
    numbered = "\n".join(
        f"[{number}] {_flat(text, 600)}" for number, text in enumerate(passages, start=1)
    )
    values = {"passages": numbered, "answer": _flat(answer)}
    return _prompt(
        style,
        templates.system,
        templates.faithfulness_user,
        templates.faithfulness_completion,
        values,
    )


_PAIR_WORDS = {
    "first": "1",
    "second": "2",
    "tie": "tie",
    "both": "tie",
    "equal": "tie",
    "equally": "tie",
    "neither": "tie",
}
_WORD = re.compile(r"[a-z]+")
_DIGIT = re.compile(r"(?<![\d.])([12])(?![\d]|\.\d)")


def parse_pairwise(reply: str) -> str | None:
    """ "1", "2" or "tie" from a reply; None when it names no verdict.

    The first 1 or 2 decides ("Looking at both, answer 2 is better. Answer 1 is vague."
    is a 2): small models wrap the verdict in talk that mentions both answers. Without a
    digit, the first of "first", "second" or a tie word ("tie", "both", "equal",
    "neither") does. A bare "A" or "B" is read as 1 or 2; inside a sentence those letters
    are plain English.
    """
    bare = reply.strip().strip(".)*:").lower()
    if bare in {"a", "b"}:
        return "1" if bare == "a" else "2"
    digit = _DIGIT.search(reply)
    if digit:
        return digit.group(1)
    for word in _WORD.findall(reply.lower()):
        if word in _PAIR_WORDS:
            return _PAIR_WORDS[word]
    return None


# A number in a reply, with what may follow it: "4", "4/5", "8 out of 10", "3 of five".
_SCALE_NUMBER = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)(?:\s*(?:/|out\s+of|of)\s*"
    r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|hundred)\b)?",
    re.IGNORECASE,
)
# The scale itself echoed back ("on a scale of 1-5: 4"): not a grade.
_SCALE_ECHO = re.compile(r"(?<![\d.])1\s*(?:-|–|to)\s*5(?![\d.])", re.IGNORECASE)


def parse_scale(reply: str) -> int | None:
    """The grade on the 1–5 scale a reply names, or None.

    The first number decides, once an echo of the scale itself ("1-5") is set aside. A
    reply on another scale ("8/10", "10", "7 out of 10", "80%") is refused, not mapped:
    the prompt asked for 1–5, and a model that answers on its own scale may mean 0–10 or
    1–10 and grade by other anchors, so no mapping is faithful to what it meant. Refused,
    the reply gets the sampled retry and then counts as an abstention, which the figures
    report; "10" is never read as the digit 1 it starts with.
    """
    match = _SCALE_NUMBER.search(_SCALE_ECHO.sub(" ", reply))
    if match is None:
        return None
    number, denominator = match.group(1), match.group(2)
    if denominator is not None and denominator.lower() not in ("5", "five"):
        return None
    if not number.isdigit() or int(number) not in SCALE:
        return None
    return int(number)
