"""How far each automatic source agrees with the person, as the report and the terminal
show it beside the figures that rest on it: a labeller's grades (results.json's
``labeller_agreement``, from ``ragtui.judging.labeller_agreement``)."""

from __future__ import annotations

from typing import Any


def labeller_agreement_lines(results: dict[str, Any]) -> list[str]:
    """One line per labeller whose grades the retrieval figures use ("labeller X: agrees
    with your grades κ … (n = …)", or "not checked against your labels")."""
    return [
        f"Retrieval figures rest partly on a labeller model; {entry['sentence']}."
        for entry in results.get("labeller_agreement") or []
        if isinstance(entry, dict) and entry.get("sentence")
    ]
