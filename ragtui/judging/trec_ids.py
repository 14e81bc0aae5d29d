"""Ids as TREC columns: one whitespace-free field per id, decoded back exactly."""

from __future__ import annotations

import re


def trec_id(identifier: str) -> str:
    """An id as one whitespace-free TREC column (``%``, whitespace percent-encoded)."""
    return re.sub(r"[%\s]", lambda match: f"%{ord(match.group()):02X}", identifier)


def from_trec_id(column: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda match: chr(int(match.group(1), 16)), column)
