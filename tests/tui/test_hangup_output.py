"""Textual's output thread writing to a terminal that has hung up."""

import errno
import threading

import pytest
from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

import ragtui.tui.hangup as hangup


class HungUpTerminal:
    """A stand-in for a hung-up tty (every write fails with EIO, as the kernel's does); a
    real hang-up is tested end to end in tests/e2e/test_tmux.py, where it is a race."""

    def write(self, text: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    def flush(self) -> None:
        raise OSError(errno.EIO, "Input/output error")

    def fileno(self) -> int:
        return 2

    def isatty(self) -> bool:
        return True


def _stops(file, timeout_s: float) -> bool:
    """Whether stopping the writer after many writes returns (Textual's close does this on
    the event loop's thread: blocking there hangs the app)."""
    writer = WriterThread(file)
    writer.start()

    def quit_app() -> None:
        for _ in range(MAX_QUEUED_WRITES * 3):
            writer.write("\x1b[?25h")
        writer.stop()

    quitting = threading.Thread(target=quit_app, daemon=True)
    quitting.start()
    quitting.join(timeout=timeout_s)
    return not quitting.is_alive()


# The writer thread of Textual's own output dies of the EIO: expected here, not a failure.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_hung_up_terminal_does_not_hang_the_app_on_its_way_out(monkeypatch) -> None:
    monkeypatch.setattr(hangup, "_lost", threading.Event())
    assert not _stops(HungUpTerminal(), 2)  # Textual's own: its thread died, stop waits on
    output = hangup._TerminalOutput(HungUpTerminal())  # type: ignore[arg-type]
    assert _stops(output, 30)
    assert output.gone and hangup.terminal_lost()  # the process then ends at once


def test_the_compare_app_uses_the_hangup_safe_output() -> None:
    from textual.drivers.linux_driver import LinuxDriver

    from ragtui.tui.app import CompareApp

    driver = CompareApp.get_driver_class(object.__new__(CompareApp))
    assert issubclass(driver, LinuxDriver) and driver is not LinuxDriver
