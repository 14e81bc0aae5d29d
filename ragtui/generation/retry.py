"""How a reply that cannot be read is asked for again: the first try greedy, later tries
sampled, each with its own seed. One policy for the test-set generator and the judge, and
the cost estimates count calls from it."""

from __future__ import annotations

from dataclasses import dataclass

from ragtui.generation.base import GenerationOptions

# Sampling for a retry: greedy decoding would repeat the unreadable reply word for word;
# 0.7 changes the reply while a small model still keeps to the format.
RETRY_TEMPERATURE = 0.7


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # calls at most, the first included
    retry_temperature: float = RETRY_TEMPERATURE

    def options(self, attempt: int, *, max_tokens: int, seed: int = 0) -> GenerationOptions:
        """Options for try number ``attempt`` (0 is the first)."""
        return GenerationOptions(
            max_tokens=max_tokens,
            temperature=0.0 if attempt == 0 else self.retry_temperature,
            seed=seed + attempt,
            fair=False,
        )

    def settings(self) -> dict[str, float | int]:
        """What a stored result records about the policy (part of what it was made with)."""
        return {"attempts": self.attempts, "retry_temperature": self.retry_temperature}
