"""The embedded llama.cpp backend with the packaged models (real inference, short answers)."""

import asyncio
import time
from pathlib import Path

import pytest

from ragtui.config.specs import GeneratorSpec
from ragtui.errors import ModelError
from ragtui.generation import GenerationDone, GenerationError, GenerationOptions, TextDelta
from ragtui.generation.llamacpp import LlamaCppGenerator
from ragtui.prompts import PromptTemplates, build_prompt

PASSAGES = [
    "The HB-15 stores 15.3 kWh of usable energy and weighs 142 kg, compared with 98 kg "
    "for the HB-10, so it must be mounted on a floor stand."
]


async def collect(generator, prompt, options):
    deltas, done = [], None
    async for event in generator.stream(prompt, options):
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            done = event
    return "".join(deltas), done


async def test_smollm2_streams_with_exact_token_counts() -> None:
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2"))
    prompt = build_prompt("chat", "How heavy is the HB-15?", PASSAGES, PromptTemplates())
    answer, done = await collect(generator, prompt, GenerationOptions(max_tokens=24))
    assert answer.strip()
    assert isinstance(done, GenerationDone)
    # Counted independently: llama-cpp-python's own chat completion (its chat handler from
    # the GGUF's template, its tokenization) on the same messages, in a separate model.
    from llama_cpp import Llama

    from ragtui.generation.catalog import CATALOG

    reference = Llama(str(CATALOG["smollm2"].locate()), n_ctx=2048, verbose=False)
    completion = reference.create_chat_completion(
        messages=[dict(message) for message in prompt.messages], max_tokens=1, temperature=0.0
    )
    assert done.usage.prompt_tokens == completion["usage"]["prompt_tokens"]
    assert 1 <= done.usage.completion_tokens <= 24
    assert not done.usage.estimated
    assert done.ttft_ms > 0 and done.total_ms >= done.ttft_ms
    assert done.details["prompt_cache"] == "reset"


async def test_gemma3_base_model_answers_from_a_completion_prompt() -> None:
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "gemma3"))
    assert generator.prompt_style == "completion"
    prompt = build_prompt("completion", "How heavy is the HB-15?", PASSAGES, PromptTemplates())
    answer, done = await collect(generator, prompt, GenerationOptions(max_tokens=24))
    assert "kg" in answer  # a short answer about weight, not a copy of the context
    assert "\n" not in answer.strip()  # stopped at the end of its line
    assert done.usage.completion_tokens >= 1 and not done.usage.estimated


async def test_cancelling_mid_answer_stops_within_200_ms() -> None:
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2"))
    prompt = build_prompt(
        "chat", "Write a long story about batteries.", PASSAGES, PromptTemplates()
    )
    received = asyncio.Event()
    count = 0

    async def consume() -> None:
        nonlocal count
        async for event in generator.stream(prompt, GenerationOptions(max_tokens=400)):
            if isinstance(event, TextDelta):
                count += 1
                if count == 3:
                    received.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(received.wait(), timeout=60)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    lock = generator.model().lock
    assert await asyncio.to_thread(lock.acquire, True, 1.0)
    released_ms = (time.monotonic() - cancelled_at) * 1000
    lock.release()
    assert released_ms <= 200, f"generation went on for {released_ms:.0f} ms after cancel"
    assert count < 60


async def test_fair_mode_starts_cold_and_concurrent_mode_may_reuse_the_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2"))
    llama = generator.model().llama
    cached_at_start = []  # tokens llama.cpp still holds from the previous call
    real_generate = llama.generate

    def spy(*args, **kwargs):
        cached_at_start.append(llama.n_tokens)
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(llama, "generate", spy)
    prompt = build_prompt("chat", "How heavy is the HB-15?", PASSAGES, PromptTemplates())
    await collect(generator, prompt, GenerationOptions(max_tokens=2, fair=True))
    _, fair = await collect(generator, prompt, GenerationOptions(max_tokens=2, fair=True))
    _, reused = await collect(generator, prompt, GenerationOptions(max_tokens=2, fair=False))
    assert cached_at_start[1] == 0, "fair mode must not reuse the previous prompt"
    assert cached_at_start[2] > 0, "concurrent mode keeps llama.cpp's prefix cache"
    assert fair.details["prompt_cache"] == "reset"
    assert reused.details["prompt_cache"] == "reused"


async def test_context_overflow_is_a_clear_error() -> None:
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2"))
    prompt = build_prompt("chat", "word " * 6000 + "?", PASSAGES, PromptTemplates())
    with pytest.raises(GenerationError, match="context allows; retrieve fewer passages"):
        await collect(generator, prompt, GenerationOptions(max_tokens=8))


def test_unknown_models_are_user_errors(tmp_path) -> None:
    with pytest.raises(ModelError, match="no model 'nope'"):
        LlamaCppGenerator(GeneratorSpec("llamacpp", "nope"))
    fake = tmp_path / "broken.gguf"
    fake.write_bytes(b"not a gguf")
    with pytest.raises(ModelError, match="not a readable GGUF"):
        LlamaCppGenerator(GeneratorSpec("llamacpp", str(fake)))


def test_a_local_gguf_path_is_accepted(smollm2_path) -> None:
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", str(smollm2_path)))
    assert generator.prompt_style == "chat"


async def test_a_second_cancel_during_clean_up_ends_the_task_at_once() -> None:
    """Cancelled during a long prompt evaluation (no token yet, so the token loop cannot
    stop), a generation waits in clean-up for llama.cpp; cancelling it again must end the
    task then, not when the evaluation is over."""
    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2"))
    generator.model()  # loaded before the clock matters
    long_context = [f"Note {number}: {PASSAGES[0]}" for number in range(30)]
    prompt = build_prompt("chat", "What does note 29 say?", long_context, PromptTemplates())
    task = asyncio.create_task(collect(generator, prompt, GenerationOptions(max_tokens=8)))
    await asyncio.sleep(0.5)  # the prompt is being evaluated (seconds for ~1,500 tokens)
    task.cancel()
    await asyncio.sleep(0.2)
    assert not task.done(), "clean-up should be waiting for the prompt evaluation"
    task.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    # the evaluation finishes on its own and frees the thread for the next request
    _answer, done = await collect(generator, prompt, GenerationOptions(max_tokens=4))
    assert isinstance(done, GenerationDone)


def _nice(native_id: int) -> int:
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat: the nice value


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's /proc")
async def test_decoding_threads_yield_to_the_screen() -> None:
    """The inference thread and the OpenMP team it starts run at nice 10, the rest at 0."""
    import os
    import threading

    from ragtui.generation import llamacpp

    generator = LlamaCppGenerator(GeneratorSpec("llamacpp", "smollm2"))
    prompt = build_prompt("chat", "How heavy is the HB-15?", PASSAGES, PromptTemplates())
    await collect(generator, prompt, GenerationOptions(max_tokens=8))
    inference = llamacpp._INFERENCE.submit(threading.get_native_id).result()
    assert _nice(inference) == llamacpp.INFERENCE_NICE
    assert _nice(threading.get_native_id()) == 0  # the caller (the screen's thread) is not
    lowered = [tid for tid in os.listdir("/proc/self/task") if _nice(int(tid)) == 10]
    assert len(lowered) >= (os.cpu_count() or 1)  # the decoding team too, not just one thread
