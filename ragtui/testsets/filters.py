"""The filters a generated question must pass, each a small pure function.

Generic questions (self-referential, or with nothing of their passage in them), questions
copied from the passage (a long shared run of words), near-duplicates of a question already
kept, and questions in another language than their passage. The round-trip check, which
needs a generator, lives in ``generate``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Word runs longer than this, shared with the passage, make a question a copy.
COPIED_NGRAM = 8
# Questions sharing this much of their vocabulary (Jaccard) are the same question.
DUPLICATE_JACCARD = 0.7
# A question's language must be this sure before it is called different from its passage's.
LANGUAGE_CONFIDENCE = 0.9

_WORD = re.compile(r"\w+", re.UNICODE)
_SELF_REFERENCE = re.compile(
    r"\b(?:(?:the|this|that|above|given|following)\s+(?:passage|text|document|article|"
    r"paper|study|excerpt|report|author|authors|researcher|researchers|writer|abstract)|"
    r"(?:passage|text|document|article)\s+(?:above|below)|mentioned above|"
    r"according to (?:the|this)|which of the following|which of these|your opinion|"
    # "the method" can be a real question; "this method" only points back at the passage.
    r"(?:this|these|present|above|following)\s+(?:note|notes|investigation|work|"
    r"experiments?|analysis|method|methods|results?|section|chapter|table|figure|"
    r"equation|theory|problem|model))\b",
    re.I,
)
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "not",
        "no",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "into",
        "onto",
        "about",
        "over",
        "under",
        "between",
        "during",
        "after",
        "before",
        "also",
        "such",
        "any",
        "some",
        "each",
        "other",
        "more",
        "most",
        "very",
        "much",
        "many",
    ]
)


def words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def content_words(text: str) -> set[str]:
    return {word for word in words(text) if word not in STOP_WORDS and len(word) > 2}


def is_generic(question: str, passage: str) -> bool:
    """Self-referential, or it could be asked of any passage (no content word of its own
    passage in it)."""
    if _SELF_REFERENCE.search(question):
        return True
    own = content_words(question)
    return len(own) < 2 or not own & content_words(passage)


def _ngrams(tokens: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[start : start + size]) for start in range(len(tokens) - size + 1)}


def is_copied(question: str, passage: str, size: int = COPIED_NGRAM) -> bool:
    """A run of ``size`` words taken over from the passage (InPars drops these)."""
    tokens = words(question)
    if len(tokens) < size:
        return False
    return bool(_ngrams(tokens, size) & _ngrams(words(passage), size))


def is_duplicate(question: str, kept: Iterable[str], threshold: float = DUPLICATE_JACCARD) -> bool:
    mine = set(words(question))
    for other in kept:
        theirs = set(words(other))
        if mine and theirs and len(mine & theirs) / len(mine | theirs) >= threshold:
            return True
    return False


@lru_cache(maxsize=1)
def _identifier():
    # Imported on use: the language model takes ~0.5 s to load.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_of(text: str) -> tuple[str, float]:
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


def is_other_language(question: str, passage: str) -> bool:
    """The question is, with confidence, in a language its passage is not."""
    asked, sure = language_of(question)
    written, _ = language_of(passage)
    return asked != written and sure >= LANGUAGE_CONFIDENCE


# The filters that need no generator, in the order ``ragtui testset`` applies them.
CHEAP_FILTERS = ("generic", "copied", "duplicate", "language")


def cheap_checks(
    question: str, passage: str, kept: list[str], enabled: Iterable[str]
) -> dict[str, str]:
    """Each cheap filter's verdict ("pass", "fail" or "off"), in order, up to the first
    failure: a question is dropped for the first filter it fails."""
    on = set(enabled)
    tests = {
        "generic": lambda: is_generic(question, passage),
        "copied": lambda: is_copied(question, passage),
        "duplicate": lambda: is_duplicate(question, kept),
        "language": lambda: is_other_language(question, passage),
    }
    checks: dict[str, str] = {}
    for name in CHEAP_FILTERS:
        if name not in on:
            checks[name] = "off"
            continue
        checks[name] = "fail" if tests[name]() else "pass"
        if checks[name] == "fail":
            break
    return checks


def word_overlap(question: str, passage: str) -> float:
    """Share of the question's content words found in its source passage (lexical bias)."""
    own = content_words(question)
    return len(own & content_words(passage)) / len(own) if own else 0.0
