"""Cost per generation from a price table (USD per million input/output tokens).

Local backends cost 0. Anything else needs an entry, keyed by its full generator spec
(``openai:gpt-4o-mini``) or by its backend (``ollama``); without one the cost is unknown
(None), never silently 0.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

from ragtui.config.specs import GeneratorSpec
from ragtui.generation.base import Usage

FREE_BACKENDS = frozenset({"llamacpp", "extractive"})


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


def default_prices() -> dict[str, Price]:
    table = tomllib.loads(files("ragtui.generation").joinpath("prices.toml").read_text())
    return {key: Price(**value) for key, value in table.items()}


class PriceTable:
    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices = dict(default_prices())
        self.prices.update(prices or {})

    def price(self, spec: GeneratorSpec, runs_locally: bool) -> Price | None:
        found = self.prices.get(str(spec)) or self.prices.get(spec.backend)
        if found is not None:
            return found
        if spec.backend in FREE_BACKENDS or (spec.backend == "ollama" and runs_locally):
            return Price(0.0, 0.0)
        return None

    def cost_usd(self, spec: GeneratorSpec, runs_locally: bool, usage: Usage) -> float | None:
        price = self.price(spec, runs_locally)
        if price is None or usage.prompt_tokens is None or usage.completion_tokens is None:
            return None
        return (
            usage.prompt_tokens * price.input_per_million
            + usage.completion_tokens * price.output_per_million
        ) / 1_000_000
