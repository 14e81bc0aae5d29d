"""ragtui's log warnings shown as notifications while the app owns the terminal."""

from __future__ import annotations

import logging
import threading

from textual.app import App


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
