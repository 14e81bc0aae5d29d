"""Spec strings name retrievers, generators and pipelines.

The same string works on the command line, in ``ragtui.toml``, in reports and as a
cache key, so parsing and formatting must round-trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from ragtui.errors import SpecError

RETRIEVER_KINDS = ("bm25", "dense", "static", "hybrid", "milvus")
# bm25 variants: bm25s's Lucene BM25 (default) or rank-bm25's classic Okapi.
BM25_VARIANTS = ("okapi",)
# Milvus serves dense ANN search by default, or its own BM25, or both fused on the server.
MILVUS_MODES = ("bm25", "hybrid")
# Every retriever a user can name, variants included, for messages.
KNOWN_RETRIEVERS = (
    "bm25",
    *(f"bm25:{variant}" for variant in BM25_VARIANTS),
    "dense",
    "static",
    "hybrid",
    "milvus",
    *(f"milvus:{mode}" for mode in MILVUS_MODES),
)


@dataclass(frozen=True)
class RetrieverSpec:
    """A retriever: ``bm25[:okapi]``, ``dense[:MODEL]``, ``static``, ``hybrid[:MODEL]``,
    ``milvus[:bm25|:hybrid]``."""

    kind: str
    model: str | None = None

    def __str__(self) -> str:
        return self.kind if self.model is None else f"{self.kind}:{self.model}"


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator: ``BACKEND`` or ``BACKEND:MODEL`` (the model may contain ``:``)."""

    backend: str
    model: str | None = None

    def __str__(self) -> str:
        return self.backend if self.model is None else f"{self.backend}:{self.model}"


@dataclass(frozen=True)
class PipelineSpec:
    """A retriever plus a generator, written ``RETRIEVER+GENERATOR``."""

    retriever: RetrieverSpec
    generator: GeneratorSpec

    def __str__(self) -> str:
        return f"{self.retriever}+{self.generator}"


def parse_retriever_spec(text: str) -> RetrieverSpec:
    """Parse ``bm25[:okapi]``, ``dense[:MODEL]``, ``static``, ``hybrid[:MODEL]``, ``milvus…``."""
    cleaned = text.strip()
    kind, _, model = cleaned.partition(":")
    if kind not in RETRIEVER_KINDS:
        known = ", ".join(KNOWN_RETRIEVERS)
        raise SpecError(
            f"unknown retriever {cleaned!r}: use one of {known} (dense and hybrid take :MODEL)"
        )
    if kind == "bm25" and model and model not in BM25_VARIANTS:
        raise SpecError(f"retriever {cleaned!r}: write 'bm25' (Lucene BM25) or 'bm25:okapi'")
    if kind == "milvus" and model and model not in MILVUS_MODES:
        raise SpecError(
            f"retriever {cleaned!r}: write 'milvus' (dense), 'milvus:bm25' or 'milvus:hybrid'"
        )
    if kind == "static" and model:
        raise SpecError(f"retriever {cleaned!r}: static takes no model, write just 'static'")
    if ":" in cleaned and not model:
        raise SpecError(f"retriever {cleaned!r}: the model after ':' is empty")
    return RetrieverSpec(kind=kind, model=model or None)


def parse_generator_spec(text: str) -> GeneratorSpec:
    """Parse ``BACKEND[:MODEL]``; everything after the first ``:`` is the model name."""
    cleaned = text.strip()
    backend, _, model = cleaned.partition(":")
    if not backend or not backend.replace("-", "").replace("_", "").isalnum():
        raise SpecError(f"generator {cleaned!r}: write BACKEND or BACKEND:MODEL")
    if ":" in cleaned and not model:
        raise SpecError(f"generator {cleaned!r}: the model after ':' is empty")
    return GeneratorSpec(backend=backend, model=model or None)


def parse_pipeline_spec(text: str) -> PipelineSpec:
    """Parse ``RETRIEVER+GENERATOR``, splitting on the first ``+``."""
    retriever_text, plus, generator_text = text.strip().partition("+")
    if not plus or not retriever_text or not generator_text:
        raise SpecError(
            f"pipeline {text!r}: write RETRIEVER+GENERATOR, e.g. 'bm25+llamacpp:smollm2'"
        )
    return PipelineSpec(
        retriever=parse_retriever_spec(retriever_text),
        generator=parse_generator_spec(generator_text),
    )
