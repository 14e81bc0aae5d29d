"""The child side of ``encoder_process``: ``python -m ragtui.encoders.serve NAME CACHE_ROOT``.

Loads the encoder as the app's own process would (``get_encoder``), says so on a private
copy of stdout, then encodes each request until stdin closes. Anything a library prints
goes to stderr: the protocol stream carries nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any


class _Forward(logging.Handler):
    """The loading warnings (an export that fell back, say) go to the app, which shows them."""

    def __init__(self, send) -> None:
        super().__init__(logging.WARNING)
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        self.send({"warning": record.getMessage()})


def serve(name: str, cache_root: Path, requests: IO[bytes], answers: IO[bytes]) -> int:
    def send(message: dict[str, Any], payload: bytes = b"") -> None:
        answers.write(json.dumps(message).encode("utf-8") + b"\n" + payload)
        answers.flush()

    from ragtui.errors import RagtuiError

    logging.getLogger("ragtui").addHandler(_Forward(send))
    loaded = threading.Event()
    watcher = threading.Thread(target=_end_with_parent, args=(requests, loaded), daemon=True)
    watcher.start()
    try:
        from ragtui.encoders import get_encoder

        encoder = get_encoder(name, cache_root, lambda text: send({"stage": text}))
    except RagtuiError as error:
        send({"error": str(error)})
        return 1
    finally:
        loaded.set()  # the watcher ends within its next poll; it is not waited for
    send(
        {
            "ready": {
                "name": encoder.name,
                "identity": encoder.identity,
                "backend": encoder.backend,
                "dimension": encoder.dimension,
            }
        }
    )
    for line in requests:
        try:
            request = json.loads(line)
            vectors = encoder.encode(
                request["texts"],
                batch_size=int(request["batch_size"]),
                progress=lambda done: send({"done": done.done}),
            )
        except RagtuiError as error:
            send({"error": str(error)})
            continue
        rows, dim = vectors.shape
        send({"rows": rows, "dim": dim}, vectors.astype("float32", copy=False).tobytes())
    return 0


def _end_with_parent(requests: IO[bytes], loaded: threading.Event) -> None:
    """While the model loads (an export can take a minute), end if the app is gone: its
    end closes our stdin. No request comes before we say we are ready, so stdin readable
    during the load means it was closed."""
    while not loaded.is_set():
        readable, _, _ = select.select([requests], [], [], 0.2)
        if readable and not loaded.is_set():
            _stop_exports()
            os._exit(0)


def _stop_exports() -> None:
    building = sys.modules.get("ragtui.encoders.building")
    if building is not None:
        building.stop_exports()


def _stop(*_: object) -> None:
    """Asked to stop mid-load: end the export's own process too, then exit."""
    _stop_exports()
    sys.exit(143)


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    name, cache_root = sys.argv[1], Path(sys.argv[2])
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not reach the protocol
    return serve(name, cache_root, sys.stdin.buffer, answers)


if __name__ == "__main__":
    raise SystemExit(main())
