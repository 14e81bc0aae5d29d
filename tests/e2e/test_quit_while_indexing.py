"""`q` while the index is being built ends the process within a second or two.

Before, the embedding ran to its end in a worker thread (the interpreter waits for those)
and the ONNX export went on in its child process: minutes on a large corpus.
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from ragtui.corpus import load_corpus
from ragtui.index.cache import Indexes
from tests.e2e.pty_app import PtyProcess, corpus_of, python_args

ESCAPE_THEN_QUIT = (b"\x1b", b"q")


def quit_and_time(app: PtyProcess) -> float:
    app.send(ESCAPE_THEN_QUIT[0])
    time.sleep(0.3)  # Textual tells a lone Escape from an escape sequence by a short wait
    started = time.monotonic()
    app.send(ESCAPE_THEN_QUIT[1])
    code = app.wait_exit(30)
    assert code is not None, app.output[-1500:]
    return time.monotonic() - started


def exports_running() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if "ragtui.encoders.export" in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_quitting_while_embedding_ends_at_once(tmp_path: Path) -> None:
    corpus = corpus_of(tmp_path / "corpus", 4000)
    cache = tmp_path / "cache"
    # The ONNX export is made beforehand, so the app goes straight to embedding.
    Indexes(load_corpus(corpus, cache_root=cache), cache_root=cache).encoder("all-MiniLM-L6-v2")
    app = PtyProcess(
        python_args(str(corpus), "--a", "dense+extractive", "--b", "bm25+extractive"),
        {"RAGTUI_CACHE_DIR": str(cache), "RAGTUI_DATA_DIR": str(tmp_path / "data")},
    )
    try:
        app.wait_for(b"embedding 32/", 120)
        elapsed_s = quit_and_time(app)
    finally:
        app.close()
    # Embedding 4,000 passages takes tens of seconds here; quitting must not wait for it.
    assert elapsed_s < 5, f"the app took {elapsed_s:.1f} s to quit"
    assert not list(cache.glob("**/embeddings*/manifest.json"))


def test_quitting_during_the_model_export_kills_the_export(tmp_path: Path) -> None:
    corpus = corpus_of(tmp_path / "corpus", 50)
    cache = tmp_path / "empty-cache"
    app = PtyProcess(
        python_args(str(corpus), "--a", "dense+extractive", "--b", "bm25+extractive"),
        {"RAGTUI_CACHE_DIR": str(cache), "RAGTUI_DATA_DIR": str(tmp_path / "data")},
    )
    try:
        app.wait_for(b"to ONNX", 120)
        deadline = time.monotonic() + 30
        while not exports_running() and time.monotonic() < deadline:
            app.read(0.1)
        assert exports_running(), "the export child never started"
        elapsed_s = quit_and_time(app)
    finally:
        app.close()
    assert elapsed_s < 5, f"the app took {elapsed_s:.1f} s to quit"
    time.sleep(0.5)
    assert not exports_running()
