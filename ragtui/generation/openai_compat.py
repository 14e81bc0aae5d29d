"""Any OpenAI-compatible ``/v1/chat/completions`` endpoint, streamed over SSE with httpx.

Works with vLLM, LM Studio, llama.cpp's server and hosted gateways. Usage comes from the
final chunk when the server honours ``stream_options.include_usage``; otherwise token
counts are estimated (see ``estimate_tokens``) and flagged as such.
"""

from __future__ import annotations

import asyncio
import json
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

# A server that streams past max_tokens by more than this many chunks is stopped.
OVERRUN_CHUNKS = 16


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or error)[:200]
    return str(error)[:200]


class OpenAICompatGenerator:
    """``openai:MODEL``; base URL and key from OPENAI_BASE_URL / OPENAI_API_KEY or config."""

    prompt_style = "chat"

    def __init__(self, spec: GeneratorSpec, settings: BackendSettings) -> None:
        if not spec.model:
            raise GenerationError("openai: name a model, e.g. 'openai:gpt-4o-mini'")
        self.spec = spec
        self.model = spec.model
        self.base_url = settings.openai_base_url.rstrip("/")
        self.api_key = settings.openai_api_key
        self.timeout_s = settings.timeout_s
        self.runs_locally = is_local_url(self.base_url)
        self.in_process = False
        self._client: httpx.AsyncClient | None = None

    async def identity(self) -> str:
        # The API names no weights; the endpoint and model name are what can be known.
        return f"openai:{shown_url(self.base_url)}:{self.model}"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0)),
            )
        return self._client

    def _fail(self, what: str, partial: str = "") -> GenerationError:
        message = f"openai:{self.model} at {self.base_url}: {what}"
        return GenerationError(without_credentials(message, self.base_url), partial)

    async def stream(
        self, prompt: Prompt, options: GenerationOptions
    ) -> AsyncIterator[GenerationEvent]:
        messages = chat_messages(prompt, options.fair)
        body = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "seed": options.seed,
        }
        if prompt.stop:
            body["stop"] = list(prompt.stop)
        clock = StreamClock()
        answer = ""
        usage: dict | None = None
        finish: str | None = None
        done = False
        events_seen = 0
        chunks = 0
        url = f"{self.base_url}/chat/completions"
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                async with self._http().stream("POST", url, json=body) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        if response.status_code in RETRY_STATUSES and attempt < RETRY_ATTEMPTS:
                            raise _RetryableStatus(response)
                        raise self._http_error(response, attempt)
                    async for line in response.aiter_lines():
                        if time.monotonic() - started > options.max_time_s:
                            raise self._fail(
                                f"no end to the answer after {options.max_time_s:g} s; "
                                "stopped (max time)",
                                answer,
                            )
                        if not line.startswith("data:"):
                            continue
                        events_seen += 1
                        payload = line[5:].strip()
                        if payload == "[DONE]":
                            done = True
                            break
                        try:
                            chunk = json.loads(payload)
                        except json.JSONDecodeError:
                            raise self._fail(
                                f"sent a malformed event ({payload[:80]!r})", answer
                            ) from None
                        if not isinstance(chunk, dict):
                            raise self._fail(f"sent a malformed event ({payload[:80]!r})", answer)
                        if chunk.get("error"):
                            raise self._fail(f"error mid-answer: {chunk['error']}", answer)
                        if chunk.get("usage"):
                            usage = chunk["usage"]
                        for choice in chunk.get("choices") or []:
                            text = (choice.get("delta") or {}).get("content") or ""
                            if text:
                                chunks += 1
                                if chunks > options.max_tokens + OVERRUN_CHUNKS:
                                    raise self._fail(
                                        f"kept sending past max_tokens={options.max_tokens}; "
                                        "stopped",
                                        answer,
                                    )
                                clock.token()
                                answer += text
                                yield TextDelta(text)
                            finish = choice.get("finish_reason") or finish
                break
            except _RetryableStatus as retry:
                # Nothing was answered yet, so asking again cannot duplicate anything.
                delay_s = retry_delay(retry.response.headers.get("retry-after"), attempt)
                attempt += 1
                reason = f"HTTP {retry.response.status_code}"
                yield Retrying(reason, delay_s, attempt, RETRY_ATTEMPTS)
                await asyncio.sleep(delay_s)
            except TRANSPORT_ERRORS as error:
                what, keeps_answer = transport_failure(
                    error, self.timeout_s, "start the server or set OPENAI_BASE_URL"
                )
                raise self._fail(what, answer if keeps_answer else "") from None
        if not done and finish is None:
            if not events_seen:
                # llama-cpp-python's server, for one, answers 200 and then closes an empty
                # stream when the prompt overflows the context.
                raise self._fail(
                    "the server closed the stream without sending anything (a server-side "
                    "error, e.g. a prompt longer than the model's context: retrieve fewer "
                    "passages with -k, or check the server's log)"
                )
            raise self._fail("the stream ended before the answer was complete", answer)
        if usage and usage.get("completion_tokens") is not None:
            counted = Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"), False)
        else:
            flat = "\n".join(message["content"] for message in messages)
            counted = Usage(estimate_tokens(flat), estimate_tokens(answer), True)
        yield GenerationDone(
            http_retries=attempt - 1,
            usage=counted,
            ttft_ms=clock.ttft_ms,
            total_ms=clock.elapsed_ms(),
            decode_tokens_per_s=clock.decode_rate(counted.completion_tokens),
            finish_reason=finish or "stop",
        )

    def _http_error(self, response: httpx.Response, attempt: int = 1) -> GenerationError:
        message = _server_message(response) or "no message"
        code = response.status_code
        if code in (401, 403):
            return self._fail(f"the key was refused (HTTP {code}: {message}); set OPENAI_API_KEY")
        if code == 404:
            return self._fail(f"model or endpoint not found (HTTP 404: {message})")
        if "context" in message.lower() and code in (400, 413, 422):
            return self._fail(
                f"the prompt is too long for the model (HTTP {code}: {message}); "
                f"retrieve fewer passages (-k)"
            )
        tries = f" after {attempt} attempts" if attempt > 1 else ""
        if code in RETRY_STATUSES:
            return self._fail(f"HTTP {code}{tries}: {message}; the server is busy, try later")
        return self._fail(f"HTTP {code}{tries}: {message}; check the server's log")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
