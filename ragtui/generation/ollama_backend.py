"""Ollama through its official client (``ollama.AsyncClient``, streaming chat).

Written against Ollama's documented REST API (docs/api.md, ``/api/chat`` and
``/api/tags`` as of Ollama 0.5–0.12): token counts and durations come from the final
message (``prompt_eval_count``, ``eval_count``, ``*_duration`` in nanoseconds), so they
are exact.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import httpx

from ragtui.config.backends import BackendSettings, shown_url, without_credentials
from ragtui.config.specs import GeneratorSpec
from ragtui.generation.base import (
    GenerationDone,
    GenerationError,
    GenerationEvent,
    GenerationOptions,
    Prompt,
    Retrying,
    StreamClock,
    TextDelta,
    Usage,
    estimate_tokens,
)
from ragtui.generation.remote import (
    RETRY_ATTEMPTS,
    RETRY_STATUSES,
    TRANSPORT_ERRORS,
    chat_messages,
    is_local_url,
    retry_delay,
    transport_failure,
)

log = logging.getLogger("ragtui")


def server_message(detail: object) -> str:
    """A server's error as words: Ollama sends a string, proxies often ``{"message": …}``."""
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("error") or json.dumps(detail)
    return " ".join(str(detail).split()) or "no message"


class OllamaGenerator:
    """``ollama:MODEL``; the host comes from OLLAMA_HOST (as Ollama's tools read it) or config."""

    prompt_style = "chat"

    def __init__(self, spec: GeneratorSpec, settings: BackendSettings) -> None:
        if not spec.model:
            raise GenerationError("ollama: name a model, e.g. 'ollama:llama3.2:1b'")
        self.spec = spec
        self.model = spec.model
        self.host = settings.ollama_host
        self.timeout_s = settings.timeout_s
        self.runs_locally = is_local_url(self.host)
        self.in_process = False
        self._client = None
        self._retry_after: str | None = None

    async def identity(self) -> str:
        """The server's digest of this model tag (changes when the tag is pulled again)."""
        names = {self.model, f"{self.model}:latest"}
        try:
            listing = await self._ollama().list()
            for entry in listing.models:
                if entry.model in names and entry.digest:
                    return f"ollama:{shown_url(self.host)}:{self.model}@{entry.digest}"
        except Exception:  # unreachable or odd server: the generation itself will say so
            log.debug("ollama: no digest for %s", self.model, exc_info=True)
        return f"ollama:{shown_url(self.host)}:{self.model}@unknown"

    def _ollama(self):
        if self._client is None:
            import ollama

            # The ollama client hides response headers; a hook keeps the last Retry-After.
            self._client = ollama.AsyncClient(
                host=self.host,
                timeout=self.timeout_s,
                event_hooks={"response": [self._remember_retry_after]},
            )
        return self._client

    async def _remember_retry_after(self, response: httpx.Response) -> None:
        self._retry_after = response.headers.get("retry-after")

    def _fail(self, what: str, partial: str = "") -> GenerationError:
        message = f"ollama:{self.model} at {self.host}: {what}"
        return GenerationError(without_credentials(message, self.host), partial)

    async def stream(
        self, prompt: Prompt, options: GenerationOptions
    ) -> AsyncIterator[GenerationEvent]:
        import ollama

        messages = chat_messages(prompt, options.fair)
        request_options = {
            "temperature": options.temperature,
            "num_predict": options.max_tokens,
            "seed": options.seed,
        }
        if prompt.stop:
            request_options["stop"] = list(prompt.stop)
        clock = StreamClock()
        started = time.monotonic()
        answer = ""
        final = None
        attempt = 1
        while True:
            try:
                parts = await self._ollama().chat(
                    model=self.model, messages=messages, stream=True, options=request_options
                )
                async for part in parts:
                    # A server that never ends its answer is stopped, as for OpenAI-compatible
                    # servers: after max_time_s, keeping what it said.
                    if time.monotonic() - started > options.max_time_s:
                        raise self._fail(
                            f"no end to the answer after {options.max_time_s:g} s; "
                            "stopped (max time)",
                            answer,
                        )
                    text = part.message.content if part.message else ""
                    if text:
                        clock.token()
                        answer += text
                        yield TextDelta(text)
                    if part.done:
                        final = part
                break
            except ollama.ResponseError as error:
                code = error.status_code
                if code in RETRY_STATUSES and not answer and attempt < RETRY_ATTEMPTS:
                    # Ollama answers 503 when its queue is full: nothing was generated yet.
                    delay_s = retry_delay(self._retry_after, attempt)
                    attempt += 1
                    yield Retrying(f"HTTP {code}", delay_s, attempt, RETRY_ATTEMPTS)
                    await asyncio.sleep(delay_s)
                    continue
                detail = server_message(error.error)
                if code == 404:
                    raise self._fail(
                        f"model not found ({detail}); run 'ollama pull {self.model}'", answer
                    ) from None
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise self._fail(f"HTTP {code}{tries}: {detail}", answer) from None
            except TRANSPORT_ERRORS as error:
                what, keeps_answer = transport_failure(
                    error, self.timeout_s, "start 'ollama serve' or set OLLAMA_HOST"
                )
                raise self._fail(what, answer if keeps_answer else "") from None
        if final is None:
            raise self._fail("the stream ended before the answer was complete", answer)
        prompt_count, eval_count = final.prompt_eval_count, final.eval_count
        if prompt_count is None or eval_count is None:
            flat = "\n".join(message["content"] for message in messages)
            usage = Usage(estimate_tokens(flat), estimate_tokens(answer), True)
        else:
            usage = Usage(prompt_count, eval_count, False)
        rate = None
        if final.eval_duration and eval_count:
            rate = eval_count / (final.eval_duration / 1e9)  # the server's own decode timing
        yield GenerationDone(
            http_retries=attempt - 1,
            usage=usage,
            ttft_ms=clock.ttft_ms,
            total_ms=clock.elapsed_ms(),
            decode_tokens_per_s=rate or clock.decode_rate(usage.completion_tokens),
            finish_reason=final.done_reason or "stop",
            details={
                "load_ms": (final.load_duration or 0) / 1e6,
                "prompt_eval_ms": (final.prompt_eval_duration or 0) / 1e6,
            },
        )

    async def list_models(self) -> list[str]:
        """Models the server has (``/api/tags``)."""
        listing = await self._ollama().list()
        return [model.model for model in listing.models if model.model]

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            # The ollama client keeps its httpx client as ``_client``; close its connections.
            http = getattr(client, "_client", None)
            if http is not None:
                await http.aclose()
