"""Static embeddings (model2vec): a vector per token, averaged; no neural network at run time.

Encoding is a table look-up, hundreds of times faster than MiniLM, at a cost in quality
that ``benchmarks/bench_encoders.py`` measures on Cranfield.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ragtui.encoders.base import BatchDone, BlockEncoder, normalize_rows


class StaticEncoder(BlockEncoder):
    backend = "static (model2vec)"

    def __init__(self, name: str, folder: Path, identity: str) -> None:
        super().__init__()
        from model2vec import StaticModel

        self.name, self.identity = name, identity
        self._model = StaticModel.from_pretrained(str(folder))
        self.dimension = int(self._model.dim)

    def _encode_block(
        self, texts: list[str], batch_size: int, batch_done: BatchDone | None = None
    ) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=max(batch_size, 1024), show_progress_bar=False
        )
        return normalize_rows(np.asarray(vectors, dtype=np.float32))
