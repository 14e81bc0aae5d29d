"""The app's side of an encoder served by a child process (``encoder_process``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ragtui.encoders.base import BatchDone, BlockEncoder
from ragtui.encoders.encoder_process import EncoderProcess, EncoderProcessDied

log = logging.getLogger("ragtui")


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
                # The whole block in one request: the child sorts it by length and pads each
                # batch as the model in this process would (the same vectors, as fast).
                rows, dim, payload = self.process.encode(texts, batch_size, batch_done)
                return np.frombuffer(payload, dtype=np.float32).reshape(rows, dim).copy()
            except EncoderProcessDied as died:
                log.warning("%s; loading the model in the app instead", died)
                self._here = self._load_here()
        return self._here._encode_block(texts, batch_size, batch_done)

    def close(self) -> None:
        self.process.close()
