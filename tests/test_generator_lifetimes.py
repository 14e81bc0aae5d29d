"""Whoever makes a generator closes it: a pane swap, the session's end, the grid, `ask`.

An ``openai:`` generator holds an HTTP client with open connections; each swap used to
leave one behind.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from ragtui.config.backends import BackendSettings
from ragtui.config.settings_file import Settings
from ragtui.experiment.run import grid
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from tests.conftest import SAMPLE_CORPUS
from tests.session_helpers import answered, open_session, wait_until

QUERY = "How heavy is the HB-15?"


def http_client(session, key: str) -> httpx.AsyncClient:
    client = session.panes[key].pipeline.generator._client
    assert isinstance(client, httpx.AsyncClient) and not client.is_closed
    return client


async def test_a_swap_and_the_session_end_close_the_generators(
    tmp_path: Path, scripted_openai: str
) -> None:
    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_openai}/v1"))
    async with open_session(
        tmp_path, spec_a="bm25+openai:ok", spec_b="bm25+openai:ok", settings=settings
    ) as (session, _seen):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        swapped_out, kept = http_client(session, "a"), http_client(session, "b")
        session.set_component("a", "generator", "extractive")
        await wait_until(lambda: swapped_out.is_closed)
        assert not kept.is_closed
    assert kept.is_closed  # the session's end closed the other pane's generator


def test_the_grid_closes_each_generator_it_made(
    tmp_path: Path, scripted_openai: str, monkeypatch
) -> None:
    made = []
    real = grid.make_generator

    def recording(spec, backends):
        generator = real(spec, backends)
        made.append(generator)
        return generator

    monkeypatch.setattr(grid, "make_generator", recording)
    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_openai}/v1"))
    dataset = load_dataset(SAMPLE_CORPUS, limit=2)
    run = run_grid(
        dataset, GridPlan(("bm25",), ("openai:ok",)), settings, cache_root=tmp_path / "cache"
    )
    assert [cell.answer for cell in run.cells] and all("142 kg" in c.answer for c in run.cells)
    (generator,) = made
    assert generator._client is None or generator._client.is_closed
