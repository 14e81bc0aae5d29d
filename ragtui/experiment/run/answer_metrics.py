"""Answer quality against reference answers and against the passages the generator saw.

Reference-based (SQuAD's definitions): text is lower-cased, punctuation and the articles
a/an/the are removed and whitespace collapsed; exact match and token F1 take the best
reference. Answer recall asks whether any normalized reference appears inside the
normalized answer, which suits generators that answer in a sentence rather than a span.

Groundedness is lexical: an answer sentence (citations removed) is *supported* when at
least ``SUPPORT_SHARE`` of its content words (normalized tokens that are not stop words)
occur in one single passage given to the generator. Groundedness is the share of answer
sentences with any content words that are supported. A citation ``[n]`` is valid when
passage n was given and supports the sentence that carries the citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# One matcher for eval and the test sets' round-trip check (re-exported here for both).
from ragtui.answer_match import contains_reference, normalize_answer, token_f1

SUPPORT_SHARE = 0.6

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_STOP_WORD_TEXT = """a an the and or but if of to in on at by for with from as is are was were
    be been being it its this that these those there here which who whom what when where why how
    not no do does did has have had can could will would should may might must shall
    i you he she we they them their our your my his her me us so than then too very also
    into about over under up down out more most some any all each both only just such"""
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def exact_match(answer: str, references: Sequence[str]) -> float:
    normalized = normalize_answer(answer)
    return float(any(normalized == normalize_answer(reference) for reference in references))


def _content_words(text: str) -> set[str]:
    return {word for word in normalize_answer(text).split() if word not in _STOP_WORDS}


def _supported_by(words: set[str], passage_words: set[str]) -> bool:
    return bool(words) and len(words & passage_words) >= SUPPORT_SHARE * len(words)


@dataclass(frozen=True)
class Grounding:
    groundedness: float | None  # None: no sentence with content words
    sentences: int
    citations: int
    citation_validity: float | None  # None: no citations


def grounding(answer: str, passages: Sequence[str]) -> Grounding:
    passage_words = [_content_words(passage) for passage in passages]
    counted = supported = citations = valid = 0
    for sentence in _SENTENCE_END.split(answer):
        cited = [
            int(number)
            for group in _CITATION.findall(sentence)
            for number in re.split(r"\s*,\s*", group)
        ]
        words = _content_words(_CITATION.sub(" ", sentence))
        if words:
            counted += 1
            supported += any(_supported_by(words, known) for known in passage_words)
        for number in cited:
            citations += 1
            valid += 1 <= number <= len(passages) and _supported_by(
                words, passage_words[number - 1]
            )
    return Grounding(
        groundedness=supported / counted if counted else None,
        sentences=counted,
        citations=citations,
        citation_validity=valid / citations if citations else None,
    )


def answer_figures(
    answer: str, references: Sequence[str] | None, passages: Sequence[str]
) -> dict[str, float | None]:
    """Every answer metric for one answer; reference-based ones are None without references."""
    grounded = grounding(answer, passages)
    figures: dict[str, float | None] = {
        "groundedness": grounded.groundedness,
        "citation_validity": grounded.citation_validity,
        "exact_match": None,
        "f1": None,
        "answer_recall": None,
        "context_has_answer": None,
    }
    if references:
        figures["exact_match"] = exact_match(answer, references)
        figures["f1"] = token_f1(answer, references)
        figures["answer_recall"] = contains_reference(answer, references)
        figures["context_has_answer"] = contains_reference("\n".join(passages), references)
    return figures
