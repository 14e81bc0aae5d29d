"""An OpenAI-compatible chat server whose every misbehaviour is chosen by the model name.

Real servers fail in ways that cannot be provoked on demand (a gateway's 503, a proxy
that cuts a stream, a buggy server that never stops), so the fault tests run this one on
127.0.0.1 and name the fault as the model: ``ok``, ``hostile``, ``malformed``,
``http500``, ``http500-hostile`` (terminal codes in its message), ``http500-empty``,
``http503-twice`` (503 for the first two requests, then an answer), ``http429-always``,
``cut``, ``endless``, ``silent-endless`` (keep-alive chunks with no text, forever),
``slow-first-byte``, ``delay-S`` (a correct answer after S seconds; ``/health`` reports
the most requests each model had in flight at once).

``judge-first``, ``judge-planted``, ``judge-garbage``, ``judge-chatty``, ``judge-hostile``
and ``judge-tenpoint`` are LLM judges with a known behaviour (see ``_judge_reply``);
``judge-busy`` refuses every odd-numbered request with a 503 and answers "1" to the others
(so each call, made one at a time, is sent twice).

``label-planted``, ``label-garbage``, ``label-flaky`` and ``label-down`` are relevance
labellers with a known behaviour (see ``_label_reply``).

``qgen`` (and ``qgen-delay-S``) writes test-set questions: each passage carries a token
``qgen:BASE64`` of a JSON object whose ``reply`` is what to answer a question prompt and
``check`` what to answer a round-trip prompt ("Short answer" in the prompt); ``retry``, if
given, answers a question prompt sampled with a temperature above 0; ``fail_first``, if
given, is how many requests for that passage fail with HTTP 500 before it is answered (a
backend that went down and came back). The token is one opaque word, so it never makes a
question look copied from its passage.

``qgen-hold-N`` is ``qgen`` that answers its first N requests and then holds every later
one unanswered until ``POST /release/qgen-hold-N`` (``/health`` lists the requests held
now under ``held``): a run stopped while it waits, at a point the test can observe.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
from collections import Counter

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# Everything a model's output might throw at a terminal: markup, ANSI and OSC escapes
# (an OSC 8 link, a title change), NUL and other controls, bidi overrides, C1 CSI, and
# a 10,000-character token with no break in it.
HOSTILE_ANSWER = [
    "[bold red]not markup[/] ",
    "\x1b[31mred\x1b[0m ",
    "\x1b]0;pwned title\x07",
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ ",
    "nul\x00bell\x07back\x08 ",
    "\u202eevil\u202c ",
    "\x9b31mcsi ",
    "x" * 10_000,
    " **done**",
]
requests_seen: Counter[str] = Counter()
failed_for_token: Counter[str] = Counter()
held: Counter[str] = Counter()
released: dict[str, asyncio.Event] = {}
in_flight: Counter[str] = Counter()
peak_in_flight: Counter[str] = Counter()


def _chunk(text: str | None = None, finish: str | None = None, usage: dict | None = None) -> str:
    body: dict = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "choices": [] if usage else [{"index": 0, "delta": {}, "finish_reason": finish}],
    }
    if text is not None:
        body["choices"][0]["delta"]["content"] = text
    if usage:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n"


def _answer(pieces: list[str]):
    async def events():
        for piece in pieces:
            yield _chunk(piece)
            await asyncio.sleep(0.01)
        yield _chunk(finish="stop")
        yield _chunk(usage={"prompt_tokens": 12, "completion_tokens": len(pieces)})
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


def _judge_reply(model: str, prompt: str) -> str:
    """Scripted judges: ``judge-first`` always prefers the answer shown first;
    ``judge-planted`` prefers the answer holding the word PREFERRED (a tie when neither
    or both do); ``judge-garbage`` never names a verdict; ``judge-chatty`` puts its
    verdict after a sentence of talk; ``judge-hostile`` prefers the first answer and grades
    3, with a bidi override and an 8-bit CSI around its verdict; ``judge-tenpoint`` grades
    on a 10-point scale ("10/10") and picks answer 2."""
    pairwise = "Answer 1:" in prompt
    if model == "judge-garbage":
        return "Hmm, let me think about this carefully."
    if model == "judge-hostile":
        return ("1" if pairwise else "3") + " \u202eevil\u202c \x9b31mcsi"
    if model == "judge-tenpoint":
        return "2" if pairwise else "10/10"
    if model == "judge-first":
        return "1" if pairwise else "3"
    if not pairwise:
        return "5" if "PREFERRED" in prompt else "2"
    first = prompt.split("Answer 1:", 1)[1].split("Answer 2:", 1)[0]
    second = prompt.split("Answer 2:", 1)[1]
    verdict = "tie"
    if ("PREFERRED" in first) != ("PREFERRED" in second):
        verdict = "1" if "PREFERRED" in first else "2"
    if model == "judge-chatty":
        return f"Looking at both, the better one is answer {verdict}. It is clearer."
    return verdict


def _candidate(prompt: str) -> str:
    """The passage a labeller prompt asks about: after its last "Passage:" heading."""
    return prompt.rsplit("Passage:", 1)[-1].split("\n\n", 1)[0].strip()


def _label_reply(model: str, prompt: str, temperature: float) -> Response:
    """Scripted relevance labellers. A grading prompt (it asks for "0, 1, 2 or 3") is
    answered by ``label-planted`` with the digit of the word ``plantedN`` in the passage
    asked about (0 without one); a reader prompt with that passage's first sentence.
    ``label-garbage`` grades on other scales ("80%", then "10/10" when sampled);
    ``label-flaky`` is ``label-planted`` whose first request about a passage holding a word
    ``flaky-ID`` fails with HTTP 500 (once per ID); ``label-down`` always fails."""
    passage = _candidate(prompt)
    if model == "label-down":
        return JSONResponse({"error": {"message": "labeller backend is down"}}, 500)
    flaky = re.search(r"\bflaky-[A-Za-z0-9]+", passage)
    if model == "label-flaky" and flaky and not failed_for_token[flaky.group(0)]:
        failed_for_token[flaky.group(0)] += 1
        return JSONResponse({"error": {"message": "backend restarting"}}, 500)
    grading = "0, 1, 2 or 3" in prompt
    if model == "label-garbage":
        return _answer(["10/10" if temperature > 0 else "80%"])
    if not grading:
        return _answer([passage.split(". ", 1)[0]])
    planted = re.search(r"\bplanted([0-3])\b", passage)
    return _answer([f"Relevance: {planted.group(1) if planted else 0}"])


async def chat(request: Request) -> Response:
    body = await request.json()
    model = str(body.get("model"))
    requests_seen[model] += 1
    if model == "ok":
        return _answer(["The HB-15 ", "weighs ", "142 kg."])
    if model == "hostile":
        return _answer(HOSTILE_ANSWER)
    if model == "malformed":

        async def malformed():
            yield _chunk("Half an ")
            yield "data: {this is not json\n\n"

        return StreamingResponse(malformed(), media_type="text/event-stream")
    if model == "http500":
        return JSONResponse({"error": {"message": "model crashed: out of memory"}}, 500)
    if model == "http500-hostile":  # a server message that would move the cursor and clear
        return JSONResponse({"error": {"message": "crashed\x1b[2J\x1b[H\x9b31m now"}}, 500)
    if model == "http500-empty":
        return Response(status_code=500)
    if model == "judge-busy":
        if requests_seen[model] % 2:
            return Response("overloaded", status_code=503, headers={"Retry-After": "0"})
        return _answer(["1"])
    if model == "http503-twice":
        if requests_seen[model] <= 2:
            return Response("overloaded", status_code=503, headers={"Retry-After": "0"})
        return _answer(["Answered ", "after retries."])
    if model == "http429-always":
        return JSONResponse({"error": {"message": "rate limited"}}, 429)
    if model == "cut":

        async def cut():
            yield _chunk("Partial ")
            yield _chunk("answer ")
            await asyncio.sleep(0.05)
            raise ConnectionResetError("cut by the test server")

        return StreamingResponse(cut(), media_type="text/event-stream")
    if model in ("endless", "silent-endless"):
        text = "more " if model == "endless" else None

        async def endless():
            while True:
                yield _chunk(text) if text else _chunk("")
                await asyncio.sleep(0.005)

        return StreamingResponse(endless(), media_type="text/event-stream")
    if model == "qgen" or model.startswith(("qgen-delay-", "qgen-hold-")):
        if model.startswith("qgen-delay-"):
            await asyncio.sleep(float(model.removeprefix("qgen-delay-")))
        if model.startswith("qgen-hold-") and requests_seen[model] > int(model.split("-")[2]):
            held[model] += 1
            try:
                await released.setdefault(model, asyncio.Event()).wait()
            finally:
                held[model] -= 1
        prompt = "\n".join(str(message.get("content", "")) for message in body["messages"])
        token = re.search(r"qgen:([A-Za-z0-9+/=]+)", prompt)
        script = json.loads(base64.b64decode(token.group(1))) if token else {}
        if token and failed_for_token[token.group(1)] < int(script.get("fail_first", 0)):
            failed_for_token[token.group(1)] += 1
            return JSONResponse({"error": {"message": "backend restarting"}}, 500)
        key = "check" if "Short answer" in prompt else "reply"
        if key == "reply" and body.get("temperature", 0) > 0 and "retry" in script:
            key = "retry"  # a sampled try gets another question, as a real model might
        return _answer([str(script.get(key, "I cannot help with that."))])
    if model.startswith("label-"):
        prompt = "\n".join(str(message.get("content", "")) for message in body["messages"])
        return _label_reply(model, prompt, float(body.get("temperature") or 0))
    if model.startswith("judge-"):
        prompt = "\n".join(str(message.get("content", "")) for message in body["messages"])
        return _answer([_judge_reply(model, prompt)])
    if model.startswith("delay-"):
        in_flight[model] += 1
        peak_in_flight[model] = max(peak_in_flight[model], in_flight[model])
        try:
            await asyncio.sleep(float(model.removeprefix("delay-")))
        finally:
            in_flight[model] -= 1
        return _answer(["The HB-15 ", "weighs ", "142 kg."])
    if model == "slow-first-byte":
        await asyncio.sleep(30)
        return _answer(["too late"])
    return JSONResponse({"error": {"message": f"model {model!r} not found"}}, 404)


async def health(request: Request) -> Response:
    return JSONResponse(
        {
            "requests": dict(requests_seen),
            "peak_in_flight": dict(peak_in_flight),
            "held": dict(held),
        }
    )


async def release(request: Request) -> Response:
    released.setdefault(request.path_params["model"], asyncio.Event()).set()
    return JSONResponse({"released": request.path_params["model"]})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/health", health),
        Route("/release/{model}", release, methods=["POST"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
