"""Whether an answer says what a reference answer says, by SQuAD's normalisation.

Text is lower-cased, punctuation and the articles a/an/the are removed and whitespace
collapsed. A reference is *contained* in a text when its normalised words occur there as
whole words in a row ("no" is not in "does not say", "98" is not in "1987"). One matcher
for the answer metrics of ``ragtui eval`` and the round-trip check of generated test sets,
so the two can never disagree about what counts as the same answer.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    lowered = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def _token_f1(answer_tokens: list[str], reference_tokens: list[str]) -> float:
    common = Counter(answer_tokens) & Counter(reference_tokens)
    overlap = sum(common.values())
    if not answer_tokens or not reference_tokens:
        return float(answer_tokens == reference_tokens)
    if overlap == 0:
        return 0.0
    precision = overlap / len(answer_tokens)
    recall = overlap / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer: str, references: Sequence[str]) -> float:
    tokens = normalize_answer(answer).split()
    return max(
        (_token_f1(tokens, normalize_answer(reference).split()) for reference in references),
        default=0.0,
    )


def contains_reference(text: str, references: Sequence[str]) -> float:
    """1.0 when some non-empty normalized reference occurs in the normalized text, on word
    boundaries."""
    haystack = f" {normalize_answer(text)} "
    return float(
        any(
            normalized and f" {normalized} " in haystack
            for normalized in (normalize_answer(reference) for reference in references)
        )
    )
