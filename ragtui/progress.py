"""How far a long run is: one report type for every long piece of work (embedding passages,
writing to an engine, answering a grid, judging, grading a pool), and the callback that
takes it. Its own module at the bottom of the layers, so the judging, test-set and
experiment code report progress without importing the encoders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkProgress:
    """How far a long run is; ``eta_s`` is None until a rate is known."""

    done: int
    total: int
    elapsed_s: float
    action: str = "embedding"  # what is done: "embedding", "writing to milvus", "judging"
    unit: str = "passages"  # what is counted: passages, answers, verdicts
    note: str = ""  # running counts beside the bar, e.g. "kept 12 · dropped 30"

    @property
    def eta_s(self) -> float | None:
        if self.done == 0 or self.elapsed_s <= 0:
            return None
        return (self.total - self.done) * self.elapsed_s / self.done


ProgressCallback = Callable[[WorkProgress], None]
