"""The generator interface: a prompt in, an async stream of text deltas and one final record.

Every backend measures its own timing where the work happens (monotonic clock) and says
whether its token counts are exact or estimated, so no front end ever re-measures.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ragtui.config.specs import GeneratorSpec
from ragtui.errors import RagtuiError

PromptStyle = Literal["chat", "completion"]


class GenerationError(RagtuiError):
    """A backend failed; ``partial`` keeps whatever text had arrived before the failure."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


@dataclass(frozen=True)
class PromptSource:
    """The query and numbered passages a prompt was rendered from."""

    query: str
    passages: tuple[str, ...]


@dataclass(frozen=True)
class Prompt:
    """What a generator is asked: chat messages, or one completion text, plus stop strings."""

    style: PromptStyle
    messages: tuple[dict[str, str], ...] = ()
    text: str = ""
    stop: tuple[str, ...] = ()
    # Kept for generators that work on the query and passages directly (the extractive
    # baseline) rather than on rendered text.
    source: PromptSource | None = None

    def flat_text(self) -> str:
        """The prompt as one string, for estimates and for backends without chat."""
        if self.style == "completion":
            return self.text
        return "\n\n".join(message["content"] for message in self.messages)


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    # Fair mode: no reuse of an earlier prompt's work (llama.cpp prefix cache, server caches).
    fair: bool = True
    # A server that never ends its answer is stopped after this long (partial answer kept).
    max_time_s: float = 600.0


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool


@dataclass(frozen=True)
class GenerationDone:
    """The final record of one generation; times in ms from the request."""

    usage: Usage
    ttft_ms: float | None
    total_ms: float
    decode_tokens_per_s: float | None
    finish_reason: str = "stop"
    details: dict[str, object] = field(default_factory=dict)
    # Requests the server refused (HTTP 429, 502, 503 or 504, before any answer) and that
    # were sent again: more requests than answers, though the refused ones generated no tokens.
    http_retries: int = 0


@dataclass(frozen=True)
class Retrying:
    """A request failed in a way that is safe to repeat (nothing was answered yet)."""

    reason: str  # "HTTP 503: overloaded"
    delay_s: float
    attempt: int  # the attempt about to start, from 2
    attempts: int

    def describe(self) -> str:
        return (
            f"{self.reason}; retrying in {self.delay_s:.1f} s "
            f"(attempt {self.attempt} of {self.attempts})"
        )


GenerationEvent = TextDelta | GenerationDone | Retrying


class Generator(Protocol):
    spec: GeneratorSpec
    runs_locally: bool  # competes for this machine's CPU (decides fair scheduling)
    in_process: bool  # runs inside this process (llama.cpp, extractive): one answer at a time
    prompt_style: PromptStyle

    def stream(self, prompt: Prompt, options: GenerationOptions) -> AsyncIterator[GenerationEvent]:
        """Text deltas, then exactly one GenerationDone; raises GenerationError on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections (models stay loaded for reuse within the process)."""
        ...

    async def identity(self) -> str:
        """What exactly answers: a model file's hash, a server's digest for the model.

        Part of every generation cache key, so a replaced GGUF file or a re-pulled
        Ollama tag is never served the old model's answers. Never holds a secret.
        """
        ...


def estimate_tokens(text: str) -> int:
    """Documented fallback when a backend reports no usage: one token per 4 characters.

    OpenAI's rule of thumb for English text with BPE tokenizers; always flagged as an
    estimate wherever it is shown.
    """
    return math.ceil(len(text) / 4) if text else 0


class StreamClock:
    """Measures TTFT and decode rate for one generation."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.first_token: float | None = None
        self.last_token: float | None = None

    def token(self) -> None:
        now = time.monotonic()
        if self.first_token is None:
            self.first_token = now
        self.last_token = now

    @property
    def ttft_ms(self) -> float | None:
        return None if self.first_token is None else (self.first_token - self.started) * 1000

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000

    def decode_rate(self, completion_tokens: int | None) -> float | None:
        """Tokens per second after the first one (the first is prompt processing's)."""
        if not completion_tokens or completion_tokens < 2 or self.first_token is None:
            return None
        span = (self.last_token or self.first_token) - self.first_token
        return (completion_tokens - 1) / span if span > 0 else None
