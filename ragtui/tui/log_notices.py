"""Notifications as plain text, and ragtui's log warnings shown as notifications."""

from __future__ import annotations

import logging
import threading
from typing import Any

from textual.app import App

from ragtui.display.safe_text import printable


class PlainNotices:
    """An App mixin: every notification is shown as plain text, never parsed as markup.

    Notices carry untrusted text (typed specs, file names, server messages); Textual
    parses a notification's text as markup by default, so ``[/]`` in a spec would crash
    the app and ``[link=…]`` would plant a link.
    """

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kwargs: Any) -> None:
        super().notify(  # type: ignore[misc]
            printable(str(message)), title=printable(str(title)), markup=False, **kwargs
        )


class NotifyHandler(logging.Handler):
    """ragtui's warnings (damaged cache, skipped files) as notifications, not stderr lines."""

    def __init__(self, app: App) -> None:
        super().__init__(logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        try:
            if self.app._thread_id == threading.get_ident():
                self.app.notify(message, severity="warning", timeout=8)
            else:
                self.app.call_from_thread(self.app.notify, message, severity="warning", timeout=8)
        except RuntimeError:
            pass  # the app has stopped
