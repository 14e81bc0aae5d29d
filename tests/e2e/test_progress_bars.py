"""Long CLI work shows a progress bar on a terminal and plain lines through a pipe.

The terminal run is a real pseudo-terminal (the bar is drawn with rich's bar characters
and redrawn in place); the piped run must carry no control character at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLE_CORPUS
from tests.e2e.pty_app import PtyProcess, corpus_of, python_args

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but \t and \n


def test_index_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    corpus = corpus_of(tmp_path / "corpus", documents=120, words=120)
    child = PtyProcess(
        python_args("index", str(corpus), "--cache-dir", str(tmp_path / "cache")),
        env={"HF_HUB_OFFLINE": "1"},
    )
    try:
        assert child.wait_exit(300) == 0, child.output[-2000:]
    finally:
        child.close()
    drawn = child.output.decode("utf-8", "replace")
    assert "\x1b[?25l" in drawn and drawn.count("\x1b[?25l") == drawn.count("\x1b[?25h")
    screen = ANSI.sub("", drawn)
    assert "━" in screen  # rich's bar, redrawn in place ("\r") as work goes on
    bar = r"[━╺╸]+"
    assert re.search(rf"embedding {bar} +\d+/120 passages [\d.,]+/s elapsed \S+ ETA \S+\r", screen)
    assert re.search(rf"embedding {bar} 120/120 passages [\d.,]+/s elapsed \S+ ETA 0s", screen)
    # One bar per action: an end reported twice does not start a second bar from 0.
    assert len(re.findall(rf"embedding {bar} +0/120", screen)) == 1, screen
    assert len(re.findall(rf"adding to the HNSW graph {bar} +\d+/120", screen)) >= 1


def test_index_and_eval_print_plain_lines_through_a_pipe(tmp_path: Path) -> None:
    corpus = corpus_of(tmp_path / "corpus", documents=120, words=120)
    cache = tmp_path / "cache"
    index = piped("index", str(corpus), "--cache-dir", str(cache))
    lines = index.stderr.splitlines()
    done = r"embedding 120/120 passages \(.+/s, elapsed \S+, ETA 0s\)"
    assert any(re.fullmatch(done, line) for line in lines), lines
    evaluate = piped(
        "eval", str(SAMPLE_CORPUS), "--limit", "12", "--retrievers", "bm25,dense",
        "--generators", "extractive", "--cache-dir", str(cache), "--out", str(tmp_path / "eval"),
    )  # fmt: skip
    assert re.search(r"^answering 24/24 answers \(.+, ETA 0s\)$", evaluate.stderr, re.M)
    for output in (index.stdout, index.stderr, evaluate.stdout, evaluate.stderr):
        assert not CONTROL.search(output), repr(CONTROL.search(output))


def piped(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ragtui ARGS`` with its output going to pipes, as in a script or CI."""
    done = subprocess.run(
        [sys.executable, *python_args(*args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    return done
