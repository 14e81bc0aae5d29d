"""The blind voting session: one drawn (query, pipeline pair) item at a time (no Textual).

What a person sees is the question and two answers, left and right in the order drawn for
the item; never which pipeline wrote which, the judge's verdict, timings or costs. A vote
goes into the corpus's vote store with the run id, the item id, its inclusion probability
and the draw (``VoteDraw.vote``), and counts as saved only once the append returned from
fsync. Items already voted on (in an earlier session of this run) are not asked again, so
a new session resumes where the last one stopped.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ragtui.judging.store import VOTE_CHOICES, JudgmentStore
from ragtui.judging.vote_queue import QueuedItem, VoteDraw, queue_votes

LONGEST_PACE_S = 300.0  # a longer pause (a break) is not the person's pace
PACE_AFTER_VOTES = 3
CHOICE_WORDS = {"a": "left better", "b": "right better", "tie": "tie", "both_bad": "both bad"}


@dataclass(frozen=True)
class Step:
    kind: str  # "vote" | "skip"
    index: int


class VotingSession:
    def __init__(
        self,
        queue: VoteDraw,
        store: JudgmentStore,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.store = store
        self._clock = clock
        # item id → choice, for this run's items (from any earlier session)
        self.choices: dict[str, str] = {
            item: vote.choice for item, vote in queue_votes(store.votes(), queue.run_id).items()
        }
        self.voted_before = sum(1 for q in queue.queued if q.item.item_id in self.choices)
        self.skipped: set[int] = set()
        self.steps: list[Step] = []
        self.paces_s: list[float] = []
        self.status = ""
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragtui-votes")
        self.position: int | None = None
        self._shown_at = clock()
        self._move_from(-1)

    @property
    def done(self) -> bool:
        return self.position is None

    @property
    def current(self) -> QueuedItem | None:
        return None if self.position is None else self.queue.queued[self.position]

    def is_voted(self, index: int) -> bool:
        return self.queue.queued[index].item.item_id in self.choices

    @property
    def voted(self) -> int:
        return sum(1 for index in range(len(self.queue.queued)) if self.is_voted(index))

    @property
    def remaining(self) -> int:
        return len(self.queue.queued) - self.voted

    def progress_line(self) -> str:
        """ "item 4 of 40 · 12 voted · about 9 min left at your pace"."""
        total = len(self.queue.queued)
        if self.position is None:
            return f"all {total} drawn pairs voted"
        parts = [f"item {self.position + 1} of {total}", f"{self.voted} voted"]
        if len(self.paces_s) >= PACE_AFTER_VOTES:
            pace = statistics.median(self.paces_s)
            left_min = self.remaining * pace / 60
            parts.append(
                f"about {max(1, round(left_min))} min left at your pace ({pace:.0f} s a vote)"
                if left_min >= 1
                else "under a minute left at your pace"
            )
        else:
            parts.append(f"{self.remaining} left")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return " · ".join(parts)

    def summary(self) -> str:
        made = self.voted - self.voted_before
        return (
            f"{made} votes made this session; {self.voted} of {len(self.queue.queued)} drawn "
            f"pairs voted ({self.remaining} left: run the same command to go on)"
        )

    def _move_from(self, index: int) -> None:
        """To the next unvoted, unskipped item after index; then back to skipped ones."""
        count = len(self.queue.queued)
        order = [*range(index + 1, count), *range(0, index + 1)]
        for candidate in order:
            if not self.is_voted(candidate) and candidate not in self.skipped:
                self._show(candidate)
                return
        unvoted = [candidate for candidate in order if not self.is_voted(candidate)]
        self.skipped.clear()  # only skipped items are left: ask about them again
        if unvoted:
            self._show(unvoted[0])
        else:
            self.position = None

    def _show(self, index: int) -> None:
        self.position = index
        self.mark_shown()

    def mark_shown(self) -> None:
        self._shown_at = self._clock()

    async def _on_disk(self, job: Callable[[], None]) -> None:
        await asyncio.shield(asyncio.get_running_loop().run_in_executor(self._io, job))

    async def vote(self, choice: str) -> None:
        """Vote on the current item; returns once it is on disk, then shows the next."""
        if choice not in VOTE_CHOICES:
            raise ValueError(f"vote {choice!r}: use one of {', '.join(VOTE_CHOICES)}")
        if self.position is None:
            return
        index, queued = self.position, self.queue.queued[self.position]
        pace_s = self._clock() - self._shown_at
        record = self.queue.vote(queued, choice, time.time())
        self.status = "saving…"
        await self._on_disk(lambda: self.store.add_vote(record))
        self.choices[queued.item.item_id] = choice
        self.paces_s.append(min(pace_s, LONGEST_PACE_S))
        self.steps.append(Step("vote", index))
        self.skipped.discard(index)
        self.status = f"saved: {CHOICE_WORDS[choice]}"
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
        """Take back the last vote or skip of this session and show that item again."""
        if not self.steps:
            self.status = "nothing to undo in this session"
            return
        step = self.steps[-1]
        item_id = self.queue.queued[step.index].item.item_id
        if step.kind == "vote":
            self.status = "saving…"
            await self._on_disk(lambda: self.store.clear_queue_vote(self.queue.run_id, item_id))
        self.steps.pop()  # only once the clear is on disk: a failed write can be retried
        if step.kind == "vote":
            self.choices.pop(item_id, None)
            if self.paces_s:
                self.paces_s.pop()
            self.status = "undone: the vote is cleared"
        else:
            self.skipped.discard(step.index)
            self.status = "undone: the skip"
        self._show(step.index)

    def close(self) -> None:
        """Wait for every write queued (a quit right after a vote keeps it)."""
        self._io.shutdown(wait=True)
