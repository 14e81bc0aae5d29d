"""Running the CLI as a user does: a fresh process, offline, in the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# A shell that starts a job in the background (`make test &`, a CI runner's script) sets
# SIGINT to "ignore" for it, the ignore is inherited, and Python leaves an ignored SIGINT
# alone: Ctrl-C tests would then see the child finish instead of stop. This start-up
# restores Python's own handler first, as in a terminal.
_INTERRUPTIBLE = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'ragtui'; runpy.run_module('ragtui', run_name='__main__', alter_sys=True)"
)


def interruptible(command: list[str]) -> list[str]:
    """``[python, -m, ragtui, ARGS…]`` started so that SIGINT reaches it as Ctrl-C does."""
    assert command[1:3] == ["-m", "ragtui"], command
    return [command[0], "-c", _INTERRUPTIBLE, *command[3:]]


def ragtui(
    *args: str, cache: Path | None = None, env: dict[str, str] | None = None, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m ragtui ARGS``; ``env`` adds to (or overrides) the test's environment."""
    environment = dict(os.environ, HF_HUB_OFFLINE="1")
    environment.pop("OPENAI_BASE_URL", None)
    if cache is not None:
        environment["RAGTUI_CACHE_DIR"] = str(cache)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ragtui", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=timeout_s,
    )
