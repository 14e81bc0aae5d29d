"""Answers per second of `ragtui eval` against an OpenAI-compatible server on localhost.

    python benchmarks/bench_concurrency.py [--queries 16] [--delay 0.3]

The server (tests/servers/scripted_openai.py on 127.0.0.1) answers each request after a
fixed delay however many are in flight, as a batching server (vLLM, llama.cpp with
parallel slots) does within its batch size. Baseline: the same grid at --concurrency 1,
measured in this run. A server on localhost used to get one request at a time whatever
--concurrency said.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ragtui.config.backends import BackendSettings  # noqa: E402
from ragtui.config.settings_file import Settings  # noqa: E402
from ragtui.experiment.run.dataset import load_dataset  # noqa: E402
from ragtui.experiment.run.grid import GridPlan, run_grid  # noqa: E402
from tests.servers.processes import free_port, running  # noqa: E402


def answers_per_s(url: str, queries: int, model: str, concurrency: int) -> float:
    settings = Settings(backends=BackendSettings(openai_base_url=f"{url}/v1"))
    dataset = load_dataset(REPO / "sample_corpus", limit=queries)
    plan = GridPlan(("bm25",), (f"openai:{model}",), concurrency=concurrency)
    with tempfile.TemporaryDirectory() as cache:  # a fresh generation cache: nothing reused
        started = time.perf_counter()
        run = run_grid(dataset, plan, settings, cache_root=Path(cache))
        elapsed_s = time.perf_counter() - started
    assert len(run.cells) == queries and all(cell.answer for cell in run.cells)
    return queries / elapsed_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=16)
    parser.add_argument("--delay", type=float, default=0.3, help="server seconds per answer")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tests.servers.scripted_openai", "--port", str(port)]
    with running(command, f"{url}/health"):
        model = f"delay-{args.delay:g}"
        print(f"eval, bm25 × openai:{model} on 127.0.0.1, {args.queries} queries:")
        baseline = answers_per_s(url, args.queries, model, 1)
        print(f"  --concurrency 1  {baseline:6.2f} answers/s  (baseline)")
        for concurrency in (4, 8):
            rate = answers_per_s(url, args.queries, model, concurrency)
            print(f"  --concurrency {concurrency}  {rate:6.2f} answers/s  ({rate / baseline:.2f}x)")


if __name__ == "__main__":
    main()
