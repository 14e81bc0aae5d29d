"""End the app cleanly when its terminal goes away, whatever process started it.

A closed terminal (a killed tmux session, a closed window) sends SIGHUP only to the
terminal's controlling process; under ``make`` or a shell script that is not ragtui, and
Textual's input thread then reads end-of-file from the dead terminal in a busy loop. So
the app handles SIGHUP itself and also checks, once a second, that its terminal still
answers; either way it exits normally, closing the session (judgments on disk first).

A terminal that goes away while the app is quitting must not hang it either: Textual's
output thread dies on the first write that fails (EIO from a hung-up terminal), its queue
fills, and the driver's close then waits on that queue for ever, on the event loop's
thread. ``HangupSafe`` gives the driver an output that drops writes once the terminal is
gone (seen: a CI run with SIGHUP ignored, the app asleep on the queue after its
terminal closed during quitting).

After such an exit the process must still end: the hang-up comes with SIGCONT, on which
Textual restarts its input thread, and that thread then spins on the dead terminal and
keeps the interpreter from exiting. ``terminal_lost()`` tells the caller to end the
process outright once the app has returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import sys
import termios
import threading
from typing import IO, Any

from textual.app import App
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

_lost = threading.Event()


def terminal_lost() -> bool:
    """True once the app has exited because its terminal went away."""
    return _lost.is_set()


def must_end_at_once() -> bool:
    """Call once the app has returned: True when the process should end outright.

    Textual's SIGCONT handler stays installed after the app exits and restarts its input
    thread, which spins on a dead terminal and keeps the interpreter alive; the handlers
    go back to the defaults here. A terminal that went away while the app was quitting
    (the watch had already stopped) is caught by asking the terminal once more.
    """
    for number in (signal.SIGCONT, signal.SIGTSTP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(number, signal.SIG_DFL)
    if terminal_lost():
        return True
    stdin = sys.__stdin__
    if stdin is None:
        return False
    try:
        termios.tcgetattr(stdin.fileno())
    except termios.error as error:
        # ENOTTY: never a terminal (a pipe, a test). Anything else (EIO): it hung up.
        return bool(error.args) and error.args[0] != errno.ENOTTY
    except (OSError, ValueError):
        return False  # stdin closed or detached: nothing to spin on
    return False


def end_with_terminal(app: App, interval_s: float = 1.0) -> None:
    stdin = sys.__stdin__
    if stdin is None or not stdin.isatty():
        return  # headless (tests, pipes): there is no terminal to lose
    descriptor = stdin.fileno()

    def lost() -> None:
        _lost.set()
        app.exit()

    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lost)

    def check() -> None:
        try:
            termios.tcgetattr(descriptor)
        except (termios.error, OSError):
            lost()

    app.set_interval(interval_s, check, name="terminal-watch")


class _TerminalOutput:
    """The driver's output file, which stops writing once a write fails (the terminal hung
    up) instead of raising in Textual's output thread."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.gone = False

    def write(self, text: str) -> None:
        if not self.gone:
            self._attempt(self._file.write, text)

    def flush(self) -> None:
        if not self.gone:
            self._attempt(self._file.flush)

    def _attempt(self, call: Any, *args: str) -> None:
        try:
            call(*args)
        except (OSError, ValueError):  # EIO, EPIPE; ValueError: the file was closed
            self.gone = True
            _lost.set()  # the process ends outright once the app returns

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()


class _HangupSafeDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = _TerminalOutput(self._file)  # type: ignore[assignment,arg-type]


class HangupSafe:
    """An App mixin: Textual's terminal driver, with an output that survives a hang-up."""

    def get_driver_class(self) -> type[Driver]:
        driver: type[Driver] = super().get_driver_class()  # type: ignore[misc]
        return _HangupSafeDriver if driver is LinuxDriver else driver
