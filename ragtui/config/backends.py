"""Where the server backends live, how long to wait for them, and their credentials.

Credentials (the OpenAI key, the Milvus token) are kept out of ``repr`` so that a logged
or printed settings value never shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def without_credentials(text: str, url: str) -> str:
    """text with the ``user:password@`` part of url taken out wherever it appears.

    Server URLs may carry credentials (``https://user:key@gateway/v1``); messages, records
    and reports name the server by its URL with them removed.
    """
    userinfo = urlsplit(url if "://" in url else f"//{url}").netloc.rpartition("@")[0]
    if not userinfo:
        return text
    text = text.replace(f"{userinfo}@", "")
    for secret in {userinfo, *userinfo.split(":")}:
        if len(secret) >= 4:  # short fragments would blank out ordinary words
            text = text.replace(secret, "***")
    return text


def shown_url(url: str) -> str:
    """url without its credentials, fit for messages, records and reports."""
    return without_credentials(url, url)


def _ollama_host_from_env() -> str:
    """OLLAMA_HOST as Ollama's own tools read it: a bare host, host:port, or a URL."""
    value = os.environ.get("OLLAMA_HOST", "").strip()
    if not value:
        return DEFAULT_OLLAMA_HOST
    if "://" not in value:
        value = f"http://{value}"
    scheme, rest = value.split("://", 1)
    host = rest.split("/", 1)[0]
    if ":" not in host.rsplit("]", 1)[-1]:
        host = f"{host}:11434"
    if host.startswith("0.0.0.0"):
        host = "127.0.0.1" + host[len("0.0.0.0") :]
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class BackendSettings:
    ollama_host: str = DEFAULT_OLLAMA_HOST
    openai_base_url: str = DEFAULT_OPENAI_BASE_URL
    openai_api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 120.0
    # None: a Milvus Lite file in ragtui's data directory, so `milvus` works with no server.
    milvus_uri: str | None = None
    milvus_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, **overrides: object) -> BackendSettings:
        """Environment first (OLLAMA_HOST, OPENAI_*, MILVUS_URI, MILVUS_TOKEN), then overrides."""
        values: dict[str, object] = {
            "ollama_host": _ollama_host_from_env(),
            "openai_base_url": os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL,
            "openai_api_key": os.environ.get("OPENAI_API_KEY") or None,
            "milvus_uri": os.environ.get("MILVUS_URI") or None,
            "milvus_token": os.environ.get("MILVUS_TOKEN") or None,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
