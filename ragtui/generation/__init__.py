"""Generators behind one streaming interface, registered by spec prefix."""

from __future__ import annotations

from collections.abc import Callable

from ragtui.config.backends import BackendSettings
from ragtui.config.specs import GeneratorSpec, parse_generator_spec
from ragtui.generation.base import (
    GenerationDone,
    GenerationError,
    GenerationEvent,
    GenerationOptions,
    Generator,
    Prompt,
    PromptSource,
    Retrying,
    TextDelta,
    Usage,
)


def _llamacpp(spec: GeneratorSpec, settings: BackendSettings) -> Generator:
    from ragtui.generation.llamacpp import LlamaCppGenerator

    return LlamaCppGenerator(spec)


def _ollama(spec: GeneratorSpec, settings: BackendSettings) -> Generator:
    from ragtui.generation.ollama_backend import OllamaGenerator

    return OllamaGenerator(spec, settings)


def _openai(spec: GeneratorSpec, settings: BackendSettings) -> Generator:
    from ragtui.generation.openai_compat import OpenAICompatGenerator

    return OpenAICompatGenerator(spec, settings)


def _extractive(spec: GeneratorSpec, settings: BackendSettings) -> Generator:
    from ragtui.generation.extractive import ExtractiveGenerator

    return ExtractiveGenerator(spec)


GeneratorFactory = Callable[[GeneratorSpec, BackendSettings], Generator]

GENERATOR_FACTORIES: dict[str, GeneratorFactory] = {
    "llamacpp": _llamacpp,
    "ollama": _ollama,
    "openai": _openai,
    "extractive": _extractive,
}


def make_generator(spec: GeneratorSpec | str, settings: BackendSettings | None = None) -> Generator:
    """A generator for spec; raises GenerationError/SpecError naming what is wrong."""
    parsed = parse_generator_spec(spec) if isinstance(spec, str) else spec
    factory = GENERATOR_FACTORIES.get(parsed.backend)
    if factory is None:
        known = ", ".join(sorted(GENERATOR_FACTORIES))
        raise GenerationError(f"unknown generator backend {parsed.backend!r}: use one of {known}")
    return factory(parsed, settings or BackendSettings.from_env())


__all__ = [
    "GENERATOR_FACTORIES",
    "BackendSettings",
    "GenerationDone",
    "GenerationError",
    "GenerationEvent",
    "GenerationOptions",
    "Generator",
    "Prompt",
    "PromptSource",
    "Retrying",
    "TextDelta",
    "Usage",
    "make_generator",
]
