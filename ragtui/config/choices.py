"""What a user can pick as a retriever or a generator: built-ins, config, a reachable Ollama."""

from __future__ import annotations

from dataclasses import dataclass

from ragtui.config.specs import parse_pipeline_spec
from ragtui.generation.catalog import CATALOG


@dataclass(frozen=True)
class Choice:
    spec: str
    description: str


# Ordered from fastest to slowest to wake and to index: the speed/quality frontier.
RETRIEVER_NOTES = {
    "bm25": "keywords: BM25, Lucene's variant (bm25s); fast at any size",
    "bm25:okapi": "keywords: classic Okapi BM25 (rank-bm25); slow past ~20k passages",
    "static": "static embeddings distilled from MiniLM (model2vec): instant, weaker",
    "dense:minilm-int8": "MiniLM with int8 weights on ONNX Runtime: faster indexing",
    "dense": "MiniLM (all-MiniLM-L6-v2) on ONNX Runtime, fp32, HNSW index",
    "hybrid": "reciprocal-rank fusion of bm25 and dense",
    "hybrid:static": "reciprocal-rank fusion of bm25 and static",
    # Served by Milvus (MILVUS_URI, or a Milvus Lite file); `ragtui index CORPUS --to milvus`.
    "milvus": "dense (MiniLM) served by Milvus: same vectors as dense, the engine's HNSW",
    "milvus:bm25": "BM25 computed by the Milvus server",
    "milvus:hybrid": "Milvus hybrid search: BM25 + dense fused by the server (RRF)",
}


def retriever_choices(pipelines: dict[str, str]) -> list[Choice]:
    choices = [Choice(spec, note) for spec, note in RETRIEVER_NOTES.items()]
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
    import httpx  # asked only when a generator is picked: not on the compare screen's path

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
