"""What a set records about how it was made: the set's header (``testset.json``) and, on
every passage's record, the source text it names and who wrote and checked its question.

A set is written by one model with one version of the prompts. A stopped run resumed (or
a set grown with a larger -n) after the model or the prompts changed would mix two makers
under one header, so that is refused; each record also names its makers, so a reader can
check it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from ragtui.corpus.model import Corpus, Passage
from ragtui.testsets.question_format import TEMPLATE_TEXT
from ragtui.testsets.store import TestsetError, judged_unit_of

PROMPT_SHA256 = hashlib.sha256(TEMPLATE_TEXT.encode()).hexdigest()


@dataclass(frozen=True)
class Makers:
    """Who writes and checks the questions, as the backends name their models."""

    model_identity: str
    checker_identity: str
    prompt_sha256: str = PROMPT_SHA256

    def as_record(self) -> dict[str, str]:
        return {
            "model_identity": self.model_identity,
            "checker_identity": self.checker_identity,
            "prompt_sha256": self.prompt_sha256,
        }


def chunking_of(corpus: Corpus) -> dict[str, int]:
    return {
        "max_tokens": corpus.chunking.max_tokens,
        "overlap_tokens": corpus.chunking.overlap_tokens,
    }


def passage_record(passage: Passage, index: int, name: str, makers: Makers) -> dict[str, Any]:
    """The fields every record of a passage starts with: where its text is, the text itself
    (so a judgment can follow it when the corpus changes) and who asked about it."""
    return {
        "index": index,
        "query_id": f"{name}-{index:04d}",
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "source": passage.source,
        "start": passage.start,
        "end": passage.end,
        "text_hash": passage.content_hash,
        "text": passage.text,
        **makers.as_record(),
    }


def header(
    name: str,
    corpus: Corpus,
    settings: dict[str, Any],
    makers: Makers,
    count: int,
    earlier: dict[str, Any] | None,
) -> dict[str, Any]:
    """``testset.json`` as a run starts writing (its funnel is added when it ends)."""
    return {
        **(earlier or {}),
        "name": name,
        "corpus": str(corpus.root),
        "corpus_key": corpus.source_key,
        "judged_unit": judged_unit_of(corpus),
        "chunking": chunking_of(corpus),
        "settings": settings,
        "model_identity": makers.model_identity,
        "checker_identity": makers.checker_identity,
        "prompt_templates": TEMPLATE_TEXT,
        "prompt_sha256": makers.prompt_sha256,
        "count": max(count, (earlier or {}).get("count", 0)),
        "created": (earlier or {}).get("created")
        or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "complete": False,
    }


def refuse_other_makers(name: str, where: str, earlier: dict[str, Any], makers: Makers) -> None:
    """Raise when the set on disk was written by another model or other prompts."""
    changes = []
    for key, what in (
        ("model_identity", "generator model"),
        ("checker_identity", "checker model"),
        ("prompt_sha256", "question prompts"),
    ):
        before, now = earlier.get(key), getattr(makers, key)
        if before is not None and before != now:
            shown = (before[:12], now[:12]) if key == "prompt_sha256" else (before, now)
            changes.append(f"{what} {shown[0]} is now {shown[1]}")
    if changes:
        raise TestsetError(
            f"test set {name!r} ({where}) was written by other makers ({'; '.join(changes)}); "
            "one set holds one maker's questions: choose another --name"
        )
