"""Encoders: ONNX equals sentence-transformers, searching never imports torch, variants are
kept apart in the cache, and an interrupted export is never used."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.encoders import get_encoder
from ragtui.encoders.building import built_model
from ragtui.encoders.export import WEIGHTS_FILE
from ragtui.encoders.model_files import model_files_hash, resolve_model_path
from ragtui.errors import Cancelled, RagtuiError
from ragtui.index.cache import Indexes
from tests.conftest import REPO, SAMPLE_CORPUS

QUERY = "How heavy is the HB-15?"


def _texts() -> list[str]:
    corpus = load_corpus(SAMPLE_CORPUS)
    # real passages, plus a one-word text and one far past the 256-token window
    return [p.text for p in corpus.passages] + ["battery", "word " * 700]


def test_onnx_vectors_equal_sentence_transformers() -> None:
    from ragtui.encoders.sentence_transformers_encoder import SentenceTransformersEncoder

    texts = _texts()
    onnx = get_encoder("all-MiniLM-L6-v2")
    assert onnx.backend == "onnx fp32"
    reference = SentenceTransformersEncoder("all-MiniLM-L6-v2", "reference")
    ours, theirs = onnx.encode(texts, batch_size=7), reference.encode(texts)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines.min()
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_variants_have_their_own_identity_and_cache(tmp_path: Path) -> None:
    corpus = load_corpus(SAMPLE_CORPUS)
    indexes = Indexes(corpus, tmp_path)
    names = ("all-MiniLM-L6-v2", "minilm-int8", "minilm-static")
    identities = {name: indexes.encoder(name).identity for name in names}
    assert len(set(identities.values())) == 3
    assert indexes.encoder("minilm-static").dimension == 256
    for name in names:
        indexes.dense(name)
    dense_folders = sorted(p.name for p in indexes.folder.iterdir() if p.name.startswith("dense-"))
    stores = sorted(p.name for p in (tmp_path / "embeddings").iterdir())
    assert len(dense_folders) == 3 and len(stores) == 3
    fp32 = indexes.embeddings("all-MiniLM-L6-v2")
    int8 = indexes.embeddings("minilm-int8")
    assert fp32.shape == int8.shape and not np.array_equal(fp32, int8)
    assert (fp32 * int8).sum(axis=1).mean() > 0.95  # close, but its own vectors


def test_searching_never_imports_torch(tmp_path: Path) -> None:
    # warm the export and the index in this process's cache, then search from a fresh one
    assert main(["search", str(SAMPLE_CORPUS), QUERY, "--retriever", "hybrid"]) == 0
    script = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from ragtui.cli import main
for spec in ("dense", "hybrid", "static", "dense:minilm-int8"):
    assert main(["search", {str(SAMPLE_CORPUS)!r}, {QUERY!r}, "--retriever", spec, "--json"]) == 0
heavy = [name for name in ("torch", "transformers", "sentence_transformers", "sklearn")
         if name in sys.modules]
print("LOADED", heavy, file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["retriever"] for line in lines] == [
        "dense",
        "hybrid",
        "static",
        "dense:minilm-int8",
    ]
    # no third-party load report or warning reaches the output
    for text in (done.stdout, done.stderr):
        assert "LOAD REPORT" not in text and "UNEXPECTED" not in text
    assert "Warning:" not in done.stderr and "warn(" not in done.stderr


def test_an_interrupted_export_is_never_used(tmp_path: Path) -> None:
    import ragtui.encoders.building as building

    source = Path(resolve_model_path("all-MiniLM-L6-v2"))
    digest = model_files_hash(source)
    failures: list[RagtuiError] = []

    def export() -> None:
        try:
            built_model("onnx", "all-MiniLM-L6-v2", source, digest, tmp_path)
        except Cancelled as error:
            failures.append(error)

    worker = threading.Thread(target=export)
    worker.start()
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("encoders/**/model.onnx")) and time.monotonic() < deadline:
        time.sleep(0.01)
    # What a closing app does: the export child is killed (SIGKILL) once it is writing.
    building.stop_exports()
    worker.join(60)
    (failure,) = failures
    assert "exporting all-MiniLM-L6-v2 to ONNX (once) stopped" in str(failure)
    leftovers = list((tmp_path / "encoders").iterdir())
    assert leftovers == [], leftovers  # neither a half folder nor a scratch folder
    folder = built_model("onnx", "all-MiniLM-L6-v2", source, digest, tmp_path)
    # The weights sit in a file of their own, which ONNX Runtime maps rather than copies
    # (the dense pane is ready sooner); the graph alone is small.
    assert (folder / WEIGHTS_FILE).stat().st_size > 80_000_000
    assert (folder / "model.onnx").stat().st_size < 1_000_000


@pytest.mark.parametrize("spec", ["bm25:okapi", "dense:minilm-int8", "static", "hybrid:static"])
def test_every_new_retriever_searches_from_the_cli(spec: str, capsys) -> None:
    assert (
        main(["search", str(SAMPLE_CORPUS), QUERY, "--retriever", spec, "--json", "-k", "3"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["retriever"] == spec and len(result["hits"]) == 3
    assert "hb15-model.md" in {hit["doc_id"] for hit in result["hits"]}


def test_okapi_ranks_as_rank_bm25_does() -> None:
    from rank_bm25 import BM25Okapi

    from ragtui.index.bm25_index import tokenize
    from ragtui.retrieval import make_retriever

    corpus = load_corpus(SAMPLE_CORPUS)
    indexes = Indexes(corpus)
    result = make_retriever("bm25:okapi", indexes).search(QUERY, 5)
    reference = BM25Okapi([tokenize(p.text) for p in corpus.passages]).get_scores(tokenize(QUERY))
    expected = [
        corpus.passages[row].passage_id for row in np.argsort(-reference, kind="stable")[:5]
    ]
    assert [hit.passage_id for hit in result.hits] == expected
    assert [hit.score for hit in result.hits] == pytest.approx(sorted(reference, reverse=True)[:5])


def test_every_new_retriever_runs_in_eval(tmp_path: Path, capsys) -> None:
    out = tmp_path / "eval"
    specs = "bm25:okapi,dense:minilm-int8,static,hybrid:static"
    code = main(
        [
            *("eval", str(SAMPLE_CORPUS), "--retrievers", specs),
            *("--generators", "extractive", "--limit", "4", "--out", str(out)),
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["retrieval"]) == set(specs.split(","))
    for figures in results["retrieval"].values():
        assert 0.0 < figures["mean"]["nDCG@10"] <= 1.0


def test_loading_one_model_does_not_hold_up_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each model has its own load lock. The loads are replaced by stand-ins (one that
    waits, one that returns at once): what is under test is only who waits for whom."""
    import ragtui.encoders as encoders

    release = threading.Event()
    loaded = object()

    def load(name: str, cache_root: Path, stage) -> object:
        if name == "slow-model":
            release.wait(30)
        return loaded

    monkeypatch.setattr(encoders, "_load", load)
    monkeypatch.setattr(encoders, "_encoders", {})
    slow = threading.Thread(target=get_encoder, args=("slow-model", Path("/nonexistent")))
    slow.start()
    time.sleep(0.2)  # the slow load holds its lock
    other: list[object] = []
    quick = threading.Thread(
        target=lambda: other.append(get_encoder("quick-model", Path("/nonexistent")))
    )
    quick.start()
    quick.join(5)
    finished = not quick.is_alive()
    release.set()
    slow.join(5)
    quick.join(5)
    assert finished and other == [loaded]


