"""Small text helpers shared by the report writers and the verdict sentences."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def signed(value: float | None, digits: int = 3) -> str:
    """``+0.012`` / ``−0.004`` with a real minus sign; ``–`` for no value."""
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def dataset_title(dataset: dict[str, Any]) -> str:
    """The corpus as a shared report names it: its folder's name and content hash."""
    name = dataset.get("name") or Path(dataset["path"]).name
    digest = dataset.get("content_sha256")
    return f"`{name}` (content sha256 {digest[:12]})" if digest else f"`{name}`"


def shareable(text: str, dataset: dict[str, Any]) -> str:
    """Text for a report meant to be shared: the corpus folder is named by its name and
    the home folder written as ~ (results.json keeps the full paths)."""
    root = str(dataset["path"])
    text = text.replace(root, dataset.get("name") or Path(root).name)
    home = str(Path.home())
    return text.replace(home, "~") if len(home) > 1 else text
