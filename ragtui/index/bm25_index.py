"""Okapi BM25 over passages, using bm25s (Lucene's BM25 variant, sparse precomputed scores).

rank-bm25 scores every document in Python for each query (about 600 ms at 100k passages
here); bm25s precomputes per-token scores in a sparse matrix and answers in about 1 ms.
Scores follow Lucene's BM25Similarity: idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times
tf / (tf + k1 * (1 - b + b * dl / avgdl)), k1=1.5, b=0.75 (Lucene drops the textbook
(k1 + 1) factor, which scales all scores alike). rank-bm25's BM25Okapi differs in its idf
(floored by epsilon) and so ranks slightly differently; tests/test_retrieval.py checks the
formula and tests/test_cranfield.py the quality against the reference table.

bm25s builds and saves the index. Opening a saved one reads bm25s's arrays with numpy and
sums them as bm25s's own numpy scorer does (same order, same dtype, so the same scores):
importing bm25s brings scipy (~0.15 s), which a query never needs, onto the path of every
launch of the compare screen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"\w+")
K1 = 1.5
B = 0.75


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; no stemming or stop words, so exact codes and names match."""
    return _TOKEN.findall(text.lower())


# File names bm25s saves under (BM25.save); read back by Bm25Index.load.
_ARRAYS = ("data", "indices", "indptr")
_VOCAB_FILE = "vocab.index.json"
_PARAMS_FILE = "params.index.json"


class Bm25Index:
    """Scores passages (by row) for a query."""

    def __init__(
        self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray
    ) -> None:
        # Per token id t: passages indices[indptr[t]:indptr[t+1]] with precomputed scores data[…]
        self._vocab = vocab
        self._data, self._indices, self._indptr = data, indices, indptr
        self._model = None  # the bm25s model this index was built with, kept to save it
        self.size = 0

    @classmethod
    def build(cls, texts: list[str]) -> Bm25Index:
        import bm25s

        # Token ids rather than token strings: one string object per occurrence would cost
        # about 1 GB at 100k passages; each id here is the one int object kept in `vocab`.
        vocab: dict[str, int] = {}
        token_ids = [
            [vocab.setdefault(token, len(vocab)) for token in tokenize(text)] for text in texts
        ]
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        model.index(bm25s.tokenization.Tokenized(ids=token_ids, vocab=vocab), show_progress=False)
        scores = model.scores
        index = cls(model.vocab_dict, scores["data"], scores["indices"], scores["indptr"])
        index._model, index.size = model, int(scores["num_docs"])
        return index

    def save(self, folder: Path) -> None:
        if self._model is None:
            raise ValueError("only a freshly built BM25 index is saved")  # a loaded one is
        self._model.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> Bm25Index:
        """The index bm25s saved in folder; ValueError if its files are not bm25s's."""
        try:
            params = json.loads((folder / _PARAMS_FILE).read_text(encoding="utf-8"))
            vocab = json.loads((folder / _VOCAB_FILE).read_text(encoding="utf-8"))
            arrays = [
                np.load(folder / f"{name}.csc.index.npy", allow_pickle=False) for name in _ARRAYS
            ]
            size = int(params["num_docs"])
            if params.get("method") != "lucene" or params.get("dtype") != "float32":
                raise ValueError(f"scored as {params.get('method')}/{params.get('dtype')}")
        except (OSError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{folder} does not hold a bm25s index ({error})") from None
        index = cls(vocab, *arrays)
        index.size = size
        return index

    def scores(self, query: str) -> np.ndarray:
        """A score for every passage row (zero where no query token occurs)."""
        scores = np.zeros(self.size, dtype=np.float32)
        for token in tokenize(query):
            token_id = self._vocab.get(token)
            if token_id is None:
                continue
            start, end = self._indptr[token_id], self._indptr[token_id + 1]
            np.add.at(scores, self._indices[start:end], self._data[start:end])
        return scores

    def top(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the k best passages with a positive score, best first."""
        scores = self.scores(query)
        k = min(k, scores.shape[0])
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        candidates = np.argpartition(-scores, k - 1)[:k]
        # Ties broken by row so results are the same on every run.
        order = np.lexsort((candidates, -scores[candidates]))
        rows = candidates[order]
        rows = rows[scores[rows] > 0]
        return rows, scores[rows]
