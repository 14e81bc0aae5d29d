"""The query box: Enter runs a query; up/down walk through earlier queries.

A query put back from the last session is there to be read or re-run; typing replaces it.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input


class QueryInput(Input):
    BINDINGS = [
        Binding("up", "history(-1)", "Earlier query", show=False),
        Binding("down", "history(1)", "Later query", show=False),
    ]

    def __init__(self, history: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = list(history or [])
        self._position = len(self.history)
        self._draft = ""
        self._restored: str | None = None

    def show_restored(self, query: str) -> None:
        """Show the last session's query, selected, so that typing replaces it."""
        if self.value.strip():
            return  # the user has started typing already
        self.value = query
        self._restored = query
        self.select_all()

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable and self._restored is not None:
            if self.value == self._restored:
                self.value = ""
            self._restored = None
        await super()._on_key(event)

    def remember(self, query: str) -> None:
        if query in self.history:
            self.history.remove(query)
        self.history.append(query)
        self._position = len(self.history)

    def action_history(self, step: int) -> None:
        self._restored = None
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = (
            self._draft if self._position == len(self.history) else self.history[self._position]
        )
        self.cursor_position = len(self.value)
