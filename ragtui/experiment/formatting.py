"""Small text helpers shared by the report writers and the verdict sentences."""

from __future__ import annotations


def signed(value: float | None, digits: int = 3) -> str:
    """``+0.012`` / ``−0.004`` with a real minus sign; ``–`` for no value."""
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]
