"""Run an export or distillation once per model content, in a child process, into the cache.

Layout: ``<cache>/encoders/<kind>-<model>-<content hash>/`` with a manifest written
last (``ragtui.index.store.building_folder``): a half-written export is never used, and
a damaged one is rebuilt with a warning.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ragtui.errors import Cancelled, ModelError
from ragtui.index.store import CacheCorrupt, building_folder, discard, read_manifest, slug

log = logging.getLogger("ragtui")

# Bumped when what the child writes changes, so older exports are rebuilt (2: the
# weights in a file of their own, export.WEIGHTS_FILE).
EXPORT_VERSION = 2
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
        child = subprocess.Popen(
            [sys.executable, "-m", "ragtui.encoders.export", kind, str(source), str(scratch)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        with _children_lock:
            _children.add(child)
        try:
            _, stderr = child.communicate()
        finally:
            with _children_lock:
                _children.discard(child)
                stopped = child.pid in _stopped
                _stopped.discard(child.pid)  # the pid may be reused by a later child
        if stopped:
            raise Cancelled(f"{WHAT[kind].format(name=name)} stopped: ragtui is closing")
        if child.returncode != 0:
            reason = (stderr.strip().splitlines() or ["no message"])[-1]
            raise ModelError(f"{WHAT[kind].format(name=name)} failed: {reason}")
    return folder


# Exports under way in child processes, so a closing app can end them (an export of a
# large model runs for minutes; the app must not wait for it).
_children: set[subprocess.Popen[str]] = set()
_stopped: set[int] = set()  # process ids of the children stop_exports() ended
_children_lock = threading.Lock()


def stop_exports() -> None:
    """End every export child this process started; their builds raise Cancelled and
    leave no cache."""
    with _children_lock:
        for child in _children:
            _stopped.add(child.pid)
            child.kill()
