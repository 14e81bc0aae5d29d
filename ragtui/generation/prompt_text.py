"""Text as it is put into a prompt: on one line, cut to a length."""

from __future__ import annotations


def flatten(text: str, limit: int) -> str:
    """Whitespace runs become one space; longer than ``limit`` characters, the text is cut
    and ends in "…" (so the model sees that it was cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
