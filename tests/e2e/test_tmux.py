"""End to end in a real terminal: tmux runs ``ragtui`` as a person would and we read the screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CORPUS

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str], size: tuple[int, int]) -> None:
        self.name = f"ragtui-{uuid.uuid4().hex[:8]}"
        width, height = size
        environment = " ".join(f"{key}={value}" for key, value in env.items())
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
             # COLUMNS/LINES inherited from the test runner would override the real size.
             f"env -u COLUMNS -u LINES {environment} {' '.join(command)}; sleep 30"],
            check=True,
        )  # fmt: skip
        # Detached sessions may keep tmux's default 80x24; fix the size explicitly.
        for option in (["window-size", "manual"],):
            subprocess.run(["tmux", "set-option", "-t", self.name, *option], capture_output=True)
        subprocess.run(
            ["tmux", "resize-window", "-t", self.name, "-x", str(width), "-y", str(height)],
            capture_output=True,
        )

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return result.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(
            ["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys], check=True
        )

    def wait_for(self, predicate, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_query_answers_label_and_quit_in_tmux(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "RAGTUI_DATA_DIR": str(data),
        "RAGTUI_CACHE_DIR": os.environ["RAGTUI_CACHE_DIR"],
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }
    command = [
        sys.executable, "-m", "ragtui", str(SAMPLE_CORPUS),
        "--a", "bm25+extractive", "--b", "hybrid+extractive",
    ]  # fmt: skip
    terminal = Terminal(command, env, (120, 40))
    try:
        terminal.wait_for(lambda screen: "passages · ready" in screen, 120)
        terminal.keys("How heavy is the HB-15?", literal=True)
        terminal.keys("Enter")
        screen = terminal.wait_for(lambda screen: screen.count("fair timing") >= 3)
        assert screen.count("retrieval") >= 2 and screen.count("tokens") >= 2
        assert "hb15-model.md" in screen
        assert screen.count("done · stop") == 2  # both answers finished
        terminal.keys("3")
        terminal.wait_for(lambda screen: "3 ●●●" in screen, 20)
        (tmp_path / "screen.txt").write_text(terminal.screen(), encoding="utf-8")
        terminal.keys("q")
        terminal.wait_for(lambda screen: "ready" not in screen, 20)
    finally:
        terminal.close()
    labels_files = list(data.glob("corpora/*/labels.jsonl"))
    assert len(labels_files) == 1
    records = [json.loads(line) for line in labels_files[0].read_text().splitlines()]
    assert [record["grade"] for record in records] == [3]
    assert records[0]["query"] == "How heavy is the HB-15?"
