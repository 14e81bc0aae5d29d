"""The OpenAI-compatible backend against real servers on 127.0.0.1.

llama-cpp-python's server streams without usage (the estimated path); the Ollama test
server's /v1 endpoint honours stream_options.include_usage (the exact path).
"""

import asyncio
import sys

import pytest

from ragtui.generation import (
    BackendSettings,
    GenerationDone,
    GenerationError,
    GenerationOptions,
    TextDelta,
    make_generator,
)
from ragtui.generation.base import estimate_tokens
from ragtui.prompts import PromptTemplates, build_prompt
from tests.servers.processes import free_port, llama_server

PROMPT = build_prompt("chat", "Say hello.", ["Hello is a greeting."], PromptTemplates())


def openai(base_url: str, model: str = "smollm2", **settings) -> object:
    return make_generator(f"openai:{model}", BackendSettings(openai_base_url=base_url, **settings))


SHORT = GenerationOptions(max_tokens=12)


async def collect(generator, options=SHORT):
    text, done = "", None
    async for event in generator.stream(PROMPT, options):
        if isinstance(event, TextDelta):
            text += event.text
        else:
            done = event
    await generator.aclose()
    return text, done


async def test_streams_and_estimates_usage_when_the_server_sends_none(llama_server_url) -> None:
    generator = openai(llama_server_url)
    assert generator.runs_locally
    text, done = await collect(generator)
    assert text.strip()
    assert isinstance(done, GenerationDone)
    assert done.usage.estimated
    assert done.usage.completion_tokens == estimate_tokens(text)
    assert done.usage.prompt_tokens > 10
    assert done.ttft_ms > 0


async def test_exact_usage_when_the_server_reports_it(ollama_url) -> None:
    text, done = await collect(openai(f"{ollama_url}/v1"))
    assert text.strip()
    assert not done.usage.estimated
    assert 1 <= done.usage.completion_tokens <= 12
    assert done.usage.prompt_tokens > 10


async def test_server_down_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(
        GenerationError, match=r"cannot connect .*start the server or set OPENAI_BASE_URL"
    ):
        await collect(openai(f"http://127.0.0.1:{port}/v1"))


async def test_wrong_key_is_reported(smollm2_path) -> None:
    port = free_port()
    with llama_server(smollm2_path, "smollm2", port, "--api_key", "right-key"):
        generator = openai(f"http://127.0.0.1:{port}/v1", openai_api_key="wrong-key")
        with pytest.raises(GenerationError, match=r"key was refused \(HTTP 401"):
            await collect(generator)
        text, _ = await collect(openai(f"http://127.0.0.1:{port}/v1", openai_api_key="right-key"))
        assert text.strip()


async def test_unknown_endpoint_and_unknown_model_are_reported(
    llama_server_url, ollama_url
) -> None:
    with pytest.raises(GenerationError, match="not found \\(HTTP 404"):
        await collect(openai(llama_server_url.replace("/v1", "/v9")))
    with pytest.raises(GenerationError, match="model 'nope' not found"):
        await collect(openai(f"{ollama_url}/v1", model="nope"))


async def test_context_overflow_is_reported(llama_server_url) -> None:
    long_prompt = build_prompt("chat", "word " * 3000, [], PromptTemplates())
    generator = openai(llama_server_url)
    # This server answers 200 and closes an empty stream; the message says what it may mean.
    with pytest.raises(GenerationError, match=r"without sending anything .*context"):
        async for _ in generator.stream(long_prompt, GenerationOptions(max_tokens=4)):
            pass


async def test_timeout_is_reported(llama_server_url) -> None:
    generator = openai(llama_server_url, timeout_s=0.001)
    with pytest.raises(GenerationError, match="timeout"):
        await collect(generator)


async def test_server_killed_mid_stream_keeps_the_partial_answer(smollm2_path) -> None:
    port = free_port()
    with llama_server(smollm2_path, "smollm2", port) as server:
        generator = openai(f"http://127.0.0.1:{port}/v1")
        received = ""
        with pytest.raises(GenerationError, match=r"cut mid-answer|ended before") as failure:
            async for event in generator.stream(PROMPT, GenerationOptions(max_tokens=300)):
                if isinstance(event, TextDelta):
                    received += event.text
                    if len(received) > 5 and server.poll() is None:
                        server.kill()
                        await asyncio.sleep(0.05)
        assert failure.value.partial == received and received
        await generator.aclose()


@pytest.mark.skipif(sys.platform != "linux", reason="local servers are started for Linux CI")
def test_remote_hosts_are_not_local() -> None:
    assert not openai("https://api.example.com/v1").runs_locally
