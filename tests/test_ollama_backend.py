"""The Ollama backend through the official client, against servers that speak Ollama's API."""

import os
import sys

import pytest

from ragtui.config.backends import _ollama_host_from_env
from ragtui.generation import (
    BackendSettings,
    GenerationDone,
    GenerationError,
    GenerationOptions,
    Retrying,
    TextDelta,
    make_generator,
)
from ragtui.prompts import PromptTemplates, build_prompt
from tests.servers.processes import free_port, running

PROMPT = build_prompt("chat", "Say hello.", ["Hello is a greeting."], PromptTemplates())


def ollama(host: str, model: str = "smollm2"):
    return make_generator(f"ollama:{model}", BackendSettings(ollama_host=host))


SHORT = GenerationOptions(max_tokens=12)


async def collect(generator, options=SHORT):
    text, done = "", None
    async for event in generator.stream(PROMPT, options):
        if isinstance(event, TextDelta):
            text += event.text
        else:
            done = event
    return text, done


async def test_streams_with_exact_counts_from_the_final_message(ollama_url) -> None:
    text, done = await collect(ollama(ollama_url))
    assert text.strip()
    assert isinstance(done, GenerationDone)
    assert not done.usage.estimated
    assert 1 <= done.usage.completion_tokens <= 12
    assert done.usage.prompt_tokens > 10
    assert done.decode_tokens_per_s and done.decode_tokens_per_s > 0
    assert done.details["prompt_eval_ms"] > 0


async def test_lists_models(ollama_url) -> None:
    assert await ollama(ollama_url).list_models() == ["smollm2:latest"]


async def test_unknown_model_says_to_pull_it(ollama_url) -> None:
    with pytest.raises(GenerationError, match=r"model not found .*ollama pull llama3.2:1b"):
        await collect(ollama(ollama_url, "llama3.2:1b"))


async def test_a_full_queue_is_retried_with_backoff(ollama_url) -> None:
    # The test server answers HTTP 503 ("server busy") to the first two requests.
    events = [event async for event in ollama(ollama_url, "smollm2@busy2").stream(PROMPT, SHORT)]
    retries = [event for event in events if isinstance(event, Retrying)]
    assert [(event.attempt, event.delay_s) for event in retries] == [(2, 1.0), (3, 3.0)]
    assert "HTTP 503" in retries[0].describe()
    assert isinstance(events[-1], GenerationDone)
    assert "".join(event.text for event in events if isinstance(event, TextDelta)).strip()


async def test_a_server_s_retry_after_is_honoured(ollama_url) -> None:
    generator = ollama(ollama_url, "smollm2@busy2-retry-after-0")
    events = [event async for event in generator.stream(PROMPT, SHORT)]
    retries = [event for event in events if isinstance(event, Retrying)]
    assert [(event.attempt, event.delay_s) for event in retries] == [(2, 0.0), (3, 0.0)]
    assert isinstance(events[-1], GenerationDone)


async def test_an_endless_answer_is_stopped_after_max_time_keeping_the_text(ollama_url) -> None:
    options = GenerationOptions(max_tokens=10_000, max_time_s=1.0)
    with pytest.raises(GenerationError, match=r"no end to the answer after 1 s") as caught:
        await collect(ollama(ollama_url, "smollm2@endless"), options)
    assert caught.value.partial.startswith("more more")


async def test_server_down_is_a_clear_error() -> None:
    with pytest.raises(GenerationError, match=r"cannot connect .*start 'ollama serve'"):
        await collect(ollama(f"http://127.0.0.1:{free_port()}"))


def test_host_is_read_like_ollamas_own_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("example.org:8080", "http://example.org:8080"),
        ("https://example.org", "https://example.org:11434"),
    ]:
        monkeypatch.setenv("OLLAMA_HOST", value)
        assert _ollama_host_from_env() == expected


async def test_works_through_an_independent_ollama_api_server(
    llama_server_url: str, tmp_path
) -> None:
    """ollama-proxy-plus speaks Ollama's API in front of llama-cpp-python's server.

    Its counts are word counts and some durations are zero, so this checks the stream and
    the presence of the fields, not their values.
    """
    port = free_port()
    env = {
        "PROVIDERS_LLAMACPP_BASE_URL": llama_server_url,
        "EXTRA_MODELS": "llamacpp/smollm2",
        "HOME": str(tmp_path),
    }
    proxy = os.path.join(os.path.dirname(sys.executable), "ollama-proxy")
    if not os.path.exists(proxy):
        # A declared dev dependency: missing in CI means the install is broken, not optional.
        if os.environ.get("CI"):
            pytest.fail("ollama-proxy-plus is not installed although the dev extra declares it")
        pytest.skip("ollama-proxy-plus is not installed (dev extra)")
    command = [proxy, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}/api/tags", env=env):
        text, done = await collect(ollama(f"http://127.0.0.1:{port}", "llamacpp/smollm2"))
    assert text.strip()
    assert done.usage.prompt_tokens is not None and done.usage.completion_tokens is not None
