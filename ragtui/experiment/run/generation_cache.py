"""Generations kept on disk, keyed by everything that determines them.

The key hashes the generator spec, the exact prompt (which holds the query, the passages
and the template), and the sampling parameters. Re-running a grid, resuming after Ctrl-C
or adding a generator therefore computes only cells whose key is new. SQLite commits
each answer as it finishes, so an interrupted run keeps everything done before the
interrupt. Failed generations are not stored: the next run tries them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from dataclasses import asdict
from pathlib import Path

from ragtui.generation import GenerationOptions, Prompt
from ragtui.pipeline import RunStats

log = logging.getLogger("ragtui")

# 2: the key names the model's identity (file hash, server digest), not just its spec.
KEY_VERSION = 2


def generation_key(
    generator: str, model_identity: str, prompt: Prompt, options: GenerationOptions
) -> str:
    material = {
        "version": KEY_VERSION,
        "generator": generator,
        "model": model_identity,
        "style": prompt.style,
        "text": prompt.text,
        "messages": list(prompt.messages or ()),
        "stop": list(prompt.stop),
        # Prompts shorten long passages; the extractive baseline reads them whole.
        "passages": list(prompt.source.passages) if prompt.source else [],
        "max_tokens": options.max_tokens,
        "temperature": options.temperature,
        "seed": options.seed,
    }
    encoded = json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


class GenerationCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_failed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS generations ("
                "key TEXT PRIMARY KEY, generator TEXT, answer TEXT, stats TEXT)"
            )
            self._db.commit()
        except (sqlite3.Error, OSError) as error:
            from ragtui.errors import RagtuiError

            reason = getattr(error, "strerror", None) or error
            raise RagtuiError(
                f"generation cache {path} cannot be used ({reason}); delete it to start "
                "afresh, or pass --cache-dir to a writable folder"
            ) from None

    def get(self, key: str) -> tuple[str, RunStats] | None:
        row = self._db.execute(
            "SELECT answer, stats FROM generations WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        try:
            stats = RunStats(**json.loads(row[1]))
        except (TypeError, ValueError):
            return None  # written by another version: generate again
        return row[0], stats

    def put(self, key: str, generator: str, answer: str, stats: RunStats) -> None:
        """Remember an answer; a failed write (disk full) warns once and the run goes on.

        The answer is already in hand, so losing the cache entry costs only a re-generation
        on a later run; stopping the grid would lose far more.
        """
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?)",
                (key, generator, answer, json.dumps(asdict(stats))),
            )
            self._db.commit()
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            if not self._write_failed:
                self._write_failed = True
                log.warning(
                    "generation cache in %s cannot be written (%s): answers are kept for "
                    "this run only; free some space to resume later runs from it",
                    self.path.parent,
                    error,
                )

    def close(self) -> None:
        self._db.close()
