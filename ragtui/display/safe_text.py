"""Untrusted text (corpus passages, model output) made safe to put on a terminal."""

from __future__ import annotations

import json
import re

# ANSI/VT escape sequences (CSI, OSC, and two-character escapes), then any other C0/C1
# control character except newline and tab.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
# Bidi embeddings, overrides and isolates are removed too: they reorder what a terminal
# shows, so text could read differently from what it is ("Trojan Source").
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What JSON leaves raw with ensure_ascii=False but a terminal may act on, and the line and
# paragraph separators (U+2028, U+2029; U+0085 is a C1 control) that str.splitlines and
# many JSON Lines readers take for line ends.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text with escape sequences and control characters removed (newlines and tabs kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))


def json_line(record: object, *, sort_keys: bool = False) -> str:
    """One line of JSON, readable (non-ASCII kept) yet safe to print on a terminal.

    json escapes C0 controls itself; C1 controls (an 8-bit CSI is one), bidi controls and
    the Unicode line separators are escaped here. They can only occur inside strings, where
    ``\\uXXXX`` is valid JSON, so every text round-trips through a line-based reader.
    """
    text = json.dumps(record, ensure_ascii=False, sort_keys=sort_keys)
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
