"""Prompt templates: retrieved passages numbered ``[1]``, ``[2]``… so answers can cite them."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

from ragtui.errors import RagtuiError
from ragtui.generation.base import Prompt, PromptSource, PromptStyle

PASSAGE_CHARS = 1200  # per passage in a prompt: keeps k=5 inside small models' context


@dataclass(frozen=True)
class PromptTemplates:
    """Fields ``{passages}`` and ``{question}`` are filled in; everything else is literal."""

    system: str = (
        "You answer questions using only the numbered passages you are given. "
        "Answer in one to three sentences and cite the passages you used like [1]. "
        "If the passages do not contain the answer, say that you do not know."
    )
    user: str = "Passages:\n{passages}\n\nQuestion: {question}"
    # For base (non-chat) models: plain text that a continuation completes.
    completion: str = (
        "Read the passages and answer the question in one sentence.\n\n"
        "{passages}\n\nQuestion: {question}\nShort answer:"
    )

    def validate(self, where: str) -> None:
        for name in ("user", "completion"):
            template = getattr(self, name)
            try:
                placeholders = {
                    field for _, field, _, _ in string.Formatter().parse(template) if field
                }
            except ValueError as error:
                raise RagtuiError(
                    f"{where}: prompts.{name} is not a valid template ({error})"
                ) from None
            unknown = placeholders - {"passages", "question"}
            if unknown:
                raise RagtuiError(
                    f"{where}: prompts.{name} uses {{{sorted(unknown)[0]}}}; "
                    "only {passages} and {question} are filled in"
                )


def numbered_passages(texts: Sequence[str]) -> str:
    lines = []
    for number, text in enumerate(texts, start=1):
        flat = " ".join(text.split())
        if len(flat) > PASSAGE_CHARS:
            flat = flat[: PASSAGE_CHARS - 1] + "…"
        lines.append(f"[{number}] {flat}")
    return "\n".join(lines)


def build_prompt(
    style: PromptStyle, question: str, passages: Sequence[str], templates: PromptTemplates
) -> Prompt:
    """The prompt for one question in the generator's style (chat messages or plain text)."""
    values = {"passages": numbered_passages(passages), "question": question.strip()}
    source = PromptSource(question, tuple(passages))
    if style == "completion":
        return Prompt("completion", text=templates.completion.format(**values), source=source)
    messages = (
        {"role": "system", "content": templates.system},
        {"role": "user", "content": templates.user.format(**values)},
    )
    return Prompt("chat", messages=messages, source=source)
