"""End to end in a real terminal: tmux runs ``ragtui`` as a person would and we read the screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CORPUS

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)


def tmux(name: str) -> list[str]:
    """tmux on a server of the test's own: when one test's last session ends, its server
    exits, and a shared server shutting down makes the next test's new-session fail
    ("server exited unexpectedly")."""
    return ["tmux", "-L", name]


class Terminal:
    def __init__(
        self, command: list[str], env: dict[str, str], size: tuple[int, int], shell: str = ""
    ) -> None:
        """``shell``: a command for the shell to run first (e.g. ``trap '' HUP;``)."""
        self.name = f"ragtui-{uuid.uuid4().hex[:8]}"
        width, height = size
        environment = " ".join(f"{key}={value}" for key, value in env.items())
        subprocess.run(
            [*tmux(self.name), "new-session", "-d", "-s", self.name,
             "-x", str(width), "-y", str(height),
             # COLUMNS/LINES inherited from the test runner would override the real size.
             f"{shell} env -u COLUMNS -u LINES {environment} {' '.join(command)}; sleep 30"],
            check=True,
        )  # fmt: skip
        # Detached sessions may keep tmux's default 80x24; fix the size explicitly.
        for option in (["window-size", "manual"],):
            subprocess.run(
                [*tmux(self.name), "set-option", "-t", self.name, *option], capture_output=True
            )
        subprocess.run(
            [
                *tmux(self.name),
                "resize-window",
                "-t",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
            ],
            capture_output=True,
        )

    def screen(self) -> str:
        result = subprocess.run(
            [*tmux(self.name), "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
        )
        return result.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(
            [*tmux(self.name), "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys],
            check=True,
        )

    def wait_for(self, predicate, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([*tmux(self.name), "kill-server"], capture_output=True)


def test_query_answers_label_and_quit_in_tmux(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "RAGTUI_DATA_DIR": str(data),
        "RAGTUI_CACHE_DIR": os.environ["RAGTUI_CACHE_DIR"],
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }
    command = [
        sys.executable, "-m", "ragtui", str(SAMPLE_CORPUS),
        "--a", "bm25+extractive", "--b", "hybrid+extractive",
    ]  # fmt: skip
    terminal = Terminal(command, env, (120, 40))
    try:
        terminal.wait_for(lambda screen: "passages · ready" in screen, 120)
        terminal.keys("How heavy is the HB-15?", literal=True)
        terminal.keys("Enter")
        screen = terminal.wait_for(lambda screen: screen.count("fair timing") >= 3)
        assert screen.count("retrieval") >= 2 and screen.count("tokens") >= 2
        assert "hb15-model.md" in screen
        assert screen.count("done · stop") == 2  # both answers finished
        terminal.keys("3")
        terminal.wait_for(lambda screen: "3 ●●●" in screen, 20)
        (tmp_path / "screen.txt").write_text(terminal.screen(), encoding="utf-8")
        terminal.keys("q")
        terminal.wait_for(lambda screen: "ready" not in screen, 20)
    finally:
        terminal.close()
    labels_files = list(data.glob("corpora/*/labels.jsonl"))
    assert len(labels_files) == 1
    records = [json.loads(line) for line in labels_files[0].read_text().splitlines()]
    assert [record["grade"] for record in records] == [3]
    assert records[0]["query"] == "How heavy is the HB-15?"


def _ragtui_pids(marker: str) -> list[int]:
    """The app's own process (not make's shell, whose command line names it too)."""
    pattern = f"^{sys.executable} -m ragtui .*{marker}"
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _assert_ended(marker: str) -> None:
    """The app's process is gone; if not, say what each of its threads was doing (a run
    on a loaded CI machine once failed here and passed in every re-run), then kill it."""
    left = _ragtui_pids(marker)
    states = [_thread_states(pid) for pid in left]
    for pid in left:  # do not leave a spinning process behind if the test fails
        os.kill(pid, 9)
    assert not left, f"ragtui kept running after its terminal was closed: {states}"


def _thread_states(pid: int) -> list[str]:
    """Each thread's name, state (R running, S sleeping, …) and kernel wait channel."""
    found = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            name = (task / "comm").read_text().strip()
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = (task / "wchan").read_text().strip()
        except OSError:
            continue
        found.append(f"{task.name} {name} {state} {wchan}")
    return found


