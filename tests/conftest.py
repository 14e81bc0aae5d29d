"""Shared fixtures: offline models, a private cache per test session, real datasets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "sample_corpus"
CRANFIELD = Path(os.environ.get("RAGTUI_CRANFIELD", REPO.parent / "shared" / "data" / "cranfield"))


@pytest.fixture(scope="session", autouse=True)
def _private_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep tests away from the user's real cache and data."""
    os.environ["RAGTUI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["RAGTUI_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def cranfield() -> Path:
    if not (CRANFIELD / "corpus.jsonl").is_file():
        message = f"Cranfield collection not found at {CRANFIELD} (set RAGTUI_CRANFIELD)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            # In CI the data set is laid next to the clone: missing means a broken path.
            pytest.fail(message)
        pytest.skip(message)
    return CRANFIELD


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    from ragtui.generation.catalog import CATALOG

    return CATALOG["smollm2"].locate()


@pytest.fixture(scope="session")
def llama_server_url(smollm2_path: Path):
    """llama-cpp-python's own OpenAI-compatible server with SmolLM2, on 127.0.0.1."""
    from tests.servers.processes import free_port, llama_server

    port = free_port()
    with llama_server(smollm2_path, "smollm2", port):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="session")
def ollama_url(smollm2_path: Path):
    """tests/servers/ollama_server.py (Ollama's documented API) with SmolLM2, on 127.0.0.1."""
    from tests.servers.processes import free_port, ollama_server

    port = free_port()
    with ollama_server(smollm2_path, "smollm2", port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """`milvus-lite server` on a free 127.0.0.1 port: the gRPC path a Milvus cluster serves."""
    from tests.servers.processes import free_port, milvus_lite_server

    port = free_port()
    with milvus_lite_server(tmp_path_factory.mktemp("milvus"), port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def scripted_openai():
    """tests/servers/scripted_openai.py on 127.0.0.1: the model name picks the fault."""
    import sys

    from tests.servers.processes import free_port, running

    port = free_port()
    with running(
        [sys.executable, "-m", "tests.servers.scripted_openai", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
    ):
        yield f"http://127.0.0.1:{port}"
