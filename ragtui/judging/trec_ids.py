"""Ids as TREC columns: one whitespace-free field per id, decoded back exactly."""

from __future__ import annotations

import re

_ENCODED = re.compile(r"[%\s\x00-\x1f\x7f-\x9f]")


def trec_id(identifier: str) -> str:
    """An id as one whitespace-free TREC column (``%``, whitespace and control characters
    percent-encoded, so an id from a shared file cannot split a line or reach a terminal
    as an escape sequence)."""
    return _ENCODED.sub(lambda match: f"%{ord(match.group()):02X}", identifier)


def from_trec_id(column: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda match: chr(int(match.group(1), 16)), column)
