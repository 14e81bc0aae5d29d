"""How many calls one passage may cost: the generator's tries for a question and the
checker's round-trip answer. The generator asks by these policies and the cost estimate
counts from them, so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from ragtui.generation.retry import RetryPolicy

# A second try (sampled, not greedy) when the first reply has no question.
QUESTION_RETRY = RetryPolicy(attempts=2)
# With --max-overlap: up to this many tries (the first greedy, then sampled) for a question
# that passes the cheap filters and the cap; on Cranfield only about one kept greedy
# question in ten had at most 60% of its content words in its passage.
OVERLAP_RETRY = RetryPolicy(attempts=4)
# The round-trip answer: one greedy call (an unreadable answer is a failed check).
CHECK_RETRY = RetryPolicy(attempts=1)
CHECK_MAX_TOKENS = 48


def question_retry(max_overlap: float | None) -> RetryPolicy:
    return QUESTION_RETRY if max_overlap is None else OVERLAP_RETRY


@dataclass(frozen=True)
class CallsPerPassage:
    """The most calls one passage can take, by who answers them."""

    questions: int  # to the generator
    checks: int  # to the checker (the generator itself unless --checker names another)

    @property
    def total(self) -> int:
        return self.questions + self.checks


def calls_per_passage(max_overlap: float | None, roundtrip: bool) -> CallsPerPassage:
    return CallsPerPassage(
        questions=question_retry(max_overlap).attempts,
        checks=CHECK_RETRY.attempts if roundtrip else 0,
    )
