"""What a test set is asked to be: who writes and checks its questions, how many, which
filters; and the settings a stopped run must share to be resumed into the same set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragtui.testsets.attempts import OVERLAP_RETRY, QUESTION_RETRY

FILTERS = ("generic", "copied", "duplicate", "language", "roundtrip")


@dataclass(frozen=True)
class TestsetPlan:
    __test__ = False  # a pytest-style name, not a test class

    name: str
    generator: str
    count: int = 100
    seed: int = 0
    checker: str | None = None
    enabled: tuple[str, ...] = FILTERS
    max_tokens: int = 96
    # Opt-in: drop a question when more than this share of its content words are in its
    # passage (the lexical bias that favours BM25); None keeps them all.
    max_overlap: float | None = None

    @property
    def checker_spec(self) -> str:
        return self.checker or self.generator

    def settings(self) -> dict[str, Any]:
        """What must match for a stopped run to be resumed into the same set. The count is
        not among them: the sample for a larger -n begins with the sample for a smaller
        one, so a larger -n grows the set without asking about any passage again."""
        # Keys and shapes as sets have always stored them, so older sets still resume.
        settings: dict[str, Any] = {
            "generator": self.generator,
            "checker": self.checker_spec,
            "seed": self.seed,
            "filters": {name: name in self.enabled for name in FILTERS},
            "sampling": {
                "temperature": 0.0,
                "retry_temperature": QUESTION_RETRY.retry_temperature,
                "max_tokens": self.max_tokens,
            },
            "attempts": QUESTION_RETRY.attempts,
        }
        if self.max_overlap is None:
            return settings
        return settings | {
            "max_overlap": self.max_overlap,
            "overlap_attempts": OVERLAP_RETRY.attempts,
        }
