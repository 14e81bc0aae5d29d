"""Ctrl-C in the middle of `ragtui eval`, then the same command again: it resumes from the
generation cache and its report equals that of a run that was never interrupted."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_runner import interruptible
from tests.conftest import REPO, SAMPLE_CORPUS

QUERIES = 4
TIMING_COLUMNS = {"retrieval_ms", "ttft_ms", "total_ms", "tokens_per_s", "from_cache"}


def eval_command(out: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "ragtui", "eval", str(SAMPLE_CORPUS)),
        *("--retrievers", "bm25,dense", "--generators", "llamacpp:smollm2"),
        *("--limit", str(QUERIES), "--max-tokens", "24", "--out", str(out)),
    ]


def environment(cache: Path, data: Path) -> dict[str, str]:
    return {**os.environ, "RAGTUI_CACHE_DIR": str(cache), "RAGTUI_DATA_DIR": str(data)}


def cached_answers(cache: Path) -> int:
    database = cache / "generations.sqlite"
    if not database.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.Error:
        return 0


def comparable(out: Path) -> tuple[list[dict[str, str]], dict]:
    with (out / "per_query.csv").open(newline="") as handle:
        rows = [
            {key: value for key, value in row.items() if key not in TIMING_COLUMNS}
            for row in csv.DictReader(handle)
        ]
    results = json.loads((out / "results.json").read_text())
    quality = {
        "retrieval": {name: data["mean"] for name, data in results["retrieval"].items()},
        "pipelines": {name: data["mean"] for name, data in results["pipelines"].items()},
    }
    return rows, quality


def test_sigint_then_the_same_command_resumes_and_reports_the_same(tmp_path: Path) -> None:
    whole_out, resumed_out = tmp_path / "whole", tmp_path / "resumed"
    done = subprocess.run(
        eval_command(whole_out),
        cwd=REPO,
        env=environment(tmp_path / "cache-whole", tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr

    cache = tmp_path / "cache-resumed"
    env = environment(cache, tmp_path / "data")
    interrupted = subprocess.Popen(
        interruptible(eval_command(resumed_out)),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while cached_answers(cache) < 2:
        assert interrupted.poll() is None, interrupted.communicate()
        assert time.monotonic() < deadline, "no answers cached in time"
        time.sleep(0.1)
    interrupted.send_signal(signal.SIGINT)
    _, stderr = interrupted.communicate(timeout=120)
    assert interrupted.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not resumed_out.exists()  # no half report
    kept = cached_answers(cache)
    assert 2 <= kept < 2 * QUERIES

    resumed = subprocess.run(
        eval_command(resumed_out), cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    results = json.loads((resumed_out / "results.json").read_text())
    assert sum(results["reused"].values()) == kept
    assert sum(results["generated"].values()) == 2 * QUERIES - kept
    assert comparable(resumed_out) == comparable(whole_out)
