"""An embedding model served by a child process, started before the compare screen draws.

Loading the model (ONNX Runtime, the tokenizer, the session) is the slowest part of
opening the compare screen, and in a thread of the app's own process it holds the GIL
while Textual draws. A child process loads it on the other core instead: started first
thing, it is ready about when the first frame is, and the app's process never imports
ONNX Runtime. This module is imported before Textual: it must stay free of numpy and of
everything heavy.

The protocol, over the child's stdin and a private copy of its stdout:

* child → parent, one JSON object per line: ``{"stage": text}`` and ``{"warning": text}``
  while loading, then ``{"ready": {name, identity, backend, dimension}}`` or
  ``{"error": text}`` (a user-facing RagtuiError's message);
* parent → child: ``{"texts": [...], "batch_size": b}`` per line; the child answers
  ``{"done": n}`` after each batch, then ``{"rows": r, "dim": d}`` followed by r·d float32
  values (native byte order), or ``{"error": text}``.

The child ends when its stdin closes, so it never outlives the app, however the app ends.
"""

from __future__ import annotations

import atexit
import json
import logging
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from ragtui.errors import Cancelled, RagtuiError

log = logging.getLogger("ragtui")

# the lines of the child's stderr kept to explain its death
STDERR_LINES = 20


class EncoderProcessDied(RagtuiError):
    """The child ended or broke the protocol (not a user's mistake: the caller may load
    the model in its own process instead)."""


class EncoderProcess:
    """One child serving the encoder ``name``; see the module's docstring."""

    def __init__(self, name: str, cache_root: Path) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ragtui.encoders.serve", name, str(cache_root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own session: the terminal's signals (a hang-up) are the app's to handle.
            start_new_session=True,
        )
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        threading.Thread(
            target=self._drain_stderr, name="ragtui-encoder-stderr", daemon=True
        ).start()
        self.info: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)
                log.debug("encoder process %s: %s", self.name, line)

    def _died(self, what: str) -> RagtuiError:
        if self._stopped:  # ended on purpose: the app is closing, nothing to load instead
            return Cancelled(f"the embedding process for {self.name} was stopped")
        self.close()
        last = next((line for line in reversed(self._stderr) if line.strip()), "")
        reason = f": {last}" if last else ""
        return EncoderProcessDied(f"the embedding process for {self.name} {what}{reason}")

    def _read_line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise self._died("ended")
        try:
            message = json.loads(line)
        except ValueError:
            raise self._died("sent a line that is not JSON") from None
        if not isinstance(message, dict):
            raise self._died("sent a line that is not an object")
        return message

    def wait_ready(self, stage: Callable[[str], None] | None = None) -> dict[str, Any]:
        """The model's name, identity, backend and dimension, once the child has loaded it;
        its loading stages go to ``stage`` and its warnings to the log meanwhile."""
        with self._lock:
            while self.info is None:
                message = self._read_line()
                if "stage" in message:
                    if stage is not None:
                        stage(str(message["stage"]))
                elif "warning" in message:
                    log.warning("%s", message["warning"])
                elif "error" in message:
                    self.close()
                    raise RagtuiError(str(message["error"]))
                elif isinstance(message.get("ready"), dict):
                    self.info = message["ready"]
                else:
                    raise self._died("sent an unknown message")
            return self.info

    def encode(
        self,
        texts: Iterable[str],
        batch_size: int,
        done: Callable[[int], None] | None = None,
    ) -> tuple[int, int, bytes]:
        """Rows, dimension and the float32 bytes of the texts' vectors. ``done`` is told
        after each batch how many texts are encoded; if it raises (a closing app's
        Cancelled), the child is ended, since its answer will never be read."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            try:
                request = {"texts": list(texts), "batch_size": batch_size}
                stdin.write(json.dumps(request).encode("utf-8") + b"\n")
                stdin.flush()
            except OSError:
                raise self._died("ended") from None
            while True:
                message = self._read_line()
                if "done" not in message:
                    break
                if done is not None:
                    try:
                        done(int(message["done"]))
                    except BaseException:
                        self._stopped = True
                        self.close(wait_s=0.0)
                        raise
            if "error" in message:
                raise RagtuiError(str(message["error"]))
            rows, dim = int(message.get("rows", -1)), int(message.get("dim", -1))
            if rows < 0 or dim < 0:
                raise self._died("sent an answer without its shape")
            payload = _read_exactly(stdout, rows * dim * 4)
            if payload is None:
                raise self._died("ended in the middle of an answer")
            return rows, dim, payload

    def close(self, wait_s: float = 2.0) -> None:
        """End the child: closing its stdin ends its loop. One still loading (an export can
        take a minute) is asked to stop, which ends its own export process too, then killed."""
        self._stopped = True  # ended by this process: whoever still waits is told Cancelled
        if self.process.poll() is not None:
            return
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            self.process.terminate()
        try:
            self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """End a child still loading (the app is closing); who waits for it gets Cancelled."""
        if self.info is None:
            self.close(wait_s=0.0)


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_started: dict[str, EncoderProcess] = {}
_every: list[EncoderProcess] = []
_started_guard = threading.Lock()


def start_encoder_process(name: str, cache_root: Path) -> None:
    """Start loading ``name`` in a child now (once per name); ``get_encoder`` takes it."""
    with _started_guard:
        if name not in _started:
            _started[name] = EncoderProcess(name, cache_root)
            _every.append(_started[name])


def take_started(name: str) -> EncoderProcess | None:
    """The child started for ``name``, handed over once to whoever loads that encoder."""
    with _started_guard:
        return _started.pop(name, None)


def stop_loading() -> None:
    """End every child that has not finished loading (the compare screen is closing)."""
    with _started_guard:
        every = list(_every)
    for process in every:
        process.stop()


def _close_all() -> None:
    with _started_guard:
        every = list(_every)
        _every.clear()
        _started.clear()
    for process in every:
        process.close(wait_s=0.2)  # the app is exiting: a child mid-load is not waited for


atexit.register(_close_all)
