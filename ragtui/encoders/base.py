"""What every encoder is: texts in, L2-normalised float32 vectors out, in reported blocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Small enough that progress (and so a cancel, see BlockEncoder) comes every second or so.
ENCODE_BLOCK = 256


@dataclass(frozen=True)
class EncodeProgress:
    """How far a long run over passages is; ``eta_s`` is None until a rate is known."""

    done: int
    total: int
    elapsed_s: float
    action: str = "embedding"  # what is done to the passages: "embedding", "writing to milvus"

    @property
    def eta_s(self) -> float | None:
        if self.done == 0 or self.elapsed_s <= 0:
            return None
        return (self.total - self.done) * self.elapsed_s / self.done


ProgressCallback = Callable[[EncodeProgress], None]


class BlockEncoder:
    """Encodes in blocks of ``ENCODE_BLOCK`` texts, reporting progress after each block.

    A progress callback may raise (``ragtui.errors.Cancelled``) to stop the work between
    blocks: that is how a closing app stops an embedding run in its worker thread.

    Subclasses set ``name`` (what the user typed), ``identity`` (everything that changes
    the vectors: cache keys use it), ``backend`` (shown in stats), ``dimension``, and
    implement ``_encode_block``.
    """

    name: str
    identity: str
    backend: str
    dimension: int

    def __init__(self) -> None:
        # Counters let tests prove that the cache saved work.
        self.calls = 0
        self.texts_encoded = 0
        # Runtimes are not made for concurrent passes over one model.
        self._lock = threading.Lock()

    def _encode_block(self, texts: list[str], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        started = time.monotonic()
        blocks = []
        with self._lock:
            for first in range(0, len(texts), ENCODE_BLOCK):
                block = list(texts[first : first + ENCODE_BLOCK])
                self.calls += 1
                self.texts_encoded += len(block)
                blocks.append(self._encode_block(block, batch_size).astype(np.float32, copy=False))
                if progress is not None:
                    done = min(first + ENCODE_BLOCK, len(texts))
                    progress(EncodeProgress(done, len(texts), time.monotonic() - started))
        return np.vstack(blocks)

    def encode_query(self, query: str) -> np.ndarray:
        return self.encode([query])[0]


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
