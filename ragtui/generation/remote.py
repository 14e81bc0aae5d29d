"""What the server backends (Ollama, OpenAI-compatible) share: host facts and fair-mode marks."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import httpx

from ragtui.generation.base import Prompt

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
# Statuses that mean "not now" rather than "no" (rate limit, overloaded, gateway): retried,
# but only before any text arrived, so a retry can never duplicate part of an answer.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_ATTEMPTS = 3
RETRY_BACKOFF_S = (1.0, 3.0)
RETRY_AFTER_MAX_S = 10.0


# Failures of the connection itself, as httpx (and the ollama client) raise them.
TRANSPORT_ERRORS = (
    ConnectionError,
    httpx.ConnectError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
    httpx.ReadError,
)


def transport_failure(error: Exception, timeout_s: float, start_hint: str) -> tuple[str, bool]:
    """What a connection failure means to the user, and whether the answer so far stands."""
    if isinstance(error, ConnectionError | httpx.ConnectError):
        return f"cannot connect ({error}); {start_hint}", False
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {timeout_s:g} s (timeout)", True
    return f"the stream was cut mid-answer ({error})", True


def retry_delay(retry_after: str | None, attempt: int) -> float:
    """The server's Retry-After seconds (capped), else back-off by attempt (1 = the first)."""
    try:
        return min(max(float(retry_after or ""), 0.0), RETRY_AFTER_MAX_S)
    except ValueError:
        return RETRY_BACKOFF_S[min(attempt - 1, len(RETRY_BACKOFF_S) - 1)]


def is_local_url(url: str) -> bool:
    """Whether a server at url shares this machine's CPU with embedded models."""
    host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    return host in LOCAL_HOSTS or host.startswith("127.")


def chat_messages(prompt: Prompt, fair: bool) -> list[dict[str, str]]:
    """Chat messages for a server; in fair mode the first one starts with a unique mark.

    A server offers no switch to turn off its prompt (prefix) cache, so a mark that differs
    on every request makes the cached prefix empty and every timed request cold.
    """
    if prompt.style == "chat":
        messages = [dict(message) for message in prompt.messages]
    else:
        messages = [{"role": "user", "content": prompt.text}]
    if fair and messages:
        messages[0]["content"] = f"(request {uuid.uuid4().hex[:8]})\n{messages[0]['content']}"
    return messages
