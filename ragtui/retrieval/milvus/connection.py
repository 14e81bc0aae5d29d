"""Reaching a Milvus server (or a Milvus Lite file) and turning its failures into one line.

The same ``pymilvus`` client talks to a Milvus Lite file, a ``milvus-lite server``,
Milvus Standalone or a Distributed cluster; only the URI differs. The token is handed to
the client and nowhere else: messages name the variable it came from, never its value.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

from ragtui.config import paths
from ragtui.config.backends import BackendSettings, shown_url
from ragtui.errors import RagtuiError

CONNECT_TIMEOUT_S = 10.0
RECONNECT_PAUSE_S = 0.5
# pymilvus pings every 10 s, idle or not. A gRPC server with the default ping policy
# (``milvus-lite server`` is one) allows a ping per 5 minutes without data and answers more
# with GOAWAY "too_many_pings", which fails the next call of a long-lived client (seen in
# the test suite on a slow machine). Ping only while calls run, as often as that allows.
GRPC_OPTIONS = {
    "grpc.keepalive_permit_without_calls": False,
    "grpc.keepalive_time_ms": 310_000,
    "grpc.keepalive_timeout_ms": 20_000,
}
LITE_FILE = "milvus-lite.db"
# Milvus answers a refused credential with this error code (merr.ErrNeedAuthenticate).
AUTH_ERROR_CODES = {1800, 1801}


class MilvusError(RagtuiError):
    """Milvus is unreachable, refuses us, or holds something other than what we need."""


def milvus_uri(backends: BackendSettings) -> str:
    """The URI in use: MILVUS_URI / [milvus] uri, else a Milvus Lite file in the data dir."""
    return backends.milvus_uri or str(paths.data_dir() / LITE_FILE)


def is_lite_file(uri: str) -> bool:
    return "://" not in uri


def shown_uri(uri: str) -> str:
    """The URI without any user:password part, fit for messages and reports."""
    return uri if is_lite_file(uri) else shown_url(uri)


def _quiet_client_logs() -> None:
    # pymilvus logs every failed call at ERROR with a traceback-like dump, and Milvus Lite
    # (in this process in file mode) logs its own failures; ragtui reports them once.
    for name in ("pymilvus", "milvus_lite", "grpc"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def explain(error: Exception, uri: str, doing: str) -> MilvusError:
    """One line naming the server and what to do, for a failure while ``doing`` something."""
    MilvusException = _pymilvus().exceptions.MilvusException

    where = f"milvus at {shown_uri(uri)}"
    message = getattr(error, "message", None) or str(error)
    code = getattr(error, "code", None)
    # pymilvus reports a refused token as "fail connecting"; the gRPC status it wraps
    # (UNAUTHENTICATED from Milvus's auth interceptor) tells the two apart.
    lowered = " ".join(str(link).lower() for link in _causes(error))
    if code in AUTH_ERROR_CODES or "unauthenticated" in lowered or "auth check" in lowered:
        return MilvusError(
            f"{where} refused the credentials while {doing}: check MILVUS_TOKEN "
            "(or the variable named by [milvus] token_env)"
        )
    if is_lite_file(uri) and "open local milvus failed" in lowered:
        # Milvus Lite locks its file: one process at a time.
        return MilvusError(
            f"Milvus Lite file {uri} is in use by another process (another ragtui?): close "
            f"it, or serve the file with `milvus-lite server --data-dir {uri}` and set "
            "MILVUS_URI=http://127.0.0.1:19530 for every ragtui"
        )
    if (isinstance(error, MilvusException) and code == 2) or "fail connecting" in lowered:
        hint = (
            "close the other ragtui or Milvus Lite process using that file, or set MILVUS_URI"
            if is_lite_file(uri)
            else "start the server, or point MILVUS_URI (or [milvus] uri) at a running one"
        )
        return MilvusError(f"{where} cannot be reached while {doing}: {hint}")
    first_line = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return MilvusError(f"{where} failed while {doing}: {first_line}")


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain and len(chain) < 10:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


_clients: dict[tuple[str, str | None], object] = {}
_clients_lock = threading.Lock()


def connect(backends: BackendSettings):  # -> pymilvus.MilvusClient
    """A client for the configured Milvus, shared per URI and token within this process."""
    uri = milvus_uri(backends)
    key = (uri, backends.milvus_token)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        MilvusClient = _pymilvus().MilvusClient

        _quiet_client_logs()  # after the import: pymilvus sets its loggers up when imported

        if is_lite_file(uri):
            Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            client = MilvusClient(
                uri=uri,
                token=backends.milvus_token or "",
                timeout=CONNECT_TIMEOUT_S,
                # ragtui owns the connection: close() really closes it, instead of leaving
                # a channel in pymilvus's process-wide registry for the next client to reuse.
                dedicated=True,
                grpc_options=GRPC_OPTIONS,
            )
            _first_round_trip(client)
        except Exception as error:
            raise explain(error, uri, "connecting") from None
        _clients[key] = client
        return client


def _pymilvus():
    """pymilvus, imported without letting it read MILVUS_URI itself.

    On import pymilvus parses MILVUS_URI as a server address and raises for anything else,
    a Milvus Lite file path included; ragtui reads that variable and hands the URI over.
    """
    import sys

    if "pymilvus" not in sys.modules:
        saved = os.environ.pop("MILVUS_URI", None)
        try:
            import pymilvus  # noqa: F401
        finally:
            if saved is not None:
                os.environ["MILVUS_URI"] = saved
    return sys.modules["pymilvus"]


def _first_round_trip(client) -> None:
    """A cheap call, so a wrong token fails here rather than mid-search.

    A channel the server has just told to go away (GOAWAY) fails its next call with
    UNAVAILABLE once and then reconnects; that one failure is retried.
    """
    try:
        client.list_collections()
    except Exception as error:
        if "unavailable" not in " ".join(str(link).lower() for link in _causes(error)):
            raise
        time.sleep(RECONNECT_PAUSE_S)
        client.list_collections()


def forget_clients() -> None:
    """Close every shared client (tests start and stop servers between cases)."""
    with _clients_lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):
                client.close()  # type: ignore[attr-defined]
        _clients.clear()
