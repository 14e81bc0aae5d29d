"""End the app cleanly when its terminal goes away, whatever process started it.

A closed terminal (a killed tmux session, a closed window) sends SIGHUP only to the
terminal's controlling process; under ``make`` or a shell script that is not ragtui, and
Textual's input thread then reads end-of-file from the dead terminal in a busy loop. So
the app handles SIGHUP itself and also checks, once a second, that its terminal still
answers; either way it exits normally, closing the session (judgments on disk first).

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

from textual.app import App

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