def test_a_session_opens_from_the_graph_saved_at_its_first_load_with_equal_vectors(
    tmp_path: Path,
) -> None:
    import onnxruntime

    from ragtui.encoders.onnx_encoder import OnnxEncoder

    exported = Path(get_encoder("all-MiniLM-L6-v2").session._model_path).parent  # type: ignore[attr-defined]
    folder = tmp_path / "export"
    folder.mkdir()
    for item in exported.iterdir():
        if not item.name.startswith((".", "model.optimized")):
            # linked, not symlinked: ONNX Runtime refuses weights outside the model's folder
            os.link(item, folder / item.name)
    stem = f"model.optimized-ort{onnxruntime.__version__}-{platform.machine()}"
    optimized, unusable = folder / f"{stem}.onnx", folder / f"{stem}.unusable"
    older = folder / "model.optimized-ort0.1-x.onnx"
    older.write_bytes(b"a graph of an older runtime")

    def loaded() -> OnnxEncoder:
        return OnnxEncoder("all-MiniLM-L6-v2", folder, "model.onnx", "test", "onnx fp32")

    texts = _texts()
    first = loaded()
    assert optimized.is_file() and not older.exists()
    assert Path(first.session._model_path) == optimized  # type: ignore[attr-defined]
    reference = loaded()
    reference.session = onnxruntime.InferenceSession(
        str(folder / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    expected = reference.encode(texts, batch_size=7)
    assert np.abs(first.encode(texts, batch_size=7) - expected).max() <= 1e-6

    # Damaged: model.onnx serves, the file goes, and no later load pays to optimise again.
    optimized.write_bytes(b"not a graph")
    damaged = loaded()
    assert Path(damaged.session._model_path) == folder / "model.onnx"  # type: ignore[attr-defined]
    assert not optimized.exists() and unusable.exists()
    assert np.abs(damaged.encode(texts, batch_size=7) - expected).max() <= 1e-6
    assert Path(loaded().session._model_path) == folder / "model.onnx"  # type: ignore[attr-defined]
    assert not optimized.exists()

    # A damaged file in a folder it cannot be removed from: model.onnx still serves.
    unusable.unlink()
    optimized.write_bytes(b"not a graph")
    original_unlink = Path.unlink

    def refused(path: Path, missing_ok: bool = False) -> None:
        if path == optimized:
            raise PermissionError(f"read-only: {path}")
        original_unlink(path, missing_ok=missing_ok)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "unlink", refused)
        stuck = loaded()
    assert Path(stuck.session._model_path) == folder / "model.onnx"  # type: ignore[attr-defined]
