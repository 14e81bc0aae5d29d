"""The key footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

try:  # private to Textual: without it, keys are made as Textual makes them
    from textual.widgets._footer import FooterKey
except ImportError:  # pragma: no cover - a Textual that moved it
    FooterKey = None  # type: ignore[assignment,misc]


class KeysFooter(Footer):
    """Textual's footer rebuilds all its keys whenever focus moves or bindings refresh,
    even when the keys shown stay the same: ~30–45 ms each on 2 cores, twice while the
    compare screen opens and again at every move between the query box and the passages,
    delaying the key presses and the loading behind it. This one rebuilds only when what
    it would show differs."""

    _shown: tuple[object, ...] | None = None

    def _keys_shown(self) -> tuple[object, ...]:
        # Bindings are frozen dataclasses: equal when every field the footer draws is.
        return (
            self.compact,
            self.show_command_palette,
            tuple(
                (key, binding, enabled, tooltip)
                for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            ),
        )

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._keys_shown() if self._bindings_ready else None
        if shown is not None and shown == self._shown:
            return
        self._shown = shown
        await super().recompose()

    def compose(self) -> ComposeResult:
        # Textual's keys start compact and are bound to the footer's (not compact) a moment
        # after they mount: two restyles of every bound key each time the footer is rebuilt
        # (8 when the compare screen opens, ~2 ms each). Made as they will be shown, none.
        for widget in super().compose():
            bound = getattr(widget, "_reactive_connect", None) or {}
            if FooterKey is not None and isinstance(widget, FooterKey) and "compact" in bound:
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget
