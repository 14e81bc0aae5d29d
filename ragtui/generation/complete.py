"""One generator call read to its end: the reply's text and the closing usage."""

from __future__ import annotations

from ragtui.generation.base import GenerationDone, GenerationOptions, Prompt, TextDelta


async def complete(
    generator, prompt: Prompt, options: GenerationOptions
) -> tuple[str, GenerationDone | None]:
    """The whole reply and its ``GenerationDone`` (None when the stream gave none).

    The stream is read to its end rather than left at ``GenerationDone``, so a backend
    that closes its connection after the last event is never cut off.
    """
    pieces: list[str] = []
    done: GenerationDone | None = None
    async for event in generator.stream(prompt, options):
        if isinstance(event, TextDelta):
            pieces.append(event.text)
        elif isinstance(event, GenerationDone):
            done = event
    return "".join(pieces), done
