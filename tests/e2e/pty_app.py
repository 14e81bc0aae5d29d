"""Running ``ragtui`` on a pseudo-terminal, as a person's terminal would, from a test."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO


class PtyProcess:
    """A child on a pty of 100x30; ``output`` collects everything it drew."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.controller, terminal = pty.openpty()
        environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        self.child = subprocess.Popen(
            [sys.executable, *args],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=REPO,
            env={**environment, **env},
            close_fds=True,
            start_new_session=True,
        )
        os.close(terminal)
        self.output = b""

    def read(self, seconds: float) -> None:
        """Collect output for up to seconds (less if the child exits)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.controller], [], [], 0.05)
            if readable:
                try:
                    self.output += os.read(self.controller, 65536)
                except OSError:
                    return
            elif self.child.poll() is not None:
                return

    def wait_for(self, text: bytes, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output:
            if time.monotonic() > deadline or self.child.poll() is not None:
                raise AssertionError(f"{text!r} never shown; last output: {self.output[-1500:]!r}")
            self.read(0.1)

    def send(self, keys: bytes) -> None:
        os.write(self.controller, keys)

    def wait_exit(self, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        while self.child.poll() is None and time.monotonic() < deadline:
            self.read(0.05)
        return self.child.poll()

    def close(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        os.close(self.controller)


def python_args(*args: str) -> list[str]:
    return ["-m", "ragtui", *args]


def corpus_of(folder: Path, documents: int, words: int = 150) -> Path:
    """A folder of documents distinct enough that each is its own passage."""
    import random

    rng = random.Random(7)
    vocabulary = [f"w{number}" for number in range(5000)]
    folder.mkdir(parents=True)
    for number in range(documents):
        text = " ".join(rng.choice(vocabulary) for _ in range(words))
        (folder / f"doc{number:05d}.txt").write_text(f"Document {number}. {text}\n")
    return folder
