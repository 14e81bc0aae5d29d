"""Sentence embeddings on ONNX Runtime with a fast tokenizer: no torch in the process.

Tokenisation, truncation, pooling and normalisation follow the model's own
sentence-transformers configuration (``pooling.json`` written at export), so the vectors
equal sentence-transformers' (cosine ≥ 0.9999, checked by the tests).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ragtui.encoders.base import BatchDone, BlockEncoder, normalize_rows

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger("ragtui")
PROVIDERS = ["CPUExecutionProvider"]


def open_session(
    folder: Path, model_file: str, options: onnxruntime.SessionOptions
) -> onnxruntime.InferenceSession:
    """The model's session, from its graph as ONNX Runtime optimised it on an earlier load.

    Optimising the exported graph is most of what opening a session costs (MiniLM on 2
    cores: 91-121 ms from model.onnx, 69-83 ms from the optimised graph). The graph is
    saved at the extended level, which makes no layout choices for a particular CPU, and
    the session still applies every level on top, so the vectors equal those of a session
    on model.onnx (checked by the tests). The file is named for the ONNX Runtime version
    and the machine type that wrote it. Where it cannot be saved, or does not load, a
    marker says so and model.onnx serves from then on, at its old cost and no more.
    """
    import onnxruntime

    stem = f"{Path(model_file).stem}.optimized-ort{onnxruntime.__version__}-{platform.machine()}"
    optimized, unusable = folder / f"{stem}.onnx", folder / f"{stem}.unusable"
    if unusable.exists():
        return _plain_session(folder / model_file, options)
    if not optimized.is_file() and not _save_optimized(folder / model_file, optimized):
        _mark_unusable(unusable)
        return _plain_session(folder / model_file, options)
    try:
        return onnxruntime.InferenceSession(str(optimized), options, providers=PROVIDERS)
    except Exception as problem:  # onnxruntime's errors derive from Exception alone
        log.debug("optimised graph %s unusable (%s); using %s", optimized, problem, model_file)
        with contextlib.suppress(OSError):
            optimized.unlink(missing_ok=True)
        _mark_unusable(unusable)
        return _plain_session(folder / model_file, options)


def _plain_session(
    model: Path, options: onnxruntime.SessionOptions
) -> onnxruntime.InferenceSession:
    import onnxruntime

    return onnxruntime.InferenceSession(str(model), options, providers=PROVIDERS)


def _mark_unusable(marker: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache: the next load tries again
        marker.touch()


def _save_optimized(model: Path, target: Path) -> bool:
    import onnxruntime

    if not os.access(target.parent, os.W_OK):
        return False
    # In the model's folder, as the graph refers to its weights' file by a relative path;
    # written under a name of this thread's own and renamed, as other processes may read.
    scratch = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(scratch)
    options.log_severity_level = 3
    try:
        onnxruntime.InferenceSession(str(model), options, providers=PROVIDERS)
        os.replace(scratch, target)
    except Exception as problem:  # a full disk, a graph the runtime cannot write back
        log.debug("could not save the optimised graph of %s (%s)", model, problem)
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)
        return False
    # Graphs of other runtime versions are never read again.
    for older in target.parent.glob(f"{Path(model.name).stem}.optimized-*"):
        if older.name != target.name:
            with contextlib.suppress(OSError):
                older.unlink()
    return True


class OnnxEncoder(BlockEncoder):
    def __init__(self, name: str, folder: Path, model_file: str, identity: str, backend: str):
        super().__init__()
        import onnxruntime
        from tokenizers import Tokenizer

        self.name, self.identity, self.backend = name, identity, backend
        pooling = json.loads((folder / "pooling.json").read_text())
        self.pooling = str(pooling["mode"])
        self.normalize = bool(pooling["normalize"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(pooling["max_length"]))
        self.tokenizer.no_padding()  # each batch is padded to its own longest text
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings from the runtime would tear the screen
        self.session = open_session(folder, model_file, options)
        self.input_names = {item.name for item in self.session.get_inputs()}
        width = self.session.get_outputs()[0].shape[-1]
        self.dimension = (
            int(width) if isinstance(width, int) else len(self._encode_block(["x"], 1)[0])
        )

    def _encode_block(
        self, texts: list[str], batch_size: int, batch_done: BatchDone | None = None
    ) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        # Longest first, so each batch pads to texts of about its own length.
        order = np.argsort([-len(encoding.ids) for encoding in encodings], kind="stable")
        vectors: np.ndarray | None = None
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            batch = [encodings[row] for row in rows]
            width = max(len(encoding.ids) for encoding in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for line, encoding in enumerate(batch):
                length = len(encoding.ids)
                ids[line, :length] = encoding.ids
                mask[line, :length] = encoding.attention_mask
                types[line, :length] = encoding.type_ids
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            tokens = self.session.run(
                None, {key: value for key, value in feeds.items() if key in self.input_names}
            )[0]
            pooled = self._pool(tokens, mask)
            if vectors is None:
                vectors = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            vectors[rows] = pooled
            if batch_done is not None:
                batch_done(min(first + batch_size, len(order)))
        assert vectors is not None
        return normalize_rows(vectors) if self.normalize else vectors

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return tokens[:, 0]
        weights = mask[:, :, None].astype(np.float32)
        if self.pooling == "max":
            return np.where(weights > 0, tokens, -1e9).max(axis=1)
        return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
