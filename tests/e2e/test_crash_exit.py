"""A crash of the app is a failure of the process: the exit status says so."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, SAMPLE_CORPUS

# A bug planted in the app (a handler that raises), run as `ragtui CORPUS` runs it.
CRASHING_APP = """
import sys
from ragtui import cli
from ragtui.tui.app import CompareApp

def crash(self):
    raise RuntimeError("planted bug")

CompareApp.on_ready = crash
sys.exit(cli.main([sys.argv[1]]))
"""


def test_a_crash_exits_non_zero(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "RAGTUI_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "100",
        "LINES": "30",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_APP, str(SAMPLE_CORPUS)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=REPO,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while child.poll() is None and time.monotonic() < deadline:
            readable, _, _ = select.select([controller], [], [], 0.2)
            if readable:
                try:
                    output += os.read(controller, 65536)
                except OSError:
                    break
        child.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if child.poll() is None:
            child.kill()
        os.close(controller)
    assert child.returncode not in (0, None), output[-2000:]
    assert b"planted bug" in output
