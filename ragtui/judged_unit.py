"""What a relevance judgment names: a document (BEIR qrels, and sets generated from a BEIR
corpus) or a passage (labels made in the app, and sets generated from a folder)."""

from __future__ import annotations

from ragtui.errors import RagtuiError

UNITS = ("document", "passage")


def id_in_unit(doc_id: str, passage_id: str, unit: str) -> str:
    """The id a judgment in ``unit`` names, for a hit, a passage or a stored record."""
    if unit == "document":
        return doc_id
    if unit == "passage":
        return passage_id
    raise RagtuiError(f"judged unit {unit!r}: use one of {', '.join(UNITS)}")
