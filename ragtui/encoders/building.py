"""Run an export or distillation once per model content, in a child process, into the cache.

Layout: ``<cache>/encoders/<kind>-<model>-<content hash>/`` with a manifest written
last (``ragtui.index.store.building_folder``): a half-written export is never used, and
a damaged one is rebuilt with a warning.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ragtui.errors import ModelError
from ragtui.index.store import CacheCorrupt, building_folder, discard, read_manifest, slug

log = logging.getLogger("ragtui")

# Bumped when what the child writes changes, so older exports are rebuilt.
EXPORT_VERSION = 1
WHAT = {
    "onnx": "exporting {name} to ONNX (once)",
    "int8": "quantizing {name} to int8 (once)",
    "int8-per-tensor": "quantizing {name} to int8 (once)",
    "static": "distilling a static model from {name} (once, ~20 s)",
}


def built_model(
    kind: str,
    name: str,
    source: Path,
    source_hash: str,
    cache_root: Path,
    stage: Callable[[str], None] | None = None,
) -> Path:
    """The folder of ``kind`` made from ``source``, building it first if needed."""
    folder = cache_root / "encoders" / f"{kind}-{slug(name)}-{source_hash[:16]}"
    meta = {"kind": f"encoder-{kind}", "source_sha256": source_hash, "version": EXPORT_VERSION}
    try:
        if read_manifest(folder, meta) is not None:
            return folder
    except CacheCorrupt as problem:
        log.warning("exported model damaged (%s); building it again", problem)
        discard(folder)
    if stage is not None:
        stage(WHAT[kind].format(name=name))
    with building_folder(folder, meta) as scratch:
        done = subprocess.run(
            [sys.executable, "-m", "ragtui.encoders.export", kind, str(source), str(scratch)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ModelError(f"{WHAT[kind].format(name=name)} failed: {reason}")
    return folder
