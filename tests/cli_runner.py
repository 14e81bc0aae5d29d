"""Running the CLI as a user does: a fresh process, offline, in the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


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
