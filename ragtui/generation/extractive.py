"""The no-LLM baseline: answer with the retrieved sentences that best match the query.

It shows whether a generator adds anything over retrieval, and it is fast and
deterministic, which makes it the generator for UI tests and snapshots. Sentences are
scored by the idf-weighted share of query words they contain (idf over the retrieved
sentences), ties broken by passage rank; the best few are returned with their ``[n]``
citations. When no sentence shares a word with the query, the top passage leads.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator

from ragtui.config.specs import GeneratorSpec
from ragtui.generation.base import (
    GenerationDone,
    GenerationEvent,
    GenerationOptions,
    Prompt,
    PromptSource,
    StreamClock,
    TextDelta,
    Usage,
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
MAX_SENTENCES = 2


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS}


def extract_answer(query: str, passages: tuple[str, ...], limit: int = MAX_SENTENCES) -> str:
    """The best-matching sentences, each followed by the citation of its passage."""
    candidates: list[tuple[int, str]] = []
    for number, passage in enumerate(passages, start=1):
        for sentence in _SENTENCE_END.split(passage):
            cleaned = " ".join(sentence.split()).lstrip("#-* ").strip()
            if len(cleaned.split()) >= 3:
                candidates.append((number, cleaned))
    if not candidates:
        return "The retrieved passages do not answer this question."
    # With no word in common (a paraphrase), trust the retriever: lead with passage [1].
    lead = " ".join(
        f"{sentence} [{number}]" for number, sentence in candidates[:limit] if number == 1
    )
    query_words = _content_words(query)
    if not query_words:
        return lead
    sentence_words = [_content_words(sentence) for _, sentence in candidates]
    total = len(candidates)
    weights = {
        word: math.log(1 + total / (1 + sum(word in words for words in sentence_words)))
        for word in query_words
    }
    scored = []
    for position, ((number, sentence), words) in enumerate(
        zip(candidates, sentence_words, strict=True)
    ):
        score = sum(weights[word] for word in query_words & words)
        if score > 0:
            scored.append((-score, number, position, sentence))
    if not scored:
        return lead
    best = sorted(scored)[:limit]
    best.sort(key=lambda item: item[2])  # keep reading order
    return " ".join(f"{sentence} [{number}]" for _, number, _, sentence in best)


# Bumped when the sentence selection changes, so cached answers are made again.
EXTRACTIVE_VERSION = 1


class ExtractiveGenerator:
    runs_locally = True
    in_process = True

    async def identity(self) -> str:
        return f"extractive:{EXTRACTIVE_VERSION}"

    prompt_style = "chat"

    def __init__(self, spec: GeneratorSpec) -> None:
        self.spec = spec

    async def stream(
        self, prompt: Prompt, options: GenerationOptions
    ) -> AsyncIterator[GenerationEvent]:
        clock = StreamClock()
        source = prompt.source or PromptSource(prompt.flat_text(), ())
        answer = extract_answer(source.query, source.passages)
        words = answer.split(" ")
        for position, word in enumerate(words):
            clock.token()
            yield TextDelta(word if position == 0 else " " + word)
            await asyncio.sleep(0)  # let a cancel or the UI in between words
        usage = Usage(0, len(words), estimated=True)
        yield GenerationDone(
            usage=usage,
            ttft_ms=clock.ttft_ms,
            total_ms=clock.elapsed_ms(),
            # Nothing is decoded: a rate would be the speed of copying a string.
            decode_tokens_per_s=None,
            details={"tokens": "words (no model tokenizer)"},
        )

    async def aclose(self) -> None:
        return None
