"""A small server that speaks Ollama's documented REST API over a real llama.cpp model.

No Ollama binary can be installed on these machines, so the Ollama backend is tested
against this. It follows Ollama's docs/api.md (0.12): ``GET /api/version``,
``GET /api/tags``, ``POST /api/chat`` (NDJSON stream; the final object carries ``done``,
``done_reason``, ``total_duration``, ``load_duration``, ``prompt_eval_count``,
``prompt_eval_duration``, ``eval_count`` and ``eval_duration`` in nanoseconds; an
unknown model is a 404 with ``{"error": "model \\"x\\" not found, try pulling it
first"}``), and docs/openai.md's ``POST /v1/chat/completions`` with
``stream_options.include_usage`` (a last chunk with empty ``choices`` and ``usage``).

Counting: prompt tokens are the chat-formatted prompt tokenized by the model; completion
tokens are the tokens the stream produced (one llama.cpp stream chunk per token).

    python -m tests.servers.ollama_server --model FILE.gguf --name NAME --port P
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def build_app(model_path: str, name: str) -> Starlette:
    load_started = time.perf_counter_ns()
    llm = Llama(model_path=model_path, n_ctx=4096, verbose=False)
    load_ns = time.perf_counter_ns() - load_started
    formatter = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token=llm.detokenize([llm.token_eos()]).decode(),
        bos_token=llm.detokenize([llm.token_bos()]).decode(),
    )
    lock = threading.Lock()
    names = {name, f"{name}:latest"}
    busy_seen: dict[str, int] = {}

    def not_found(model: str) -> JSONResponse:
        return JSONResponse(
            {"error": f'model "{model}" not found, try pulling it first'}, status_code=404
        )

    def generate(messages: list[dict], options: dict):
        """(text chunk | None, facts) pairs; the last has the counts and durations."""
        prompt = formatter(messages=messages).prompt
        with lock:
            llm.reset()
            started = time.perf_counter_ns()
            prompt_count = len(llm.tokenize(prompt.encode(), add_bos=True, special=True))
            first_token_at = None
            eval_count = 0
            finish = "stop"
            for chunk in llm.create_completion(
                prompt,
                max_tokens=int(options.get("num_predict", 128)),
                temperature=float(options.get("temperature", 0.8)),
                seed=int(options.get("seed", 0)),
                stop=options.get("stop") or None,
                stream=True,
            ):
                choice = chunk["choices"][0]
                if choice.get("text"):
                    eval_count += 1
                    first_token_at = first_token_at or time.perf_counter_ns()
                    yield choice["text"], None
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
            ended = time.perf_counter_ns()
            first_token_at = first_token_at or ended
            yield (
                None,
                {
                    "done_reason": finish,
                    "total_duration": ended - started,
                    "load_duration": load_ns,
                    "prompt_eval_count": prompt_count,
                    "prompt_eval_duration": first_token_at - started,
                    "eval_count": eval_count,
                    "eval_duration": max(ended - first_token_at, 1),
                },
            )

    async def version(request: Request) -> JSONResponse:
        return JSONResponse({"version": "0.12.0"})

    async def tags(request: Request) -> JSONResponse:
        size = Path(model_path).stat().st_size
        return JSONResponse(
            {
                "models": [
                    {
                        "name": f"{name}:latest",
                        "model": f"{name}:latest",
                        "modified_at": now(),
                        "size": size,
                        "digest": uuid.uuid5(uuid.NAMESPACE_URL, model_path).hex,
                        "details": {"format": "gguf", "family": "llama"},
                    }
                ]
            }
        )

    async def chat(request: Request):
        body = await request.json()
        model = body.get("model", "")
        if model.endswith(("@busy2", "@busy2-retry-after-0")):
            # Test hook: the first two requests for NAME@busy2 meet a full queue, as Ollama
            # answers when more requests wait than OLLAMA_MAX_QUEUE allows; with
            # -retry-after-0 the answer also says when to come back (a proxy in front would).
            busy_seen[model] = busy_seen.get(model, 0) + 1
            if busy_seen[model] <= 2:
                headers = {"Retry-After": "0"} if model.endswith("retry-after-0") else None
                return JSONResponse(
                    {"error": "server busy, please try again.  maximum pending requests exceeded"},
                    status_code=503,
                    headers=headers,
                )
            model = model.partition("@")[0]
        if model.endswith("@endless"):
            # Test hook: a server stuck in a loop, streaming text that never ends.
            def endless():
                while True:
                    record = {"model": model, "created_at": now(), "done": False}
                    record["message"] = {"role": "assistant", "content": "more "}
                    yield json.dumps(record) + "\n"
                    time.sleep(0.01)

            return StreamingResponse(endless(), media_type="application/x-ndjson")
        if model not in names:
            return not_found(model)
        messages = body.get("messages") or []
        options = body.get("options") or {}

        def lines():
            for text, facts in generate(messages, options):
                record = {"model": model, "created_at": now()}
                if facts is None:
                    record |= {"message": {"role": "assistant", "content": text}, "done": False}
                else:
                    record |= {"message": {"role": "assistant", "content": ""}, "done": True}
                    record |= facts
                yield json.dumps(record) + "\n"

        if body.get("stream", True):
            return StreamingResponse(lines(), media_type="application/x-ndjson")
        text, facts = "", {}
        for piece, final in generate(messages, options):
            text += piece or ""
            facts = final or facts
        return JSONResponse(
            {
                "model": model,
                "created_at": now(),
                "message": {"role": "assistant", "content": text},
                "done": True,
            }
            | facts
        )

    async def openai_chat(request: Request):
        body = await request.json()
        model = body.get("model", "")
        if model not in names:
            return JSONResponse(
                {"error": {"message": f"model '{model}' not found", "type": "api_error"}},
                status_code=404,
            )
        options = {
            "num_predict": body.get("max_tokens", 128),
            "temperature": body.get("temperature", 1.0),
            "seed": body.get("seed", 0),
            "stop": body.get("stop"),
        }
        include_usage = (body.get("stream_options") or {}).get("include_usage", False)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:8]}"

        def events():
            def chunk(choices: list, **extra) -> str:
                record = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": choices,
                } | extra
                return f"data: {json.dumps(record)}\n\n"

            for text, facts in generate(body.get("messages") or [], options):
                if facts is None:
                    yield chunk([{"index": 0, "delta": {"content": text}, "finish_reason": None}])
                    continue
                reason = "length" if facts["done_reason"] == "length" else "stop"
                yield chunk([{"index": 0, "delta": {}, "finish_reason": reason}])
                if include_usage:
                    usage = {
                        "prompt_tokens": facts["prompt_eval_count"],
                        "completion_tokens": facts["eval_count"],
                        "total_tokens": facts["prompt_eval_count"] + facts["eval_count"],
                    }
                    yield chunk([], usage=usage)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/api/version", version),
            Route("/api/tags", tags),
            Route("/api/chat", chat, methods=["POST"]),
            Route("/v1/chat/completions", openai_chat, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.model, args.name), host="127.0.0.1", port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
