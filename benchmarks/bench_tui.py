"""TUI benchmarks, each against a baseline measured in this same run.

    python benchmarks/bench_tui.py [--launches 3] [--presses 60]

0. Imports: ``import ragtui.tui.app`` against ``import textual.app`` in fresh interpreters,
   and which of ragtui/startup.py's heavy modules the compare screen loads (none, it must).
1. Launch, cached index: seconds from starting ``ragtui sample_corpus`` in tmux until the
   first frame (query box drawn: keys work), the footer, pane A ready and both panes ready
   (indexes open, the embedding model loaded: queries run at once); baseline: a minimal
   Textual app started the same way just before each launch (targets: first frame <= 2x,
   both panes ready <= 3x). The checkout's modules are compiled to bytecode first, as pip
   does when it installs ragtui (Textual's are, being installed); where
   PYTHONDONTWRITEBYTECODE is set, a source checkout would otherwise compile every module
   at every launch (``--no-compile`` measures that). Also the CPU seconds (user + system,
   every thread) each process had used by then: the work a launch does, which varies less
   between runs than the wall times on a shared machine.
2. Keypress-to-screen latency while both panes stream (two embedded models, concurrent
   mode so both really stream at once): Pilot presses j/k and waits until the app has
   processed the key and refreshed; p50/p95 against the same presses on an idle screen
   (target p95 <= 50 ms).
3. Resident memory of the app process with both embedded generators and the encoder
   loaded (target <= 1.5 GiB), against the memory of the bare Python + Textual process.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BASELINE_APP = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("minimal ready")
Minimal().run()
"""


# A tmux server of the benchmark's own, kept up by an idle session between launches: a
# server whose last session just ended may still be exiting when the next launch starts.
TMUX_SOCKET = f"ragtui-bench-{os.getpid()}"


def _tmux_server() -> None:
    alive = subprocess.run(["tmux", "-L", TMUX_SOCKET, "has-session", "-t", "keep"],
                           capture_output=True)  # fmt: skip
    if alive.returncode != 0:
        subprocess.run(["tmux", "-L", TMUX_SOCKET, "new-session", "-d", "-s", "keep",
                        "sleep 86400"], check=True)  # fmt: skip
        atexit.register(
            subprocess.run, ["tmux", "-L", TMUX_SOCKET, "kill-server"], capture_output=True
        )


def _tmux_time_to(command: str, markers: list[str], timeout_s: float = 120.0) -> list[float]:
    """Seconds until each marker first appears on a tmux screen running command."""
    return _tmux_launch(command, markers, timeout_s)[0]


def _tmux_launch(
    command: str, markers: list[str], timeout_s: float = 120.0
) -> tuple[list[float], list[float]]:
    """Seconds until each marker first appears on a tmux screen running command, and the
    CPU seconds (user + system, all threads) its processes had used by then."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    _tmux_server()
    started = time.perf_counter()
    subprocess.run(
        ["tmux", "-L", TMUX_SOCKET, "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
         f"env -u COLUMNS -u LINES {command}; sleep 30"],
        check=True,
    )  # fmt: skip
    asked = ["tmux", "-L", TMUX_SOCKET, "display-message", "-p", "-t", name, "#{pane_pid}"]
    pane_pid = int(subprocess.run(asked, capture_output=True, text=True, check=True).stdout)
    found: dict[str, float] = {}
    cpu: dict[str, float] = {}
    try:
        while len(found) < len(markers):
            screen = subprocess.run(
                ["tmux", "-L", TMUX_SOCKET, "capture-pane", "-p", "-t", name],
                capture_output=True,
                text=True,
            ).stdout
            now = time.perf_counter() - started
            for marker in markers:
                if marker not in found and marker in screen:
                    found[marker] = now
                    cpu[marker] = _tree_cpu_seconds(pane_pid)
            if now > timeout_s:
                raise SystemExit(f"timed out waiting for {markers} in:\n{screen}")
            time.sleep(0.02)
    finally:
        subprocess.run(["tmux", "-L", TMUX_SOCKET, "kill-session", "-t", name], capture_output=True)
    return [found[marker] for marker in markers], [cpu[marker] for marker in markers]


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by root's descendants (/proc, 10 ms ticks).

    Less noisy than wall time on a shared 2-core machine: it counts the work a launch does,
    not how long it waited for a core. Read when the poll first sees the marker (up to
    ~20 ms after it is drawn); a child already reaped (an export on a first launch) is not
    counted.
    """
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while being read
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
    total, frontier = 0, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                total += ticks[pid]
                frontier.append(pid)
    return total / os.sysconf("SC_CLK_TCK")


