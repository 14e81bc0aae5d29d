"""Values for documents, passages and a loaded corpus."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ragtui.errors import CorpusError


@dataclass(frozen=True)
class ChunkingSettings:
    """How documents become passages; part of every index cache key."""

    max_tokens: int = 180
    overlap_tokens: int = 30

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise CorpusError(f"chunking max_tokens={self.max_tokens}: use at least 8")
        if not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise CorpusError(
                f"chunking overlap_tokens={self.overlap_tokens}: use 0 up to half of "
                f"max_tokens ({self.max_tokens // 2 - 1})"
            )

    @property
    def key(self) -> str:
        return f"w{self.max_tokens}-o{self.overlap_tokens}"


@dataclass(frozen=True)
class Document:
    """One source document; ``text`` is what offsets of its passages refer to."""

    doc_id: str
    text: str
    source: str
    title: str = ""

    @cached_property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Passage:
    """A span ``[start, end)`` of a document's text, with an id stable while the file is."""

    passage_id: str
    doc_id: str
    text: str
    source: str
    start: int
    end: int

    @cached_property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def location_key(root: Path) -> str:
    """A corpus's ``source_key`` from its root folder alone (no need to load it)."""
    return hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Corpus:
    """A loaded corpus: documents, their passages, and any queries/judgments shipped with it."""

    root: Path
    kind: str  # "folder" or "beir"
    chunking: ChunkingSettings
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    queries: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @cached_property
    def content_key(self) -> str:
        """A hash of every document's id and text: equal keys mean equal content."""
        digest = hashlib.sha256()
        for document in sorted(self.documents, key=lambda doc: doc.doc_id):
            digest.update(document.doc_id.encode("utf-8"))
            digest.update(b"\0")
            digest.update(document.content_hash.encode("ascii"))
            digest.update(b"\n")
        return digest.hexdigest()

    @cached_property
    def source_key(self) -> str:
        """Names this corpus's location, so a changed corpus can reuse its old embeddings."""
        return location_key(self.root)

    @cached_property
    def passage_index(self) -> dict[str, int]:
        return {passage.passage_id: row for row, passage in enumerate(self.passages)}
