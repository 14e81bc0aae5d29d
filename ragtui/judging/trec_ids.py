"""Ids as TREC columns: one whitespace-free field per id, decoded back exactly."""

from __future__ import annotations

import re

_ENCODED = re.compile(r"[%\s\x00-\x1f\x7f-\x9f]")
_ESCAPES = re.compile(r"(?:%[0-9A-F]{2})+")


def trec_id(identifier: str) -> str:
    """An id as one whitespace-free TREC column (``%``, whitespace and control characters
    percent-encoded as their UTF-8 bytes, so an id from a shared file cannot split a line
    or reach a terminal as an escape sequence)."""
    return _ENCODED.sub(
        lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8")),
        identifier,
    )


def _decoded(run: str) -> str:
    raw = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Files written before the encoding was UTF-8 hold one %XX per character below
        # U+0100 (e.g. %A0 for a no-break space).
        return raw.decode("latin-1")


def from_trec_id(column: str) -> str:
    return _ESCAPES.sub(lambda match: _decoded(match.group()), column)
