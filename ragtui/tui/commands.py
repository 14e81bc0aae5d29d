"""The compare screen's entries in the command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from textual.app import SystemCommand

from ragtui.compare.session import PANES
from ragtui.tui.themes import ThemeFile


class CompareActions(Protocol):
    """What the palette calls on the compare app (a protocol, so this module needs no app)."""

    themes: Mapping[str, ThemeFile]

    def run_worker(self, work: Awaitable[Any]) -> Any: ...
    def action_swap(self, component: str, key: str | None = None) -> Awaitable[None]: ...
    def apply_theme(self, theme: ThemeFile) -> None: ...

    action_pick_query: Callable[[], Any]
    action_rerun: Callable[[], Any]
    action_toggle_timing: Callable[[], Any]
    action_results: Callable[[], Any]


def compare_commands(app: CompareActions) -> Iterable[SystemCommand]:
    for key in PANES:
        for component in ("retriever", "generator"):
            yield SystemCommand(
                f"Pane {key.upper()}: change {component}",
                f"Pick another {component} for pane {key.upper()} and re-run it",
                lambda key=key, component=component: app.run_worker(
                    app.action_swap(component, key)
                ),
            )
    yield SystemCommand(
        "Pick a dataset query", "Walk the corpus's own queries", app.action_pick_query
    )
    yield SystemCommand("Re-run the last query", "Run both panes again", app.action_rerun)
    yield SystemCommand(
        "Toggle fair/concurrent timing",
        "How the two generations share the CPU",
        app.action_toggle_timing,
    )
    yield SystemCommand("Show vote results", "Win rates per pipeline pair", app.action_results)
    for name in sorted(app.themes):
        yield SystemCommand(
            f"Theme: {name}",
            f"Switch to the {name} theme",
            lambda name=name: app.apply_theme(app.themes[name]),
        )