def _import_seconds(module: str, runs: int = 5) -> float:
    """Median wall time of ``import module`` in a fresh interpreter (python -X importtime)."""
    totals = []
    for _ in range(runs):
        trace = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True, text=True, check=True, cwd=REPO,
        ).stderr  # fmt: skip
        # the last line is the module itself; its cumulative column holds every import
        totals.append(int(trace.strip().splitlines()[-1].split("|")[1]) / 1e6)
    return statistics.median(totals)


def bench_imports() -> None:
    base = _import_seconds("textual.app")
    app = _import_seconds("ragtui.tui.app")
    print("imports (median of 5 fresh interpreters):")
    print(f"  textual.app                {base:6.3f} s  (baseline)")
    print(f"  ragtui.tui.app             {app:6.3f} s  ({app / base:.2f}x baseline)")
    try:
        from ragtui.startup import NOT_AT_STARTUP, loaded_at_startup
    except ImportError:  # a checkout from before the list existed, measured for comparison
        return
    loaded = loaded_at_startup("ragtui.tui.app")
    kept_off = len(NOT_AT_STARTUP) - len(loaded)
    print(
        f"  kept off the first frame   {kept_off} of {len(NOT_AT_STARTUP)} listed in "
        f"ragtui/startup.py" + (f"; LOADED: {', '.join(loaded)}" if loaded else "")
    )


def bench_launch(launches: int, compile_first: bool = True) -> None:
    if shutil.which("tmux") is None:
        print("launch: skipped (tmux not installed)")
        return
    if compile_first:
        import compileall

        compileall.compile_dir(REPO / "ragtui", quiet=1)
    python = sys.executable
    cache = os.environ.setdefault("RAGTUI_CACHE_DIR", tempfile.mkdtemp(prefix="ragtui-bench-"))
    data = tempfile.mkdtemp(prefix="ragtui-bench-data-")
    env = (
        f"RAGTUI_CACHE_DIR={cache} RAGTUI_DATA_DIR={data} HF_HUB_OFFLINE=1 TERM=xterm-256color "
        f"PYTHONPATH={REPO}"  # this checkout's ragtui, whichever one is installed
    )
    app = (
        f"env {env} {python} -m ragtui {REPO / 'sample_corpus'} "
        "--a bm25+llamacpp:gemma3 --b dense+llamacpp:gemma3"
    )
    _tmux_time_to(app, ["passages · ready"])  # warm the index cache and the OS file cache
    script = Path(data) / "minimal.py"
    script.write_text(BASELINE_APP, encoding="utf-8")
    # Each launch is paired with a minimal-app launch just before it; the ratios are taken
    # per pair (the machine's pace drifts between pairs) and their median reported.
    markers = {
        "first frame: query box drawn, keys work": "Ask a question",
        "footer with the keys drawn": "^p palette",
        "pane A (bm25) ready": "│ ready",
        "both panes ready (dense too)": "passages · ready",
    }
    baseline: list[float] = []
    baseline_cpu: list[float] = []
    seconds: dict[str, list[float]] = {name: [] for name in markers}
    ready_cpu: list[float] = []
    for _ in range(launches):
        drawn, drawn_cpu = _tmux_launch(f"{python} {script}", ["minimal ready"])
        baseline.append(drawn[0])
        baseline_cpu.append(drawn_cpu[0])
        found, used = _tmux_launch(app, list(markers.values()))
        for name, at in zip(markers, found, strict=True):
            seconds[name].append(at)
        ready_cpu.append(used[-1])
    targets = {"first frame: query box drawn, keys work": 2.0, "both panes ready (dense too)": 3.0}
    bytecode = "bytecode compiled" if compile_first else "no bytecode compiled first"
    print(f"launch (median of {launches} paired launches, cached index, tmux 120x40, {bytecode}):")
    print(f"  {'minimal Textual app drawn':40} {statistics.median(baseline):6.2f} s  (baseline)")
    for name, values in seconds.items():
        ratio = statistics.median(v / b for v, b in zip(values, baseline, strict=True))
        target = f"; target <= {targets[name]:.0f}x" if name in targets else ""
        print(f"  {name:40} {statistics.median(values):6.2f} s  ({ratio:.2f}x{target})")
    cpu_ratio = statistics.median(c / b for c, b in zip(ready_cpu, baseline_cpu, strict=True))
    print(
        f"  CPU used (user+system, all threads): minimal app drawn "
        f"{statistics.median(baseline_cpu):.2f} s, both panes ready "
        f"{statistics.median(ready_cpu):.2f} s ({cpu_ratio:.2f}x; the work done, which varies "
        "less than the wall times; no target)"
    )


