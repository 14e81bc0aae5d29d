"""Sentence-transformers encoders: the fallback for models that cannot be exported to ONNX.

Importing sentence-transformers takes ~12 s here (torch, transformers, scikit-learn), so
this path is used only when an export fails; the stats say which backend ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ragtui.encoders.base import BatchDone, BlockEncoder
from ragtui.encoders.model_files import resolve_model_path
from ragtui.errors import ModelError


class SentenceTransformersEncoder(BlockEncoder):
    """A loaded sentence-transformers model that turns texts into unit vectors."""

    backend = "sentence-transformers"

    def __init__(self, name: str, identity: str) -> None:
        super().__init__()
        self.name, self.identity = name, identity
        location = resolve_model_path(name)
        # Never reach for the hub at run time: the machine may be offline, and a silent
        # download would make timings and results depend on the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Weight-loading bars and load reports would scribble over the CLI and the TUI.
        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        try:
            self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as error:  # the library raises many types for a missing model
            raise ModelError(
                f"embedding model {name!r} could not be loaded offline ({error.__class__.__name__}"
                f"): give a local sentence-transformers folder or an installed model package"
            ) from None
        # sentence-transformers 6 renamed the method; older releases only have the old name.
        dimension_of = getattr(self._model, "get_embedding_dimension", None)
        if dimension_of is None:
            dimension_of = self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension_of() or 0)

    @property
    def sentence_transformer(self):  # -> SentenceTransformer, imported lazily
        return self._model

    def _encode_block(
        self, texts: list[str], batch_size: int, batch_done: BatchDone | None = None
    ) -> np.ndarray:
        return self._model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )


def local_model_folder(name: str) -> Path | None:
    """The folder of a local model, or None for a name only a hub could resolve."""
    location = Path(resolve_model_path(name))
    return location if location.is_dir() else None
