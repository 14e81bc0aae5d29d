"""Cache folders that are complete or absent: built aside, checksummed, renamed into place.

A folder is written under a temporary name, its manifest (file sizes and SHA-256) last,
then renamed to its final name in one step, so a crash never leaves a half-written index
that looks whole. On load every file is checked against the manifest; a mismatch means
the folder is dropped and rebuilt. A file's SHA-256 is computed on its first load and then
remembered against its size, modification time and inode (``.verified.json`` in the
folder): a launch that opens an unchanged index of 100k passages does not read every byte
of it again, and any write to a file changes what it is remembered against.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ragtui import __version__
from ragtui.content_hash import file_sha256
from ragtui.errors import IndexBuildError

MANIFEST = "manifest.json"
VERIFIED = ".verified.json"  # digests remembered against file stats; not in the manifest
FORMAT_VERSION = 1


class CacheWriteError(IndexBuildError):
    """A cache folder that could not be written (disk full, read-only, no permission)."""


class CacheCorrupt(Exception):
    """A cache folder whose files do not match its manifest (internal; triggers a rebuild)."""


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_file_atomic(path: Path, payload: bytes) -> None:
    """Write bytes to path via a temp file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@contextmanager
def building_folder(final: Path, meta: dict[str, Any]) -> Iterator[Path]:
    """Yield a scratch folder; on success, checksum it, write the manifest, swap it in."""
    scratch = final.parent / f".{final.name}.building-{uuid.uuid4().hex[:8]}"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)  # a file in the way fails here
        scratch.mkdir()
    except OSError as error:
        raise _write_error(final, error) from None
    try:
        try:
            yield scratch
        except OSError as error:
            raise _write_error(final, error) from None
        files = {
            entry.name: {"bytes": entry.stat().st_size, "sha256": _file_digest(entry)}
            for entry in sorted(scratch.iterdir())
            if entry.is_file()
        }
        manifest = {"format": FORMAT_VERSION, "ragtui": __version__, **meta, "files": files}
        try:
            write_file_atomic(scratch / MANIFEST, json.dumps(manifest, indent=1).encode())
        except OSError as error:
            raise _write_error(final, error) from None
        retired = None
        if final.exists():
            retired = final.parent / f".{final.name}.retired-{uuid.uuid4().hex[:8]}"
            try:
                os.replace(final, retired)
            except FileNotFoundError:  # another process retired it first
                retired = None
        try:
            os.replace(scratch, final)
        except OSError:
            # Another process (ragtui on the same corpus and cache) put the same build in
            # place between our check and our rename. Its folder is whole (renamed in one
            # step, manifest last) and built from the same key: keep it, drop ours.
            if not (final / MANIFEST).is_file():
                raise
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def _write_error(final: Path, error: OSError) -> CacheWriteError:
    # Nothing was swapped in: whatever the folder held before is still whole and in use.
    reason = error.strerror or str(error)
    return CacheWriteError(
        f"cannot write the cache folder {final} ({reason}); the previous cache, if any, is "
        "unchanged: free disk space or point RAGTUI_CACHE_DIR somewhere with room"
    )


def read_manifest(folder: Path, expected_meta: dict[str, Any]) -> dict[str, Any] | None:
    """The folder's manifest if it is whole and matches; None if absent; CacheCorrupt if not."""
    manifest_path = folder / MANIFEST
    if not folder.is_dir():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CacheCorrupt(f"{folder} has no manifest") from None
    except (OSError, ValueError) as error:
        raise CacheCorrupt(f"{manifest_path} is unreadable ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise CacheCorrupt(f"{manifest_path} has an unknown format")
    for key, value in expected_meta.items():
        if manifest.get(key) != value:
            raise CacheCorrupt(f"{manifest_path}: {key} is {manifest.get(key)!r}, not {value!r}")
    for name, facts in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != facts.get("bytes"):
            raise CacheCorrupt(f"{path} is missing or truncated")
        if file_sha256(path, folder / VERIFIED) != facts.get("sha256"):
            raise CacheCorrupt(f"{path} does not match its checksum")
    return manifest


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def slug(text: str) -> str:
    """A short filesystem-safe name for a model id or path, unique through a hash suffix."""
    readable = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in text)[-40:]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
