"""Queue files a person fills in with another tool: written whole, read back line by line.

``label queue``, ``vote queue`` and ``vote grade --out`` write one JSON object per line;
the matching imports read the edited file back, each line either an object or a problem
naming the file and line (reported, the line skipped, the others kept).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtui.display.safe_text import json_line
from ragtui.errors import RagtuiError


def write_queue_file(out: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write ``records`` to ``out`` (``--out``) whole or not at all; how many were written."""
    from ragtui.index.store import write_file_atomic

    lines = [json_line(record) + "\n" for record in records]
    try:
        write_file_atomic(out.expanduser(), "".join(lines).encode("utf-8"))
    except OSError as error:
        raise RagtuiError(f"cannot write --out {out} ({error.strerror})") from None
    return len(lines)


@dataclass(frozen=True)
class QueueLine:
    where: str  # "FILE:N", for the messages about this line
    record: dict[str, Any] | None  # None when the line is not a JSON object
    problem: str | None = None


def queue_lines(lines: Iterable[str], name: str) -> Iterator[QueueLine]:
    """Each non-blank line of an edited queue file, parsed, or what is wrong with it."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield QueueLine(where, None, f"{where}: not JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            yield QueueLine(where, None, f"{where}: not a JSON object")
            continue
        yield QueueLine(where, record)
