"""Embedded generation with llama-cpp-python: offline, in a worker thread, cancellable.

The token loop is ours (``Llama.generate``), not ``create_completion``: it gives exact
prompt and completion token counts, stops within one token when cancelled, and lets fair
mode call ``Llama.reset()`` so a repeated prompt is never served from the prefix cache.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ragtui.config.specs import GeneratorSpec
from ragtui.errors import ModelError
from ragtui.generation.base import (
    GenerationDone,
    GenerationError,
    GenerationEvent,
    GenerationOptions,
    Prompt,
    StreamClock,
    TextDelta,
    Usage,
)
from ragtui.generation.catalog import CATALOG, COMPLETION_STOPS

T = TypeVar("T")
N_CTX = 4096
FLUSH_S = 0.05


@dataclass
class LoadedModel:
    llama: object  # llama_cpp.Llama
    lock: threading.Lock  # one generation at a time per model: the KV cache is shared
    chat_template: str | None


_models: dict[str, LoadedModel] = {}
# Every llama.cpp call in the process runs on this one thread. llama.cpp's OpenMP thread
# team belongs to the thread that calls it; once two threads have called, both teams spin
# for the cores and decoding drops to about a third of its speed (measured on 2 cores:
# 98 -> 28 tokens/s for SmolLM2). One thread also serialises the models' KV caches.
#
# The thread runs at a lower priority (nice 10), and so does the OpenMP team it creates
# (Linux threads inherit their creator's nice value): on 2 cores the decoding threads
# otherwise starve the screen's thread, and key presses wait behind them. On an idle
# machine nice changes nothing, so timings and tokens/s stay comparable.
INFERENCE_NICE = 10


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), INFERENCE_NICE)


_INFERENCE = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="ragtui-llama", initializer=_lower_priority
)


def on_inference_thread(function: Callable[..., T], *args: object) -> T:
    """Run function on the llama.cpp thread and wait for it (directly if already there)."""
    if threading.current_thread().name.startswith("ragtui-llama"):
        return function(*args)
    return _INFERENCE.submit(function, *args).result()


_log_sink = None


def _silence_llama_cpp() -> None:
    """Route llama.cpp's C-level log lines nowhere: with verbose=False it still prints some
    (e.g. about its SWA cache) straight to stderr, which would tear the TUI's screen."""
    global _log_sink
    if _log_sink is None:
        import ctypes

        import llama_cpp

        @llama_cpp.llama_log_callback
        def sink(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            return None

        _log_sink = sink  # keep a reference: C holds only a raw pointer
        llama_cpp.llama_log_set(sink, ctypes.c_void_p(0))


_models_lock = threading.Lock()


def _close_all_models() -> None:
    """Free models before interpreter teardown; llama-cpp-python's __del__ fails late."""
    with _models_lock:
        for loaded in _models.values():
            with contextlib.suppress(Exception):
                loaded.llama.close()
        _models.clear()


def load_model(path: Path) -> LoadedModel:
    """The process-wide llama.cpp model for path, loaded on first use."""
    key = str(path.resolve())
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            from llama_cpp import Llama

            _silence_llama_cpp()
            if not _models:
                atexit.register(_close_all_models)

            try:
                llama = Llama(
                    model_path=key,
                    n_ctx=N_CTX,
                    n_threads=os.cpu_count() or 1,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as error:
                raise ModelError(f"llamacpp: cannot load {key} ({error})") from None
            template = llama.metadata.get("tokenizer.chat_template")
            loaded = LoadedModel(llama, threading.Lock(), template)
            _models[key] = loaded
        return loaded


def _render_chat(loaded: LoadedModel, prompt: Prompt) -> str:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = loaded.llama
    if loaded.chat_template is None:
        raise ModelError("llamacpp: this GGUF has no chat template; it needs a completion prompt")
    formatter = Jinja2ChatFormatter(
        template=loaded.chat_template,
        eos_token=llama.detokenize([llama.token_eos()]).decode("utf-8", "ignore"),
        bos_token=llama.detokenize([llama.token_bos()]).decode("utf-8", "ignore"),
    )
    return formatter(messages=list(prompt.messages)).prompt


def _is_end_of_generation(llama, token: int) -> bool:
    import llama_cpp

    vocab = getattr(getattr(llama, "_model", None), "vocab", None)
    if vocab is not None and hasattr(llama_cpp, "llama_vocab_is_eog"):
        return bool(llama_cpp.llama_vocab_is_eog(vocab, token))
    return token == llama.token_eos()


class _Stopper:
    """Finds stop strings in the growing answer and holds back text that may begin one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(stop for stop in stops if stop)
        self.holdback = max((len(stop) - 1 for stop in self.stops), default=0)

    def cut(self, text: str) -> int | None:
        positions = [text.find(stop) for stop in self.stops]
        found = [position for position in positions if position >= 0]
        return min(found) if found else None


class LlamaCppGenerator:
    """``llamacpp:smollm2``, ``llamacpp:gemma3`` or ``llamacpp:/path/model.gguf``."""

    runs_locally = True
    in_process = True

    def __init__(self, spec: GeneratorSpec) -> None:
        self.spec = spec
        name = spec.model or "smollm2"
        entry = CATALOG.get(name)
        if entry is not None:
            self._locate = entry.locate
            self.prompt_style = entry.prompt_style
            self.stop = entry.stop
        else:
            path = Path(name).expanduser()
            if path.suffix.lower() != ".gguf" or not path.is_file():
                known = ", ".join(sorted(CATALOG))
                raise ModelError(
                    f"llamacpp: no model {name!r}: use one of {known} or a path to a .gguf file"
                )
            self._locate = lambda: path
            self.prompt_style = "chat" if self._has_chat_template(path) else "completion"
            self.stop = () if self.prompt_style == "chat" else COMPLETION_STOPS

    async def identity(self) -> str:
        from ragtui.config import paths
        from ragtui.content_hash import file_sha256

        path = self._locate()
        memo = paths.cache_dir() / "models" / "hashes.json"
        return f"gguf-sha256:{await asyncio.to_thread(file_sha256, path, memo)}"

    @staticmethod
    def _has_chat_template(path: Path) -> bool:
        return on_inference_thread(LlamaCppGenerator._read_chat_template_flag, path)

    @staticmethod
    def _read_chat_template_flag(path: Path) -> bool:
        from llama_cpp import Llama

        try:
            header = Llama(model_path=str(path), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelError(f"llamacpp: {path} is not a readable GGUF model ({error})") from None
        return "tokenizer.chat_template" in header.metadata

    def model(self) -> LoadedModel:
        """The loaded model (loading it on the inference thread the first time)."""
        return on_inference_thread(load_model, self._locate())

    async def stream(
        self, prompt: Prompt, options: GenerationOptions
    ) -> AsyncIterator[GenerationEvent]:
        loaded = await asyncio.get_running_loop().run_in_executor(
            _INFERENCE, load_model, self._locate()
        )
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[GenerationEvent | BaseException] = asyncio.Queue()
        cancel = threading.Event()
        finished = threading.Event()

        def put(item: GenerationEvent | BaseException) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            if cancel.is_set():
                finished.set()
                return
            try:
                self._generate(loaded, prompt, options, cancel, put)
            except BaseException as error:  # handed to the event loop, re-raised there
                put(error)
            finally:
                finished.set()

        _INFERENCE.submit(work)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, GenerationDone):
                    return
        finally:
            cancel.set()
            # Wait for the token loop to let go of the model, so the next request (or the
            # other pane) finds it free; the loop checks `cancel` after every token. A
            # request still queued behind another finds `cancel` set and returns at once.
            # A further cancel while waiting is not swallowed: it ends this task now, and
            # the loop, with `cancel` set, still stops by itself after its current token.
            await asyncio.shield(asyncio.to_thread(finished.wait, 30))

    def _generate(self, loaded, prompt: Prompt, options: GenerationOptions, cancel, put) -> None:
        llama = loaded.llama
        text = _render_chat(loaded, prompt) if prompt.style == "chat" else prompt.text
        stopper = _Stopper(tuple(prompt.stop) + tuple(self.stop))
        with loaded.lock:
            clock = StreamClock()
            prompt_tokens = llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)
            room = llama.n_ctx() - len(prompt_tokens)
            if room < 16:
                raise GenerationError(
                    f"llamacpp:{self.spec.model}: the prompt has {len(prompt_tokens)} tokens, "
                    f"more than the {llama.n_ctx()}-token context allows; retrieve fewer "
                    f"passages (-k) or use smaller chunks"
                )
            max_tokens = min(options.max_tokens, room)
            if options.fair:
                llama.reset()
            llama.set_seed(options.seed)
            completion: list[int] = []
            answer, emitted, flushed = "", 0, 0.0
            finish = "length"
            tokens = llama.generate(
                prompt_tokens,
                temp=options.temperature,
                top_k=40,
                top_p=0.95,
                repeat_penalty=1.1,
            )
            try:
                for token in tokens:
                    if cancel.is_set():
                        finish = "cancelled"
                        break
                    if _is_end_of_generation(llama, token):
                        finish = "stop"
                        break
                    completion.append(token)
                    clock.token()
                    raw = llama.detokenize(completion, prev_tokens=prompt_tokens)
                    try:
                        answer = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        continue  # a character split across tokens: wait for the rest
                    if prompt.style == "completion":
                        answer = answer.lstrip()
                    cut = stopper.cut(answer)
                    if cut is not None:
                        answer = answer[:cut]
                        finish = "stop"
                    safe_end = len(answer) if cut is not None else len(answer) - stopper.holdback
                    now = time.monotonic()
                    # Hand text over at most every FLUSH_S (and at once for the first
                    # token): waking the event loop per token steals a core from
                    # llama.cpp's threads and cut decoding speed to a third on 2 cores.
                    if safe_end > emitted and (emitted == 0 or now - flushed >= FLUSH_S):
                        put(TextDelta(answer[emitted:safe_end]))
                        emitted, flushed = safe_end, now
                    if cut is not None or len(completion) >= max_tokens:
                        break
            finally:
                tokens.close()
            if emitted < len(answer) and finish != "cancelled":
                put(TextDelta(answer[emitted:]))
            usage = Usage(len(prompt_tokens), len(completion), estimated=False)
            put(
                GenerationDone(
                    usage=usage,
                    ttft_ms=clock.ttft_ms,
                    total_ms=clock.elapsed_ms(),
                    decode_tokens_per_s=clock.decode_rate(len(completion)),
                    finish_reason=finish,
                    details={"prompt_cache": "reset" if options.fair else "reused"},
                )
            )

    async def choice_probabilities(
        self, prompt: Prompt, choices: tuple[str, ...]
    ) -> dict[str, float]:
        """The probability of each choice as the reply's first token, over the choices only.

        Reads the model's next-token distribution after the prompt, so nothing is generated
        or parsed: the LLM judge's log-prob verdicts. A choice may start with or without a
        space ("1" or " 1"); the likelier spelling counts.
        """
        loaded = await asyncio.get_running_loop().run_in_executor(
            _INFERENCE, load_model, self._locate()
        )
        return await asyncio.get_running_loop().run_in_executor(
            _INFERENCE, self._choice_probabilities, loaded, prompt, choices
        )

    def _choice_probabilities(
        self, loaded: LoadedModel, prompt: Prompt, choices: tuple[str, ...]
    ) -> dict[str, float]:
        import llama_cpp
        import numpy as np

        llama = loaded.llama
        text = _render_chat(loaded, prompt) if prompt.style == "chat" else prompt.text
        with loaded.lock:
            tokens = llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)
            if len(tokens) >= llama.n_ctx():
                raise GenerationError(
                    f"llamacpp:{self.spec.model}: the judge prompt has {len(tokens)} tokens, "
                    f"more than the {llama.n_ctx()}-token context allows"
                )
            llama.reset()  # never a prefix cached from another prompt
            llama.eval(tokens)
            pointer = llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1)
            logits = np.ctypeslib.as_array(pointer, shape=(llama.n_vocab(),)).astype(np.float64)
            # A spelling whose first token all choices share (Gemma's lone " " before a
            # digit) says nothing about which choice follows: only distinct tokens count.
            firsts = [
                {
                    llama.tokenize(spelling.encode("utf-8"), add_bos=False, special=False)[0]
                    for spelling in (choice, " " + choice)
                }
                for choice in choices
            ]
            shared = set.intersection(*firsts) if len(firsts) > 1 else set()
            scores = []
            for choice, tokens in zip(choices, firsts, strict=True):
                distinct = tokens - shared
                if not distinct:
                    raise GenerationError(
                        f"llamacpp:{self.spec.model}: cannot tell {choice!r} from the other "
                        "choices by its first token; use --judge-method text"
                    )
                scores.append(max(logits[token] for token in distinct))
        values = np.array(scores)
        probabilities = np.exp(values - values.max())
        probabilities /= probabilities.sum()
        return {choice: float(p) for choice, p in zip(choices, probabilities, strict=True)}

    async def aclose(self) -> None:
        return None
