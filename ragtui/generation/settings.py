"""Where the server backends live and how long to wait for them."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


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
    openai_api_key: str | None = None
    timeout_s: float = 120.0

    @classmethod
    def from_env(cls, **overrides: object) -> BackendSettings:
        """Environment first (OLLAMA_HOST, OPENAI_BASE_URL, OPENAI_API_KEY), then overrides."""
        values: dict[str, object] = {
            "ollama_host": _ollama_host_from_env(),
            "openai_base_url": os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL,
            "openai_api_key": os.environ.get("OPENAI_API_KEY") or None,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
