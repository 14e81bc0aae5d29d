"""The app's side of an encoder served by a child process (``encoder_process``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ragtui.encoders.base import BatchDone, BlockEncoder
from ragtui.encoders.encoder_process import EncoderProcess, EncoderProcessDied

log = logging.getLogger("ragtui")

# Texts per request, in batches of the caller's size: progress (and a cancel) comes
# between requests, as it comes between batches in the app's own process.
BATCHES_PER_REQUEST = 4


class ProcessEncoder(BlockEncoder):
    """Vectors from the child's model: the same files, runtime and identity as loading it
    here would give. If the child dies, the model is loaded in this process and the work
    goes on (the identity, and so every cached index, stays valid)."""

    def __init__(
        self,
        process: EncoderProcess,
        info: dict[str, Any],
        load_here: Callable[[], Any],
    ) -> None:
        super().__init__()
        self.process = process
        self.name = str(info["name"])
        self.identity = str(info["identity"])
        self.backend = str(info["backend"])
        self.dimension = int(info["dimension"])
        self._load_here = load_here
        self._here: Any = None

    def _encode_block(
        self, texts: list[str], batch_size: int, batch_done: BatchDone | None = None
    ) -> np.ndarray:
        if self._here is None:
            try:
                return self._from_child(texts, batch_size, batch_done)
            except EncoderProcessDied as died:
                log.warning("%s; loading the model in the app instead", died)
                self._here = self._load_here()
        return self._here.encode(texts, batch_size=batch_size)

    def _from_child(
        self, texts: list[str], batch_size: int, batch_done: BatchDone | None
    ) -> np.ndarray:
        step = max(batch_size, 1) * BATCHES_PER_REQUEST
        parts = []
        for first in range(0, len(texts), step):
            rows, dim, payload = self.process.encode(texts[first : first + step])
            parts.append(np.frombuffer(payload, dtype=np.float32).reshape(rows, dim))
            if batch_done is not None:
                batch_done(first + rows)
        return np.vstack(parts)

    def close(self) -> None:
        self.process.close()
