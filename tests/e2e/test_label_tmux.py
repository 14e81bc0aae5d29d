"""``ragtui label`` in a real terminal: the pool is built, the blind screen grades with a
key press, and after quitting the grades are on disk and the summary is printed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CORPUS
from tests.e2e.test_tmux import Terminal

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)


def test_grading_a_pool_in_tmux(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "RAGTUI_DATA_DIR": str(data),
        "RAGTUI_CACHE_DIR": os.environ["RAGTUI_CACHE_DIR"],
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }
    questions = tmp_path / "questions.txt"
    questions.write_text("How heavy is the HB-15?\n", encoding="utf-8")
    imported = subprocess.run(
        [sys.executable, "-m", "ragtui", "testset", "import", str(SAMPLE_CORPUS),
         str(questions), "--name", "own"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "1 questions imported" in imported.stdout
    command = [
        sys.executable, "-m", "ragtui", "label", str(SAMPLE_CORPUS), "--testset", "own",
        "--retrievers", "bm25,bm25:okapi", "--depth", "3",
    ]  # fmt: skip
    terminal = Terminal(command, env, (100, 30))
    try:
        screen = terminal.wait_for(lambda screen: "query 1 of 1" in screen, 120)
        assert "Question: How heavy is the HB-15?" in screen
        assert "bm25" not in screen and "okapi" not in screen
        terminal.keys("3")
        terminal.wait_for(lambda screen: "saved: grade 3" in screen, 20)
        terminal.keys("0")
        terminal.wait_for(lambda screen: "saved: grade 0" in screen, 20)
        terminal.keys("q")
        screen = terminal.wait_for(lambda screen: "grades made this session" in screen, 20)
        assert "2 grades made this session" in screen
    finally:
        terminal.close()
    (labels,) = data.glob("corpora/*/labels.jsonl")
    records = [json.loads(line) for line in labels.read_text().splitlines()]
    assert [record["grade"] for record in records] == [3, 0]
    assert {record["source"] for record in records} == {"label screen (blind)"}
    assert all(record["query_id"] == "own-q1" and record["text_sha256"] for record in records)
