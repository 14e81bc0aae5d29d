"""`ragtui eval --concurrency N` keeps N requests in flight, to a server on localhost too.

Only models inside this process are serialised for fair timing; a vLLM or llama.cpp server
on 127.0.0.1 is the usual set-up for generation at scale, and batches what it is sent.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ragtui.config.backends import BackendSettings
from ragtui.config.settings_file import Settings
from ragtui.errors import RagtuiError
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from tests.conftest import SAMPLE_CORPUS
from tests.test_cli import ragtui


def peak(url: str, model: str) -> int:
    return httpx.get(f"{url}/health").json()["peak_in_flight"].get(model, 0)


@pytest.mark.parametrize(("timing", "model", "expected"), [
    ("auto", "delay-0.3", 4),
    ("fair", "delay-0.31", 1),
])  # fmt: skip
def test_a_local_server_gets_the_concurrency_asked_for(
    scripted_openai: str, tmp_path: Path, timing: str, model: str, expected: int
) -> None:
    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_openai}/v1"))
    dataset = load_dataset(SAMPLE_CORPUS, limit=8)
    plan = GridPlan(("bm25",), (f"openai:{model}",), concurrency=4, timing=timing)
    run = run_grid(dataset, plan, settings, cache_root=tmp_path / "cache")
    assert len(run.cells) == 8 and all("142 kg" in cell.answer for cell in run.cells)
    assert peak(scripted_openai, model) == expected


def test_eval_says_how_each_generator_was_timed(scripted_openai: str, tmp_path: Path) -> None:
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25", "--limit", "2",
        "--generators", "extractive,openai:delay-0.05", "--out", str(tmp_path / "out"),
        env={"OPENAI_BASE_URL": f"{scripted_openai}/v1"}, cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "timing: extractive: runs in this process: one answer at a time" in done.stderr
    assert "timing: openai:delay-0.05: server: up to 4 requests at once" in done.stderr


def test_an_unknown_timing_is_refused() -> None:
    with pytest.raises(RagtuiError, match="timing 'fast': use one of auto, fair, concurrent"):
        GridPlan(("bm25",), ("extractive",), timing="fast")
