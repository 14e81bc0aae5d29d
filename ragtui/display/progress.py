"""Progress of long work for the CLI (the TUI draws its own bar).

On a terminal: a rich progress bar per action with count, rate, elapsed time and an ETA
over the work still to do (cached work is taken off the total, not counted as done).
Elsewhere (a pipe, a log file, CI): a plain line every few seconds, with no control
characters.
"""

from __future__ import annotations

import atexit
import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ragtui.progress import WorkProgress


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


def _rate(progress: WorkProgress) -> float:
    return progress.done / progress.elapsed_s if progress.elapsed_s > 0 else 0.0


def _eta(progress: WorkProgress) -> str:
    return "?" if progress.eta_s is None else format_duration(progress.eta_s)


def _rate_text(progress: WorkProgress) -> str:
    rate = _rate(progress)
    return f"{rate:.1f}" if rate < 10 else f"{rate:,.0f}"


def describe(progress: WorkProgress) -> str:
    note = f", {progress.note}" if progress.note else ""
    return (
        f"{progress.action} {progress.done:,}/{progress.total:,} {progress.unit}{note} "
        f"({_rate_text(progress)}/s, elapsed {format_duration(progress.elapsed_s)}, "
        f"ETA {_eta(progress)})"
    )


class _Bars:
    """rich.progress bars, refreshed only when progress arrives (no refresh thread)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}", markup=False),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("elapsed {task.fields[elapsed]}"),
            TextColumn("ETA {task.fields[eta]}"),
            console=Console(file=stream, highlight=False),
            auto_refresh=False,
        )
        self.tasks: dict[str, int] = {}
        self.ended: dict[str, int] = {}  # action → total of its last finished report
        self.started = False

    def show(self, progress: WorkProgress) -> None:
        finished = progress.done >= progress.total
        if finished and self.ended.get(progress.action) == progress.total:
            return  # the same end reported twice
        self.ended.pop(progress.action, None)
        fields = {
            "unit": f"{progress.unit}, {progress.note}" if progress.note else progress.unit,
            "rate": _rate_text(progress),
            "elapsed": format_duration(progress.elapsed_s),
            "eta": _eta(progress),
        }
        if not self.started:
            self.progress.start()
            self.started = True
        task = self.tasks.get(progress.action)
        if task is None:
            # The description is ragtui's own text (an action name), never corpus text.
            task = self.progress.add_task(progress.action, total=progress.total, **fields)
            self.tasks[progress.action] = task
        self.progress.update(task, completed=progress.done, total=progress.total, **fields)
        self.progress.refresh()
        if finished:
            self.ended[progress.action] = progress.total
        if all(task.finished for task in self.progress.tasks):
            self.stop()

    def stop(self) -> None:
        if self.started:
            self.progress.stop()  # shows the cursor again and ends the line
            self.started = False
            for task in list(self.progress.task_ids):
                self.progress.remove_task(task)
            self.tasks.clear()


class ProgressPrinter:
    """Takes WorkProgress reports: bars on a terminal, a plain line every few seconds
    elsewhere (and always the last one)."""

    def __init__(
        self, stream: TextIO | None = None, every_s: float = 5.0, live: bool | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._ended: dict[str, int] = {}
        self._live = self.stream.isatty() if live is None else live
        self._bars: _Bars | None = None

    def __call__(self, progress: WorkProgress) -> None:
        if self._live:
            if self._bars is None:
                self._bars = _Bars(self.stream)
                atexit.register(self.close)  # an interrupted run still gets its cursor back
            self._bars.show(progress)
            return
        finished = progress.done >= progress.total
        if finished and self._ended.get(progress.action) == progress.total:
            return  # the same end reported twice
        self._ended.pop(progress.action, None)
        if finished:
            self._ended[progress.action] = progress.total
        now = time.monotonic()
        if finished or now - self._last.get(progress.action, 0.0) >= self.every_s:
            self._last[progress.action] = now
            self.stream.write(describe(progress) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
