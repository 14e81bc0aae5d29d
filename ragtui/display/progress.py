"""Human-readable progress lines for long work (used by the CLI; the TUI draws its own bar)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ragtui.encoders import EncodeProgress


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


def describe(progress: EncodeProgress) -> str:
    rate = progress.done / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
    eta = "?" if progress.eta_s is None else format_duration(progress.eta_s)
    return (
        f"{progress.action} {progress.done:,}/{progress.total:,} passages "
        f"({rate:.0f}/s, elapsed {format_duration(progress.elapsed_s)}, ETA {eta})"
    )


class ProgressPrinter:
    """Rewrites one line on a terminal; prints a line at most every few seconds elsewhere."""

    def __init__(self, stream: TextIO = sys.stderr, every_s: float = 5.0) -> None:
        self.stream = stream
        self.every_s = every_s
        self._last = 0.0
        self._live = stream.isatty()

    def __call__(self, progress: EncodeProgress) -> None:
        finished = progress.done >= progress.total
        line = describe(progress)
        if self._live:
            self.stream.write("\r" + line + ("\n" if finished else ""))
            self.stream.flush()
            return
        now = time.monotonic()
        if finished or now - self._last >= self.every_s:
            self._last = now
            self.stream.write(line + "\n")
            self.stream.flush()