async def _press_latencies(app, presses: int) -> list[float]:
    """Milliseconds from a key event posted to the passage list being drawn with its effect.

    Pilot.press adds fixed waits of its own, so the key is posted directly and the clock
    stops at the list's first ``render_line`` that draws the moved highlight.
    """
    passages = app.pane("a").passages
    original = passages.render_line
    watch: dict[str, object] = {"before": None, "drawn_at": None}

    def render_line(y: int):
        if watch["drawn_at"] is None and passages.highlighted != watch["before"]:
            watch["drawn_at"] = time.perf_counter()
        return original(y)

    passages.render_line = render_line
    latencies = []
    try:
        for number in range(presses):
            watch["before"], watch["drawn_at"] = passages.highlighted, None
            started = time.perf_counter()
            app.simulate_key("j" if number % 2 == 0 else "k")
            while watch["drawn_at"] is None:
                if time.perf_counter() > started + 5.0:
                    raise RuntimeError(
                        f"key press {number} not drawn in 5 s (focus {app.focused!r}, "
                        f"highlighted {watch['before']!r} -> {passages.highlighted!r})"
                    )
                await asyncio.sleep(0.0005)
            latencies.append((watch["drawn_at"] - started) * 1000)  # type: ignore[operator]
            await asyncio.sleep(0.02)
    finally:
        del passages.render_line
    return latencies


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _all_done(session) -> bool:
    return all(pane.run is not None and pane.run.done for pane in session.panes.values())


async def bench_keys_and_memory(presses: int, rounds_wanted: int = 3) -> None:
    import psutil

    from ragtui.tui.app import CompareOptions, make_app

    process = psutil.Process()
    bare_rss = process.memory_info().rss
    app = make_app(
        CompareOptions(
            corpus=REPO / "sample_corpus",
            spec_a="bm25+llamacpp:smollm2",
            spec_b="hybrid+llamacpp:smollm2",
            data_root=Path(tempfile.mkdtemp(prefix="ragtui-bench-data-")),
            fair=False,
            max_tokens=400,
        )
    )
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.session
        while not session.ready:
            await pilot.pause(0.1)
        # Both embedded models loaded (gemma3 as a third pane would load it), then measured.
        from ragtui.generation import make_generator

        gemma = make_generator("llamacpp:gemma3")
        for generator in (session.panes["a"].pipeline.generator, gemma):
            await asyncio.to_thread(generator.model)
        query = "Explain in detail how the HB-10 behaves during a power cut."
        app.query_one("#query").value = query
        app.query_one("#query").focus()
        await pilot.press("enter")
        await pilot.pause(0.5)
        # Idle baseline first needs a finished screen: wait for both answers, then measure.
        while not _all_done(session):
            await pilot.pause(0.1)
        idle_runs = await _press_latencies(app, presses)
        rounds: list[list[float]] = []
        for round_number in range(rounds_wanted):
            session.ask(f"{query} Give every step. ({round_number + 1})")
            # a pane has drawn this run's first words (not the last run's answer); both
            # panes' generations share the one inference thread, so they stream in turn
            while not any(
                pane.run.answer and app.pane(key).answer_text for key, pane in session.panes.items()
            ):
                await pilot.pause(0.02)
            streaming: list[float] = []
            while not _all_done(session) and len(streaming) < presses:
                streaming += await _press_latencies(app, 1)
            rounds.append(streaming)
            rss = process.memory_info().rss
            while not _all_done(session):
                await pilot.pause(0.1)
    print(f"keypress latency (key posted until the list is redrawn, j/k, {presses} max):")
    print(
        f"  idle screen            p50 {statistics.median(idle_runs):6.1f} ms  "
        f"p95 {_p95(idle_runs):6.1f} ms  (baseline)"
    )
    for number, streaming in enumerate(rounds, start=1):
        if len(streaming) < 2:
            print(f"  streaming run {number}: too short to measure ({len(streaming)} presses)")
            continue
        print(
            f"  both panes streaming, run {number}  p50 {statistics.median(streaming):6.1f} ms  "
            f"p95 {_p95(streaming):6.1f} ms  ({_p95(streaming) / _p95(idle_runs):.2f}x; "
            f"target p95 <= 50 ms; {len(streaming)} presses)"
        )
    print("resident memory:")
    print(f"  python + ragtui imports     {bare_rss / 2**20:7.0f} MiB  (baseline)")
    print(
        f"  app, encoder + smollm2 + gemma3 loaded {rss / 2**20:7.0f} MiB  "
        f"({rss / bare_rss:.1f}x; target <= 1536 MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3, help="streaming runs to measure keys in")
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--skip-keys", action="store_true", help="launch and imports only")
    parser.add_argument(
        "--no-compile", action="store_true", help="launch without compiling the bytecode first"
    )
    args = parser.parse_args()
    bench_imports()
    if not args.skip_launch:
        bench_launch(args.launches, compile_first=not args.no_compile)
    if not args.skip_keys:
        asyncio.run(bench_keys_and_memory(args.presses, args.rounds))


if __name__ == "__main__":
    main()
