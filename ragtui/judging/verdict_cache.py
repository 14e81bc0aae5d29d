"""The judge's verdicts kept on disk, keyed by the judge's identity, prompt and inputs.

Re-running an eval or a calibration asks the judge only what it was never asked. SQLite
commits each verdict as it arrives, so an interrupted run keeps what was judged. A cache
that cannot be written warns once and the run goes on without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from ragtui.errors import RagtuiError

log = logging.getLogger("ragtui")
KEY_VERSION = 1


def verdict_key(material: dict[str, Any]) -> str:
    encoded = json.dumps({"version": KEY_VERSION, **material}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class VerdictCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT)"
            )
            self._db.commit()
        except (sqlite3.Error, OSError) as error:
            reason = getattr(error, "strerror", None) or error
            raise RagtuiError(
                f"judge cache {path} cannot be used ({reason}); delete it to start afresh, "
                "or pass --cache-dir to a writable folder"
            ) from None

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM verdicts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO verdicts VALUES (?, ?)", (key, json.dumps(value))
            )
            self._db.commit()
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            if not self._warned:
                self._warned = True
                log.warning(
                    "judge cache %s cannot be written (%s): verdicts are kept for this run only",
                    self.path,
                    error,
                )

    def close(self) -> None:
        self._db.close()
