"""The blind labeling session: one query and one pooled passage at a time (no Textual).

What a person sees is only the question, the passage (or document) text and how far they
are; never which retriever found the passage, its rank, or any automatic label, so nothing
but the text sways the grade. A grade goes into the corpus's label store anchored to its
text (``source`` "label screen (blind)") and counts as saved only once the append returned
from fsync. Pairs already graded (in an earlier session, an import or the compare screen)
are not asked again, so a new session resumes where the last one stopped.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ragtui.judging.label_queue import (
    BLIND_SOURCE,
    LabelQueue,
    QueuePair,
    graded_pairs,
    pair_key,
)
from ragtui.judging.store import GRADES, JudgmentStore, Label

# A pause longer than this (a break, a phone call) is not a person's pace.
LONGEST_PACE_S = 120.0
# "about 11 min left" needs a few grades to mean anything.
PACE_AFTER_GRADES = 3


@dataclass(frozen=True)
class Step:
    """One action, for undo: a grade (of pair ``index``) or a skip."""

    kind: str  # "grade" | "skip"
    index: int


class LabelingSession:
    def __init__(
        self,
        queue: LabelQueue,
        store: JudgmentStore,
        chunking: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.store = store
        self.chunking = chunking
        self._clock = clock
        self.grades: dict[tuple, int] = graded_pairs(store, queue)
        self.graded_before = len(self.grades)
        self.skipped: set[int] = set()
        self.steps: list[Step] = []
        self.paces_s: list[float] = []
        self.status = ""
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragtui-labels")
        self._query_order = list(dict.fromkeys(pair.query_id for pair in queue.pairs))
        self.position: int | None = None
        self._move_from(-1)

    # what is shown -----------------------------------------------------------------------

    @property
    def unit(self) -> str:
        pairs = self.queue.pairs
        return "document" if pairs and pairs[0].judged.passage_id is None else "passage"

    @property
    def done(self) -> bool:
        return self.position is None

    @property
    def current(self) -> QueuePair | None:
        return None if self.position is None else self.queue.pairs[self.position]

    def is_graded(self, index: int) -> bool:
        return pair_key(self.queue.pairs[index]) in self.grades

    @property
    def remaining(self) -> int:
        return sum(1 for index in range(len(self.queue.pairs)) if not self.is_graded(index))

    def progress_line(self) -> str:
        """ "query 4 of 20 · passage 7 of 15 · about 11 min left at your pace"."""
        pair = self.current
        if pair is None:
            return f"all {len(self.queue.pairs)} {self.unit}s graded"
        same_query = [p for p in self.queue.pairs if p.query_id == pair.query_id]
        assert self.position is not None
        within = same_query.index(self.queue.pairs[self.position]) + 1
        query_number = self._query_order.index(pair.query_id) + 1
        parts = [
            f"query {query_number} of {len(self._query_order)}",
            f"{self.unit} {within} of {len(same_query)}",
        ]
        if len(self.paces_s) >= PACE_AFTER_GRADES:
            left_min = self.remaining * statistics.median(self.paces_s) / 60
            parts.append(
                f"about {max(1, round(left_min))} min left at your pace"
                if left_min >= 1
                else "under a minute left at your pace"
            )
        else:
            parts.append(f"{self.remaining} left")
        return " · ".join(parts)

    def summary(self) -> str:
        made = len(self.grades) - self.graded_before
        return (
            f"{made} grades made this session; {len(self.grades)} of {len(self.queue.pairs)} "
            f"pairs graded ({self.remaining} left: run the same command to go on)"
        )

    # moving ------------------------------------------------------------------------------

    def _move_from(self, index: int) -> None:
        """To the next pair after index not graded and not skipped; then back to skipped
        ones; None when every pair is graded."""
        count = len(self.queue.pairs)
        for candidate in range(index + 1, count):
            if not self.is_graded(candidate) and candidate not in self.skipped:
                self._show(candidate)
                return
        for candidate in range(count):
            if not self.is_graded(candidate) and candidate not in self.skipped:
                self._show(candidate)
                return
        ungraded = [candidate for candidate in range(count) if not self.is_graded(candidate)]
        self.skipped.clear()  # only skipped pairs are left: ask about them again
        if ungraded:
            self._show(next((c for c in ungraded if c > index), ungraded[0]))
        else:
            self.position = None

    def _show(self, index: int) -> None:
        self.position = index
        self.mark_shown()

    def mark_shown(self) -> None:
        """The current pair is on screen from now (its grade's pace counts from here)."""
        self._shown_at = self._clock()

    # acting ------------------------------------------------------------------------------

    async def _on_disk(self, label: Label) -> None:
        job = asyncio.get_running_loop().run_in_executor(self._io, self.store.add_label, label)
        await asyncio.shield(job)

    async def grade(self, grade: int) -> None:
        """Grade the current pair; returns once it is on disk, then shows the next."""
        if grade not in GRADES:
            raise ValueError(f"grade {grade!r}: use 0, 1, 2 or 3")
        if self.position is None:
            return
        index, pair = self.position, self.queue.pairs[self.position]
        pace_s = self._clock() - self._shown_at
        self.status = "saving…"
        await self._on_disk(pair.label(grade, self.chunking, BLIND_SOURCE))
        self.grades[pair_key(pair)] = grade
        self.paces_s.append(min(pace_s, LONGEST_PACE_S))
        self.steps.append(Step("grade", index))
        self.skipped.discard(index)
        self.status = f"saved: grade {grade}"
        self._move_from(index)

    def skip(self) -> None:
        if self.position is None:
            return
        index = self.position
        self.steps.append(Step("skip", index))
        self.skipped.add(index)
        self.status = "skipped: asked again at the end"
        self._move_from(index)

    async def undo(self) -> None:
        """Take back the last grade or skip of this session and show that pair again."""
        if not self.steps:
            self.status = "nothing to undo in this session"
            return
        step = self.steps[-1]
        pair = self.queue.pairs[step.index]
        if step.kind == "grade":
            self.status = "saving…"
            await self._on_disk(pair.label(None, self.chunking, BLIND_SOURCE))
        self.steps.pop()  # only once the clear is on disk: a failed write can be retried
        if step.kind == "grade":
            self.grades.pop(pair_key(pair), None)
            if self.paces_s:
                self.paces_s.pop()
            self.status = "undone: the grade is cleared"
        else:
            self.skipped.discard(step.index)
            self.status = "undone: the skip"
        self._show(step.index)

    def close(self) -> None:
        """Wait for every write queued (a quit right after a grade keeps it)."""
        self._io.shutdown(wait=True)
