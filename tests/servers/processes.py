"""Start real servers on 127.0.0.1 for tests and stop them afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(
    args: Sequence[str], ready_url: str, env: dict[str, str] | None = None, timeout_s: float = 60
) -> Iterator[subprocess.Popen]:
    """Run a server process until the block ends; wait until ready_url answers.

    ``tcp://HOST:PORT`` waits for the port to accept connections (gRPC servers).
    """
    # A file, not a pipe: a chatty server would block once a pipe's buffer filled up.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        list(args),
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server {args[:3]} exited: {log.read().decode()[-2000:]}")
            if _answers(ready_url):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {args[:3]} not ready after {timeout_s} s")
            time.sleep(0.1)
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)
        log.close()


def _answers(ready_url: str) -> bool:
    if ready_url.startswith("tcp://"):
        host, port = ready_url.removeprefix("tcp://").rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return True
        except OSError:
            return False
    try:
        return httpx.get(ready_url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def milvus_lite_server(data_dir: Path, port: int):
    """``milvus-lite server``: Milvus's gRPC API over a data folder, as a cluster serves it."""
    return running(
        [
            str(Path(sys.executable).with_name("milvus-lite")),
            "server",
            "--data-dir",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        f"tcp://127.0.0.1:{port}",
    )


def milvus_token_server(data_dir: Path, port: int, token: str):
    """Milvus Lite behind a token check (tests/servers/milvus_auth_server.py says why)."""
    return running(
        [
            sys.executable,
            "-m",
            "tests.servers.milvus_auth_server",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--token",
            token,
        ],
        f"tcp://127.0.0.1:{port}",
    )


def llama_server(model: Path, alias: str, port: int, *extra: str):
    return running(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        f"http://127.0.0.1:{port}/v1/models",
    )


def ollama_server(model: Path, name: str, port: int):
    return running(
        [
            sys.executable,
            "-m",
            "tests.servers.ollama_server",
            "--model",
            str(model),
            "--name",
            name,
            "--port",
            str(port),
        ],
        f"http://127.0.0.1:{port}/api/version",
    )
