"""sha256 of model files and folders, remembered against size and mtime.

Cache keys name a model by its content (a replaced GGUF file or re-exported weights must
not be taken for the old ones). Hashing a few hundred MB costs a fraction of a second, so
each result is kept in a small JSON file and recomputed only when the file's size or
modification time changes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def _load_memo(memo_file: Path | None) -> dict[str, dict]:
    if memo_file is None:
        return {}
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def _save_memo(memo_file: Path | None, memo: dict[str, dict]) -> None:
    if memo_file is None:
        return
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        scratch = memo_file.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(memo))
        os.replace(scratch, memo_file)
    except OSError:
        pass  # only a cache of hashes: recomputed next time


def _digest_files(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _remembered(key: str, signature: list, compute, memo_file: Path | None) -> str:
    memo = _load_memo(memo_file)
    known = memo.get(key)
    if isinstance(known, dict) and known.get("signature") == signature:
        return str(known["sha256"])
    value = compute()
    memo[key] = {"signature": signature, "sha256": value}
    _save_memo(memo_file, memo)
    return value


def folder_sha256(folder: Path, memo_file: Path | None = None) -> str:
    """sha256 over every file of a folder (relative names and contents)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts)
    signature = [
        [str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns] for p in files
    ]
    return _remembered(
        str(folder.resolve()), signature, lambda: _digest_files(folder, files), memo_file
    )


def file_sha256(path: Path, memo_file: Path | None = None) -> str:
    """sha256 of one file's contents."""
    stat = path.stat()
    signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]

    def compute() -> str:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    return _remembered(str(path.resolve()), signature, compute, memo_file)
