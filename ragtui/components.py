"""What a user can pick as a retriever or a generator: built-ins, config, a reachable Ollama."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ragtui.generation.catalog import CATALOG
from ragtui.specs import RETRIEVER_KINDS, parse_pipeline_spec


@dataclass(frozen=True)
class Choice:
    spec: str
    description: str


_RETRIEVER_NOTES = {
    "bm25": "keyword ranking (Okapi BM25, Lucene variant)",
    "dense": "embeddings (all-MiniLM-L6-v2) in an HNSW index",
    "hybrid": "reciprocal-rank fusion of bm25 and dense",
}


def retriever_choices(pipelines: dict[str, str]) -> list[Choice]:
    choices = [Choice(kind, _RETRIEVER_NOTES[kind]) for kind in RETRIEVER_KINDS]
    seen = {choice.spec for choice in choices}
    for name, text in sorted(pipelines.items()):
        spec = str(parse_pipeline_spec(text).retriever)
        if spec not in seen:
            seen.add(spec)
            choices.append(Choice(spec, f"from config pipeline {name!r}"))
    return choices


def generator_choices(pipelines: dict[str, str], ollama_models: list[str]) -> list[Choice]:
    choices = [Choice("extractive", "no LLM: the retrieved sentences that best match")]
    choices += [Choice(f"llamacpp:{name}", entry.description) for name, entry in CATALOG.items()]
    choices += [Choice(f"ollama:{model}", "on the Ollama server") for model in ollama_models]
    seen = {choice.spec for choice in choices}
    for name, text in sorted(pipelines.items()):
        spec = str(parse_pipeline_spec(text).generator)
        if spec not in seen:
            seen.add(spec)
            choices.append(Choice(spec, f"from config pipeline {name!r}"))
    return choices


async def ollama_models(host: str, timeout_s: float = 1.0) -> list[str]:
    """Model names the Ollama server at host offers (``/api/tags``); [] when unreachable."""
    try:
        async with httpx.AsyncClient(base_url=host, timeout=timeout_s) as client:
            response = await client.get("/api/tags")
            response.raise_for_status()
            models = response.json().get("models", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return sorted(
        str(model.get("name") or model.get("model"))
        for model in models
        if isinstance(model, dict) and (model.get("name") or model.get("model"))
    )
