"""The generation cache names the model itself, not just its spec."""

from __future__ import annotations

import shutil
from pathlib import Path

from ragtui.config.settings_file import Settings
from ragtui.config.specs import GeneratorSpec
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from ragtui.generation.catalog import CATALOG
from ragtui.generation.llamacpp import LlamaCppGenerator
from tests.conftest import SAMPLE_CORPUS


def test_replacing_the_gguf_behind_a_path_spec_is_not_served_old_answers(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    shutil.copyfile(CATALOG["smollm2"].locate(), model)
    dataset = load_dataset(SAMPLE_CORPUS, limit=2)
    plan = GridPlan(("bm25",), (f"llamacpp:{model}",), max_tokens=6)
    cache = tmp_path / "cache"
    spec = f"llamacpp:{model}"

    first = run_grid(dataset, plan, Settings(), cache_root=cache)
    assert first.generated[spec] == 2
    again = run_grid(dataset, plan, Settings(), cache_root=cache)
    assert again.generated[spec] == 0 and again.reused[spec] == 2

    # Another file under the same path and spec. It must keep the prompt the same (a chat
    # model) so only the file can tell the runs apart: the packaged models are one chat
    # model and one base model, so this is SmolLM2 with the first letter of its name
    # changed in the GGUF metadata (key, then a 4-byte type and an 8-byte length).
    data = bytearray(model.read_bytes())
    value = data.index(b"general.name") + len(b"general.name") + 4 + 8
    data[value] = ord("X") if data[value] != ord("X") else ord("Y")
    model.write_bytes(bytes(data))
    replaced = run_grid(dataset, plan, Settings(), cache_root=cache)
    assert replaced.generated[spec] == 2 and replaced.reused[spec] == 0


async def test_identities_name_content_and_never_a_key(monkeypatch) -> None:
    from ragtui.config.backends import BackendSettings
    from ragtui.generation import make_generator

    smollm2 = await LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2")).identity()
    gemma3 = await LlamaCppGenerator(GeneratorSpec("llamacpp", "gemma3")).identity()
    assert smollm2.startswith("gguf-sha256:") and smollm2 != gemma3
    settings = BackendSettings(openai_base_url="http://127.0.0.1:9/v1", openai_api_key="sk-SECRET")
    remote = make_generator("openai:some-model", settings)
    identity = await remote.identity()
    assert "some-model" in identity and "SECRET" not in identity
