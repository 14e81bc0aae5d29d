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
from typing import Any

from ragtui.judging.grade_queue import ANSWER_GRADES, SCALES, queue_grades
from ragtui.judging.store import VOTE_CHOICES, JudgmentStore
from ragtui.judging.vote_queue import QueuedItem, queue_votes

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
        queue: Any,  # VoteDraw, or a GradeDraw for GradingSession
        store: JudgmentStore,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.store = store
        self._clock = clock
        # item id → choice, for this run's items (from any earlier session)
        self.choices: dict[str, Any] = self._earlier()
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
            return f"all {total} drawn {self.noun}s {self.done_word}"
        parts = [f"item {self.position + 1} of {total}", f"{self.voted} {self.done_word}"]
        if len(self.paces_s) >= PACE_AFTER_VOTES:
            pace = statistics.median(self.paces_s)
            left_min = self.remaining * pace / 60
            parts.append(
                f"about {max(1, round(left_min))} min left at your pace "
                f"({pace:.0f} s {self.act_word})"
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
            f"{made} made this session; {self.voted} of {len(self.queue.queued)} drawn "
            f"{self.noun}s {self.done_word} ({self.remaining} left: run the same command to go on)"
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

    # what a vote is, and where it goes (GradingSession grades answers instead) ------------

    noun = "pair"
    done_word = "voted"
    act_word = "a vote"
    allowed: tuple[Any, ...] = VOTE_CHOICES

    def _earlier(self) -> dict[str, Any]:
        """This run's items judged in earlier sessions: item id → choice."""
        return {
            item: vote.choice
            for item, vote in queue_votes(self.store.votes(), self.queue.run_id).items()
        }

    def _save(self, queued: Any, choice: Any) -> None:
        self.store.add_vote(self.queue.vote(queued, choice, time.time()))

    def _clear(self, queued: Any) -> None:
        self.store.clear_queue_vote(self.queue.run_id, queued.item.item_id)

    def _words(self, choice: Any) -> str:
        return CHOICE_WORDS[choice]

    async def vote(self, choice: Any) -> None:
        """Judge the current item; returns once it is on disk, then shows the next."""
        if choice not in self.allowed:
            raise ValueError(f"{choice!r}: use one of {', '.join(map(str, self.allowed))}")
        if self.position is None:
            return
        index, queued = self.position, self.queue.queued[self.position]
        pace_s = self._clock() - self._shown_at
        self.status = "saving…"
        await self._on_disk(lambda: self._save(queued, choice))
        self.choices[queued.item.item_id] = choice
        self.paces_s.append(min(pace_s, LONGEST_PACE_S))
        self.steps.append(Step("vote", index))
        self.skipped.discard(index)
        self.status = f"saved: {self._words(choice)}"
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
        queued = self.queue.queued[step.index]
        item_id = queued.item.item_id
        if step.kind == "vote":
            self.status = "saving…"
            await self._on_disk(lambda: self._clear(queued))
        self.steps.pop()  # only once the clear is on disk: a failed write can be retried
        if step.kind == "vote":
            self.choices.pop(item_id, None)
            if self.paces_s:
                self.paces_s.pop()
            self.status = f"undone: {self.act_word} cleared"
        else:
            self.skipped.discard(step.index)
            self.status = "undone: the skip"
        self._show(step.index)

    def close(self) -> None:
        """Wait for every write queued (a quit right after a vote keeps it)."""
        self._io.shutdown(wait=True)


class GradingSession(VotingSession):
    """The same session over drawn answers: each graded 1–5 on the judge's scale of the
    draw's kind (correctness or faithfulness), stored in the corpus's answer-grade log with
    its draw."""

    noun = "answer"
    done_word = "graded"
    act_word = "a grade"
    allowed = ANSWER_GRADES

    def _earlier(self) -> dict[str, Any]:
        grades = queue_grades(self.store.answer_grades(), self.queue.run_id)
        return {item: record["grade"] for item, record in grades.items()}

    def _save(self, queued: Any, choice: Any) -> None:
        self.store.add_answer_grade(self.queue.record(queued, choice, time.time()))

    def _clear(self, queued: Any) -> None:
        self.store.add_answer_grade(self.queue.record(queued, None, time.time()))

    def _words(self, choice: Any) -> str:
        return f"grade {choice} ({SCALES[self.queue.kind].names[choice - 1]})"
