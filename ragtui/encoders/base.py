"""What every encoder is: texts in, L2-normalised float32 vectors out, in reported blocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from ragtui.progress import ProgressCallback, WorkProgress

ENCODE_BLOCK = 1024


# Told how many texts of the current block are done; engines that encode in batches call
# it after each batch, so progress (and a cancel) comes every second or so.
BatchDone = Callable[[int], None]


class BlockEncoder:
    """Encodes in blocks of ``ENCODE_BLOCK`` texts, reporting progress after each block.

    A progress callback may raise (``ragtui.errors.Cancelled``) to stop the work between
    batches: that is how a closing app stops an embedding run in its worker thread.

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

    def _encode_block(
        self, texts: list[str], batch_size: int, batch_done: BatchDone | None = None
    ) -> np.ndarray:
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

                def report(done_in_block: int, first: int = first) -> None:
                    if progress is not None:
                        elapsed_s = time.monotonic() - started
                        progress(WorkProgress(first + done_in_block, len(texts), elapsed_s))

                vectors = self._encode_block(block, batch_size, report)
                blocks.append(vectors.astype(np.float32, copy=False))
                report(len(block))
        return np.vstack(blocks)

    def encode_query(self, query: str) -> np.ndarray:
        return self.encode([query])[0]


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
