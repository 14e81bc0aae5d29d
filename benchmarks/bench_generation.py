"""Generation benchmarks, each against a baseline measured in this same run.

    python benchmarks/bench_generation.py [--model smollm2] [--tokens 128] [--rounds 3]

1. Decode tokens/s of a ragtui pipeline (bm25 + llamacpp:MODEL, as `ragtui ask` runs it)
   vs calling llama-cpp-python's create_completion directly on the same model, rendered
   prompt and sampling settings (target >= 0.95x). Runs alternate to share any drift.
2. TTFT over 5 repeated runs of the same query in fair mode: the coefficient of variation
   (target <= 10%); and, for contrast, the same with prompt reuse allowed (concurrent).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ragtui.config.settings_file import Settings  # noqa: E402
from ragtui.config.specs import parse_pipeline_spec  # noqa: E402
from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.generation.llamacpp import _render_chat, on_inference_thread  # noqa: E402
from ragtui.index.cache import Indexes  # noqa: E402
from ragtui.pipeline import Finished, make_pipeline  # noqa: E402
from ragtui.prompts import build_prompt  # noqa: E402

QUERY = "Explain in detail how the HB-10 behaves during a power cut and which circuits stay on."


async def pipeline_run(pipeline) -> Finished:
    final = None
    async for event in pipeline.run(QUERY):
        final = event
    assert isinstance(final, Finished), final
    return final


def direct_run(llama, prompt_text: str, max_tokens: int) -> tuple[float, float, int]:
    """(ttft_ms, decode tokens/s, tokens) for llama-cpp-python's own streaming call."""
    llama.reset()
    started = time.monotonic()
    first = last = None
    count = 0
    for _chunk in llama.create_completion(
        prompt_text,
        max_tokens=max_tokens,
        temperature=0.0,
        top_k=40,
        top_p=0.95,
        repeat_penalty=1.1,
        stream=True,
    ):
        now = time.monotonic()
        first = first or now
        last = now
        count += 1
    rate = (count - 1) / (last - first) if count > 1 and last > first else float("nan")
    return (first - started) * 1000, rate, count


def cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    indexes = Indexes(load_corpus(REPO / "sample_corpus"))
    spec = parse_pipeline_spec(f"bm25+llamacpp:{args.model}")
    fair = make_pipeline(spec, indexes, Settings(), k=5, max_tokens=args.tokens, fair=True)
    reuse = make_pipeline(spec, indexes, Settings(), k=5, max_tokens=args.tokens, fair=False)
    generator = fair.generator
    loaded = generator.model()
    hits = fair.retriever.search(QUERY, fair.k).hits
    prompt = build_prompt(generator.prompt_style, QUERY, [hit.text for hit in hits], fair.templates)
    prompt_text = _render_chat(loaded, prompt) if prompt.style == "chat" else prompt.text

    asyncio.run(pipeline_run(fair))  # warm-up: model load, page cache
    ours, theirs = [], []
    for _ in range(args.rounds):
        stats = asyncio.run(pipeline_run(fair)).stats
        ours.append(stats.tokens_per_s)
        # On ragtui's inference thread too: llama.cpp slows down when several threads call it.
        theirs.append(on_inference_thread(direct_run, loaded.llama, prompt_text, args.tokens)[1])
    print(f"## Decode rate, llamacpp:{args.model}, {args.tokens} tokens max, {args.rounds} rounds")
    print(f"llama-cpp-python create_completion : {statistics.median(theirs):7.1f} tok/s")
    print(f"ragtui pipeline (ragtui ask)       : {statistics.median(ours):7.1f} tok/s")
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"ratio ragtui/direct                : {ratio:7.3f}  (target >= 0.95)")

    fair_ttft = [asyncio.run(pipeline_run(fair)).stats.ttft_ms for _ in range(5)]
    reuse_ttft = [asyncio.run(pipeline_run(reuse)).stats.ttft_ms for _ in range(5)]
    print("\n## TTFT over 5 repeated runs of one query")
    print(
        f"fair (prompt cache reset) : {', '.join(f'{v:.0f}' for v in fair_ttft)} ms;"
        f" CV {cv(fair_ttft):.1%} (target <= 10%)"
    )
    print(f"concurrent (reuse allowed): {', '.join(f'{v:.0f}' for v in reuse_ttft)} ms")


if __name__ == "__main__":
    main()
