"""Approximate nearest neighbours over passage embeddings with hnswlib (cosine)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ragtui.progress import ProgressCallback, WorkProgress

EF_CONSTRUCTION = 200
M = 16
EF_SEARCH_MIN = 100
# Vectors added to the graph per step; each step reports progress (and may be cancelled).
ADD_BATCH = 2048
INDEX_FILE = "index.hnsw"


class DenseIndex:
    """An HNSW graph whose labels are passage rows."""

    def __init__(self, index, size: int) -> None:  # index: hnswlib.Index
        self._index = index
        self.size = size

    @classmethod
    def build(
        cls, vectors: np.ndarray, threads: int = -1, progress: ProgressCallback | None = None
    ) -> DenseIndex:
        import hnswlib

        count, dimension = vectors.shape
        index = hnswlib.Index(space="cosine", dim=dimension)
        index.init_index(max_elements=max(count, 1), ef_construction=EF_CONSTRUCTION, M=M)
        started = time.monotonic()
        for first in range(0, count, ADD_BATCH):
            last = min(first + ADD_BATCH, count)
            index.add_items(vectors[first:last], np.arange(first, last), num_threads=threads)
            if progress is not None:
                elapsed_s = time.monotonic() - started
                progress(WorkProgress(last, count, elapsed_s, "adding to the HNSW graph"))
        index.set_ef(EF_SEARCH_MIN)
        return cls(index, count)

    def save(self, folder: Path) -> None:
        self._index.save_index(str(folder / INDEX_FILE))

    @classmethod
    def load(cls, folder: Path, dimension: int, size: int) -> DenseIndex:
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=dimension)
        index.load_index(str(folder / INDEX_FILE), max_elements=max(size, 1))
        index.set_ef(EF_SEARCH_MIN)
        return cls(index, size)

    def top(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the k nearest passages, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        self._index.set_ef(max(EF_SEARCH_MIN, k))
        labels, distances = self._index.knn_query(vector, k=k, num_threads=1)
        return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)
