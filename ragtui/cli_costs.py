"""Before a paid model runs many calls: print the estimated tokens and cost, and ask."""

from __future__ import annotations

import sys

from ragtui.errors import RagtuiError


def _retry_words() -> str:
    """What the estimate's calls include, and what they leave out."""
    from ragtui.generation.remote import RETRY_ATTEMPTS

    return (
        "the calls count every retry of an unreadable reply (each is billed); requests the "
        "server refuses (HTTP 429, 502, 503 or 504, sent again up to "
        f"{RETRY_ATTEMPTS - 1} times each) "
        "are not in the estimate: a refused request generates no tokens, so providers "
        "bill none as a rule"
    )


def confirm_cost(
    who: str,
    spec: str,
    calls: int,
    prompt_chars_each: int,
    completion_tokens_each: int,
    settings,
    yes: bool,
) -> None:
    """Ask before paying: a model with a price in [prices], or a remote one with no price.

    Local models (llama.cpp, servers on this machine) with no price set cost nothing and are
    not asked about. On a pipe, only ``--yes`` lets a paid run start.
    """
    from ragtui.config.specs import parse_generator_spec
    from ragtui.generation import make_generator
    from ragtui.generation.base import Usage, estimate_tokens
    from ragtui.generation.prices import PriceTable

    generator_spec = parse_generator_spec(spec)
    if generator_spec.backend in ("llamacpp", "extractive") or calls == 0:
        return
    runs_locally = make_generator(generator_spec, settings.backends).runs_locally
    prices = PriceTable(settings.prices)
    price = prices.price(generator_spec, runs_locally)
    if price is not None and price.input_per_million == 0 and price.output_per_million == 0:
        return
    if price is None and runs_locally:
        return
    prompt_tokens = calls * estimate_tokens("x" * prompt_chars_each)
    completion_tokens = calls * completion_tokens_each
    cost = prices.cost_usd(
        generator_spec, runs_locally, Usage(prompt_tokens, completion_tokens, estimated=True)
    )
    price_text = f"about ${cost:.4f}" if cost is not None else "cost unknown (no price in [prices])"
    sys.stderr.write(
        f"ragtui: {who} {spec}: up to {calls} calls, about {prompt_tokens:,} tokens in and "
        f"{completion_tokens:,} out (estimated; work already cached is free): {price_text}"
        f"; {_retry_words()}\n"
    )
    if yes:
        return
    if not sys.stdin.isatty():
        raise RagtuiError(f"{who} {spec} is paid: pass --yes to accept the estimate above")
    if input("Go on? [y/N] ").strip().lower() not in {"y", "yes"}:
        raise RagtuiError("stopped before starting: nothing was sent")
