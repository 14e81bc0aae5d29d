"""What the server backends (Ollama, OpenAI-compatible) share: host facts and fair-mode marks."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

from ragtui.generation.base import Prompt

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


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
