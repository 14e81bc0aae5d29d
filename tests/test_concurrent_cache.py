"""Two ragtui processes on the same corpus and cache at once corrupt nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ragtui.index import store
from ragtui.index.store import MANIFEST, building_folder, read_manifest
from tests.conftest import SAMPLE_CORPUS


def test_a_build_finished_by_another_process_first_is_kept(tmp_path: Path, monkeypatch) -> None:
    """The other process's rename lands between our existence check and our rename."""
    final = tmp_path / "index"
    meta = {"kind": "test"}
    real_replace = os.replace
    raced: list[bool] = []

    def replace(source, target):
        if Path(target) == final and not final.exists() and not raced:
            raced.append(True)
            with building_folder(final, meta) as theirs:  # the other process, just in time
                (theirs / "data.bin").write_bytes(b"theirs")
        return real_replace(source, target)

    monkeypatch.setattr(store.os, "replace", replace)
    with building_folder(final, meta) as ours:
        (ours / "data.bin").write_bytes(b"ours")
    monkeypatch.setattr(store.os, "replace", real_replace)
    assert raced
    assert read_manifest(final, meta) is not None  # whole, checksums match
    assert (final / "data.bin").read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]  # no scratch left


def test_two_processes_index_the_same_corpus_together(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    command = [
        *(sys.executable, "-m", "ragtui", "index", str(SAMPLE_CORPUS)),
        *("--retrievers", "bm25", "--cache-dir", str(cache)),
    ]
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outcomes = [child.communicate(timeout=300) for child in children]
    for child, (_out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err
        assert "Traceback" not in err
    manifests = list(cache.rglob(MANIFEST))
    assert manifests
    for manifest in manifests:
        assert read_manifest(manifest.parent, {}) is not None
    leftovers = [p for p in cache.rglob(".*") if ".building-" in p.name or ".retired-" in p.name]
    assert leftovers == []
    # a later run opens everything from the cache without a rebuild or a warning
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "damaged" not in again.stderr
