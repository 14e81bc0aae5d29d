"""Text → vectors, by name. Encoders are loaded once per process and never from a hub.

Names a user types after ``dense:`` (and what they load):

* ``all-MiniLM-L6-v2`` (the default; also ``minilm``): the packaged MiniLM on ONNX Runtime,
  fp32, exported once from its PyTorch weights;
* ``minilm-int8``: the same with int8 weights (dynamic quantization, per channel);
* ``minilm-static``: a model2vec static model distilled from MiniLM (the ``static``
  retriever);
* a folder or a model already on disk: exported to ONNX the same way, or run through
  sentence-transformers when the export fails (``encoder.backend`` says which).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from ragtui.config import paths
from ragtui.errors import Cancelled, RagtuiError
from ragtui.progress import ProgressCallback

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "ENCODER_NOTES",
    "Encoder",
    "ProgressCallback",
    "canonical_name",
    "encoder_loaded",
    "get_encoder",
    "source_model",
]

log = logging.getLogger("ragtui")

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_ALIASES = {
    "minilm": DEFAULT_EMBEDDING_MODEL,
    "sentence-transformers/all-MiniLM-L6-v2": DEFAULT_EMBEDDING_MODEL,
    "static": "minilm-static",
}
# variant name → (source model, what is built from it)
_VARIANTS = {
    "minilm-int8": (DEFAULT_EMBEDDING_MODEL, "int8"),
    "minilm-static": (DEFAULT_EMBEDDING_MODEL, "static"),
}
ENCODER_NOTES = {
    DEFAULT_EMBEDDING_MODEL: "all-MiniLM-L6-v2 on ONNX Runtime (fp32)",
    "minilm-int8": "all-MiniLM-L6-v2 with int8 weights (faster, vectors move slightly)",
    "minilm-static": "static embeddings distilled from MiniLM (model2vec): instant, weaker",
}


class Encoder(Protocol):
    name: str
    identity: str  # everything that changes the vectors; index caches are keyed by it
    backend: str
    dimension: int
    calls: int
    texts_encoded: int

    def encode(
        self, texts, *, batch_size: int = 32, progress: ProgressCallback | None = None
    ) -> np.ndarray: ...

    def encode_query(self, query: str) -> np.ndarray: ...


def canonical_name(name: str) -> str:
    return _ALIASES.get(name, name)


def source_model(name: str) -> str:
    """The model a name's weights come from: a variant's source (int8, static), else itself.

    Two encoders with the same source share a model (what the labellers' circularity check
    asks).
    """
    canonical = canonical_name(name)
    return _VARIANTS.get(canonical, (canonical, ""))[0]


_encoders: dict[str, Encoder] = {}
# One lock per model: loading one (an export can take a minute) must not hold up another
# that is already on disk, e.g. the static model of one pane behind the ONNX one of the other.
_load_locks: dict[str, threading.Lock] = {}
_load_locks_guard = threading.Lock()


def encoder_loaded(name: str) -> bool:
    return canonical_name(name) in _encoders


def get_encoder(
    name: str = DEFAULT_EMBEDDING_MODEL,
    cache_root: Path | None = None,
    stage: Callable[[str], None] | None = None,
) -> Encoder:
    """The process-wide encoder for ``name``, built and loaded on first use."""
    name = canonical_name(name)
    with _load_locks_guard:
        lock = _load_locks.setdefault(name, threading.Lock())
    with lock:
        encoder = _encoders.get(name)
        if encoder is None:
            encoder = _load(name, cache_root or paths.cache_dir(), stage)
            _encoders[name] = encoder
        return encoder


def _load(name: str, cache_root: Path, stage: Callable[[str], None] | None) -> Encoder:
    from ragtui.encoders.building import built_model
    from ragtui.encoders.model_files import model_files_hash
    from ragtui.encoders.sentence_transformers_encoder import (
        SentenceTransformersEncoder,
        local_model_folder,
    )

    source_name, kind = _VARIANTS.get(name, (name, "onnx"))
    source = local_model_folder(source_name)
    if source is None:  # a hub name with no local copy: only sentence-transformers may know it
        return SentenceTransformersEncoder(name, f"{name}@sentence-transformers")
    source_hash = model_files_hash(source, cache_root / "encoders" / "model-hashes.json")
    if kind == "static":
        from ragtui.encoders.static_encoder import StaticEncoder

        folder = built_model("static", source_name, source, source_hash, cache_root, stage)
        return StaticEncoder(name, folder, f"{name}@static-{source_hash[:16]}")
    from ragtui.encoders.onnx_encoder import OnnxEncoder

    try:
        folder = built_model("onnx", source_name, source, source_hash, cache_root, stage)
        if kind == "int8":
            folder = built_model("int8", source_name, folder, source_hash, cache_root, stage)
    except Cancelled:
        raise  # the app is closing: no fallback to load
    except RagtuiError as problem:
        if kind != "onnx":
            raise
        log.warning("%s; using sentence-transformers for %s instead", problem, name)
        return SentenceTransformersEncoder(name, f"{name}@sentence-transformers-{source_hash[:16]}")
    backend = "onnx int8" if kind == "int8" else "onnx fp32"
    identity = f"{name}@{backend.replace(' ', '-')}-{source_hash[:16]}"
    return OnnxEncoder(name, folder, "model.onnx", identity, backend)