def test_closing_the_terminal_ends_the_app_under_make(tmp_path: Path) -> None:
    """`make demo` in a terminal that is then closed. make is the terminal's controlling
    process: it gets the hang-up, waits for its child, and the child is sent nothing, so
    the app itself must notice that its terminal is gone, save and exit."""
    if shutil.which("make") is None or shutil.which("pgrep") is None:
        pytest.skip("make or pgrep is not installed")
    data = tmp_path / "data"
    marker = f"ragtui-hangup-{uuid.uuid4().hex[:8]}"
    makefile = tmp_path / "Makefile"
    makefile.write_text(
        f"export RAGTUI_DATA_DIR = {data}\n"
        "export HF_HUB_OFFLINE = 1\n"
        "export TERM = xterm-256color\n"
        "unexport COLUMNS LINES\n"
        f"demo:\n\t{sys.executable} -m ragtui {SAMPLE_CORPUS} --a bm25+extractive "
        f"--b bm25+extractive --cache-dir {tmp_path / marker}\n",
        encoding="utf-8",
    )
    name = f"ragtui-{uuid.uuid4().hex[:8]}"
    # make itself is the command tmux runs: no shell stands between it and the terminal.
    subprocess.run(
        [*tmux(name), "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
         f"make -f {makefile} demo"],
        check=True,
    )  # fmt: skip
    terminal = Terminal.__new__(Terminal)
    terminal.name = name
    try:
        terminal.wait_for(lambda screen: "passages · ready" in screen, 120)
        terminal.keys("How heavy is the HB-15?", literal=True)
        terminal.keys("Enter")
        terminal.wait_for(lambda screen: screen.count("done · stop") == 2)
        assert _ragtui_pids(marker), "the app's process should be running"
    finally:
        terminal.close()  # the terminal goes away, as when its window is closed
    deadline = time.monotonic() + 15
    while _ragtui_pids(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    _assert_ended(marker)
    runs = list(data.glob("corpora/*/runs.jsonl"))
    assert len(runs) == 1
    assert len([json.loads(line) for line in runs[0].read_text().splitlines()]) == 2


@pytest.mark.parametrize(
    ("quitting", "shell"),
    [(False, ""), (True, ""), (True, "trap '' HUP;")],
    ids=["running", "while-quitting", "while-quitting-hup-ignored"],
)
def test_closing_the_terminal_under_a_shell_ends_the_app(
    tmp_path: Path, quitting: bool, shell: str
) -> None:
    """Under a shell the hang-up reaches the app with SIGCONT, on which Textual restarts its
    input thread; the process must still end (it once stayed, spinning on the dead tty,
    when the terminal closed just as the app was quitting). With SIGHUP ignored (nohup, a
    CI runner) the app saw its output fail instead: Textual's output thread died, and
    quitting waited for ever on its full queue."""
    if shutil.which("pgrep") is None:
        pytest.skip("pgrep is not installed")
    marker = f"ragtui-hangup-{uuid.uuid4().hex[:8]}"
    env = {
        "RAGTUI_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }
    command = [
        sys.executable, "-m", "ragtui", str(SAMPLE_CORPUS),
        "--a", "bm25+extractive", "--b", "bm25+extractive", "--cache-dir", str(tmp_path / marker),
    ]  # fmt: skip
    terminal = Terminal(command, env, (120, 40), shell)
    try:
        terminal.wait_for(lambda screen: "passages · ready" in screen, 120)
        assert _ragtui_pids(marker)
        if quitting:
            terminal.keys("Escape")
            time.sleep(0.3)
            terminal.keys("q")
    finally:
        terminal.close()
    deadline = time.monotonic() + 15
    while _ragtui_pids(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    _assert_ended(marker)
