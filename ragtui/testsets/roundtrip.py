"""The round-trip check (Alberti et al., 2019): the checker answers the question from the
source passage alone, and the question is kept only when that answer agrees with the
reference answer."""

from __future__ import annotations

import re

from ragtui.answer_match import contains_reference, normalize_answer, token_f1
from ragtui.testsets.filters import STOP_WORDS, word_overlap, words

# Share of an answer's content words found in the passage for the passage to support it.
SUPPORTED_SHARE = 0.6
AGREEMENT_F1 = 0.5  # token F1 between the check answer and the reference that counts as agreeing

# "Answer: …", "a. …", "(b) …" before the answer itself.
_ANSWER_LEAD = re.compile(r"^[\s*_]*(?:(?:short\s+)?answer\s*[:：]|\(?[a-e1-9][.)](?=\s))\s*", re.I)


def answers_agree(checked: str, reference: str) -> bool:
    """The reference's words occur in the check answer as whole words (as eval's answer
    recall counts), or the two share most of their words (token F1)."""
    if not normalize_answer(checked) or not normalize_answer(reference):
        return False
    if contains_reference(checked, [reference]):
        return True
    return token_f1(checked, [reference]) >= AGREEMENT_F1


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def restates(checked: str, question: str) -> bool:
    """The check answer is a question, or says nothing the question did not (small models
    echo "2. What is the p-function?" or "The wing lift affects drag." when asked "How
    does the wing lift affect drag?"). Such an answer proves nothing about the passage."""
    if "?" in checked:
        return True
    asked = {_stem(word) for word in words(question)}
    said = {_stem(word) for word in words(checked)} - STOP_WORDS
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
