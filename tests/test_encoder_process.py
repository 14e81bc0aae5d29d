"""The embedding model served by a child process (ragtui/encoders/encoder_process.py): the
compare screen starts it before Textual, so the app's process never loads ONNX Runtime."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ragtui.encoders as encoders
from ragtui.encoders import get_encoder, start_loading
from ragtui.encoders.process_encoder import ProcessEncoder
from ragtui.errors import RagtuiError
from tests.conftest import REPO

TEXTS = ["grid outage on the north feeder", "ünïcode and a\nnewline", "x " * 300]


@pytest.fixture
def fresh_encoders(monkeypatch: pytest.MonkeyPatch) -> None:
    """No encoder loaded yet in this process, as at an app's start."""
    monkeypatch.setattr(encoders, "_encoders", {})


def cache_root() -> Path:
    return Path(os.environ["RAGTUI_CACHE_DIR"])


def test_the_child_gives_the_vectors_and_identity_of_loading_here(fresh_encoders) -> None:
    here = encoders._load(encoders.DEFAULT_EMBEDDING_MODEL, cache_root(), None)
    start_loading(["minilm"], cache_root())  # an alias: the child serves the canonical name
    stages: list[str] = []
    served = get_encoder(encoders.DEFAULT_EMBEDDING_MODEL, cache_root(), stages.append)
    try:
        assert isinstance(served, ProcessEncoder)
        assert (served.identity, served.backend, served.dimension) == (
            here.identity,
            here.backend,
            here.dimension,
        )
        np.testing.assert_array_equal(served.encode(TEXTS), here.encode(TEXTS))
        np.testing.assert_array_equal(served.encode_query(TEXTS[0]), here.encode_query(TEXTS[0]))
        assert served.encode([]).shape == (0, here.dimension)
    finally:
        served.close()


def test_progress_comes_after_each_batch(fresh_encoders) -> None:
    start_loading([encoders.DEFAULT_EMBEDDING_MODEL], cache_root())
    served = get_encoder(encoders.DEFAULT_EMBEDDING_MODEL, cache_root())
    seen: list[int] = []
    try:
        served.encode(TEXTS * 6, batch_size=2, progress=lambda p: seen.append(p.done))
    finally:
        served.close()
    # 18 texts in batches of 2: progress after each batch, as in this process
    assert seen[:9] == list(range(2, 19, 2)) and set(seen[9:]) == {18}


def test_a_child_that_dies_is_replaced_by_the_model_here(fresh_encoders, caplog) -> None:
    start_loading([encoders.DEFAULT_EMBEDDING_MODEL], cache_root())
    served = get_encoder(encoders.DEFAULT_EMBEDDING_MODEL, cache_root())
    before = served.encode(TEXTS)
    served.process.process.kill()
    served.process.process.wait()
    with caplog.at_level(logging.WARNING, logger="ragtui"):
        after = served.encode(TEXTS)
    np.testing.assert_array_equal(after, before)
    assert any(
        "embedding process for all-MiniLM-L6-v2 ended" in r.getMessage() for r in caplog.records
    )


def test_a_users_mistake_reads_as_it_would_without_the_child(fresh_encoders, tmp_path) -> None:
    # A folder that holds no model: the same one-line error, from the child as from here.
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(RagtuiError) as here:
        encoders._load(str(empty), cache_root(), None).encode(TEXTS)
    start_loading([str(empty)], cache_root())
    with pytest.raises(RagtuiError) as served:
        get_encoder(str(empty), cache_root()).encode(TEXTS)
    assert str(served.value) == str(here.value)
    assert "\n" not in str(served.value)


def test_the_compare_start_loads_neither_numpy_nor_onnxruntime(tmp_path: Path) -> None:
    """What the CLI does before the first frame: start the children, import the app."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ragtui.config.settings_file import Settings\n"
        "from ragtui.compare.pane_encoders import start_encoders_for\n"
        f"start_encoders_for(['bm25+extractive', 'dense+extractive'], Settings(), "
        f"Path({str(tmp_path)!r}))\n"
        "import ragtui.tui.app\n"
        "from ragtui.encoders import encoder_process\n"
        "started = sorted(encoder_process._started)\n"
        "heavy = [m for m in ('numpy', 'onnxruntime', 'tokenizers') if m in sys.modules]\n"
        "print(json.dumps([started, heavy]))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    started, heavy = json.loads(finished.stdout.strip().splitlines()[-1])
    assert started == [encoders.DEFAULT_EMBEDDING_MODEL]
    assert heavy == []


async def test_a_swapped_in_model_loads_in_a_child(
    fresh_encoders, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ragtui.encoders import encoder_process
    from tests.session_helpers import answered, open_session, wait_until

    monkeypatch.setattr(encoder_process, "_started", {})
    async with open_session(tmp_path, spec_a="bm25+extractive", spec_b="bm25+extractive") as (
        session,
        _,
    ):
        assert encoder_process._started == {}  # BM25 alone needs no model
        session.set_component("a", "retriever", "dense")
        assert list(encoder_process._started) == [encoders.DEFAULT_EMBEDDING_MODEL]
        session.ask("How heavy is the HB-15?")
        await wait_until(lambda: answered(session), timeout_s=300)
        assert isinstance(get_encoder(encoders.DEFAULT_EMBEDDING_MODEL), ProcessEncoder)
        assert session.panes["a"].run.result.hits and session.panes["a"].run.error is None


def test_a_closing_app_stops_a_child_still_loading(fresh_encoders, monkeypatch) -> None:
    from ragtui.encoders import encoder_process
    from ragtui.errors import Cancelled

    monkeypatch.setattr(encoder_process, "_started", {})
    start_loading([encoders.DEFAULT_EMBEDDING_MODEL], cache_root())
    child = encoder_process._started[encoders.DEFAULT_EMBEDDING_MODEL].process
    encoder_process.stop_loading()  # as the session's close does, before the model is in
    assert child.poll() is not None
    # whoever waited for the model is told the work stopped; nothing loads in its place
    with pytest.raises(Cancelled):
        get_encoder(encoders.DEFAULT_EMBEDDING_MODEL, cache_root())
    assert encoders.DEFAULT_EMBEDDING_MODEL not in encoders._encoders


def test_a_child_still_loading_ends_when_the_app_is_gone(tmp_path: Path) -> None:
    """The app's end (a hang-up ends it with os._exit) closes the child's stdin; a child
    in the middle of its model's export must not run on for the minute an export takes."""
    import psutil

    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from ragtui.encoders.encoder_process import EncoderProcess\n"
            "child = EncoderProcess('all-MiniLM-L6-v2', Path(sys.argv[1]))\n"
            "print(child.process.pid, flush=True)\n"
            "time.sleep(600)\n",
            str(tmp_path / "empty-cache"),  # nothing exported yet: the child exports first
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))

    def exports() -> list[psutil.Process]:
        found = []
        for process in child.children(recursive=True):
            try:
                if "ragtui.encoders.export" in process.cmdline():
                    found.append(process)
            except psutil.NoSuchProcess:
                pass
        return found

    deadline = time.monotonic() + 120
    while not exports() and time.monotonic() < deadline:
        time.sleep(0.1)
    running = exports()
    assert running, "the export never started"
    parent.kill()  # as abrupt as os._exit
    parent.wait()
    _gone, alive = psutil.wait_procs([child, *running], timeout=10)
    assert alive == []
