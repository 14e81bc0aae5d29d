"""Whether a labeller shares a model with a retriever it is used to compare.

Clarke & Dietz (2024): relevance grades made with a system's own model inflate that
system. A labeller's source names its judge (generator spec and identity) and any encoder
its method used; a retriever spec names the embedding model it ranks with. When the two
meet (the same encoder, a variant built from it such as ``minilm-int8`` or the static
model distilled from MiniLM, or a judge running the retriever's model), eval's report says
so beside the figures resting on those grades.

Names are compared as written after normalisation (case, folders, ``.gguf``/``.onnx``,
an Ollama ``:latest`` tag); two differently named copies of one model are not recognised.
"""

from __future__ import annotations

from pathlib import PurePath

from ragtui.config.specs import parse_generator_spec, parse_retriever_spec
from ragtui.errors import SpecError
from ragtui.judging.automatic_grades import LabellerSource

SOURCE = "Clarke & Dietz 2024"


def judge_spec(source: LabellerSource) -> str:
    """The generator spec in a source's ``judge`` ("SPEC (IDENTITY)", see labellers)."""
    return source.judge.split(" (", 1)[0].strip()


def _model_key(name: str) -> str:
    """A model name compared across backends: ``/models/All-MiniLM-L6-v2.onnx`` and
    ``sentence-transformers/all-minilm-l6-v2`` are the same model."""
    from ragtui.encoders import source_model

    base = PurePath(source_model(name.strip())).name.lower()
    base = base.removesuffix(":latest")
    for suffix in (".gguf", ".onnx"):
        base = base.removesuffix(suffix)
    return base


def retriever_models(retriever: str) -> list[str]:
    """The embedding models a retriever spec ranks with (none for BM25 alone)."""
    from ragtui.encoders import DEFAULT_EMBEDDING_MODEL

    try:
        spec = parse_retriever_spec(retriever)
    except SpecError:
        return []
    if spec.kind == "milvus":  # Milvus embeds with the default model; its BM25 with none
        return [] if spec.model == "bm25" else [DEFAULT_EMBEDDING_MODEL]
    from ragtui.retrieval.local import embedding_model

    model = embedding_model(spec)
    return [] if model is None else [model]


def circularity_warnings(source: LabellerSource, retrievers: list[str]) -> list[str]:
    """One line per retriever sharing a model with the labeller; empty when none does."""
    labeller_models: list[tuple[str, str]] = []  # (what the labeller uses it as, name)
    if source.encoder:
        labeller_models.append(("encoder", source.encoder))
    spec_text = judge_spec(source)
    try:
        judge_model = parse_generator_spec(spec_text).model
    except SpecError:
        judge_model = None
    if judge_model:
        labeller_models.append(("judge model", judge_model))
    warnings: list[str] = []
    for retriever in retrievers:
        shared = [
            (role, name)
            for model in retriever_models(retriever)
            for role, name in labeller_models
            if _model_key(name) == _model_key(model)
        ]
        if shared:
            role, name = shared[0]
            warnings.append(
                f"circularity: labeller {source.describe()} grades with {name} ({role}), "
                f"the model retriever {retriever} ranks with; its grades may favour "
                f"{retriever} ({SOURCE})"
            )
    return warnings
