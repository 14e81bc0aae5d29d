"""The random vote queue: (query, pipeline pair) items of an eval run drawn at random, so the
person's votes on them are a sample with known inclusion probabilities.

An eval run with the judge's pairwise verdicts writes every judged item to
``vote_items.jsonl`` in its folder: the question, both pipelines and both answers, and the
judge's outcome. ``draw`` picks items from them with a seed:

- ``UNIFORM_DRAW``: the first ``budget`` items of one seeded permutation of all items
  (each item's inclusion probability n / N);
- ``STRATIFIED_DRAW``: an equal share of the budget from each pipeline pair (the first n_h of
  a seeded permutation of that pair's N_h items; probability n_h / N_h), so a pair with few
  items still gets votes.

Either way a larger budget with the same seed extends the sample it had (the draws are
prefixes of fixed permutations), and the items are asked in a seeded random order, so the
votes made before a person stopped are themselves a random sample of the draw. Each item's
left/right order is drawn too (``LEFT_RIGHT``), and recorded with the vote.

The run's id is a hash of its items (queries, pipelines and answer texts), not of the
judge: a vote is about two answers, so it stays valid for another judge of the same
answers, and a re-run of the same eval (answers from the generation cache) keeps its votes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from ragtui.display.safe_text import json_line
from ragtui.errors import RagtuiError
from ragtui.judging.store import Vote

T = TypeVar("T")

VOTE_ITEMS_FILE = "vote_items.jsonl"
UNIFORM_DRAW = "uniform"
STRATIFIED_DRAW = "stratified"
DRAW_DESIGNS = (UNIFORM_DRAW, STRATIFIED_DRAW)
# A vote's ``draw``: the item's first pipeline shown on the left ("kept") or on the right.
LEFT_RIGHT = ("kept", "swapped")
QUEUE_SOURCE = "vote queue (blind, drawn at random)"


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VoteItem:
    """One judged pair of answers to one query: what a queue vote is about."""

    query_id: str
    question: str
    first: str  # pipeline
    second: str
    answer_first: str
    answer_second: str
    judge_outcome: str  # "a" (first better), "b", "tie" or "abstain"

    @property
    def item_id(self) -> str:
        parts = (
            self.query_id,
            self.first,
            self.second,
            _text_hash(self.answer_first),
            _text_hash(self.answer_second),
        )
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]

    @property
    def pair(self) -> tuple[str, str]:
        return (self.first, self.second)

    @property
    def stratum(self) -> tuple[str, str]:
        return self.pair

    def to_record(self) -> dict[str, Any]:
        return {"item_id": self.item_id, **asdict(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> VoteItem | None:
        values = {name: record.get(name) for name in cls.__dataclass_fields__}
        if not all(isinstance(value, str) for value in values.values()):
            return None
        return cls(**values)  # type: ignore[arg-type]


def run_id(items: Sequence[Any], prefix: str = "vr-") -> str:
    """The population's id: a hash of every item's id."""
    digest = hashlib.sha256()
    for item_id in sorted(item.item_id for item in items):
        digest.update(item_id.encode("ascii") + b"\n")
    return prefix + digest.hexdigest()[:16]


def write_items(path: Path, items: Iterable[Any]) -> None:
    """An eval's queue items (votes or grades), one JSON line each. Answers and names are
    untrusted text: ``json_line`` escapes what a line reader or a terminal would trip on."""
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json_line(item.to_record()) + "\n")


def read_items(
    path: Path,
    from_record: Callable[[dict[str, Any]], T | None],
    made_by: str,
    noun: str,
    none_held: str,
) -> list[T]:
    """The items ``write_items`` wrote; a RagtuiError in one line naming the file (and the
    line) when it is missing, damaged or empty."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise RagtuiError(
            f"{path} does not exist: give the --out folder of a 'ragtui eval ... --judge SPEC' "
            f"run {made_by}"
        ) from None
    except OSError as error:
        raise RagtuiError(f"cannot read {path} ({error.strerror})") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise RagtuiError(f"{path}:{number}: not JSON; run the eval again") from None
        item = from_record(record) if isinstance(record, dict) else None
        if item is None:
            raise RagtuiError(f"{path}:{number}: not {noun}; run the eval again")
        items.append(item)
    if not items:
        raise RagtuiError(f"{path} holds {none_held}")
    return items


def write_vote_items(path: Path, items: Iterable[VoteItem]) -> None:
    write_items(path, items)


def read_vote_items(folder: Path) -> list[VoteItem]:
    """The judged items of an eval folder; RagtuiError in one line when there are none."""
    return read_items(
        folder / VOTE_ITEMS_FILE,
        VoteItem.from_record,
        "with pairwise verdicts (--judge-kinds including pairwise)",
        "a vote item",
        "no judged pairs: the eval had fewer than two pipelines",
    )


@dataclass(frozen=True)
class QueuedItem:
    """One drawn item, how likely it was to be drawn, and how it is shown."""

    item: VoteItem
    inclusion: float
    swapped: bool  # the item's first pipeline shown on the right
    position: int  # place in the asking order (0 first)
    stratum_size: int  # N_h (the pair's items; all items for a uniform draw)
    stratum_sample: int  # n_h drawn from them

    @property
    def left(self) -> tuple[str, str]:
        """(pipeline, answer) shown on the left."""
        item = self.item
        if self.swapped:
            return item.second, item.answer_second
        return item.first, item.answer_first

    @property
    def right(self) -> tuple[str, str]:
        item = self.item
        if self.swapped:
            return item.first, item.answer_first
        return item.second, item.answer_second


@dataclass(frozen=True)
class VoteDraw:
    run_id: str
    design: str
    seed: int
    budget: int
    population: int
    queued: tuple[QueuedItem, ...]

    @property
    def key(self) -> str:
        return f"{self.design}:{self.seed}"

    def describe(self) -> str:
        return (
            f"a {self.design} random sample of {len(self.queued)} of {self.population} judged "
            f"pairs (seed {self.seed})"
        )

    def vote(self, queued: QueuedItem, choice: str, now: float) -> Vote:
        """The vote record: left is ``pipeline_a``; the draw rides along with it."""
        (left, left_answer), (right, right_answer) = queued.left, queued.right
        return Vote(
            query=queued.item.question,
            query_id=queued.item.query_id,
            pipeline_a=left,
            pipeline_b=right,
            choice=choice,
            answer_a=left_answer,
            answer_b=right_answer,
            stats_a=None,
            stats_b=None,
            time=now,
            blind=True,
            draw=LEFT_RIGHT[queued.swapped],
            queue_run=self.run_id,
            queue_item=queued.item.item_id,
            inclusion=queued.inclusion,
            queue_draw={
                "design": self.design,
                "seed": self.seed,
                "budget": self.budget,
                "population": self.population,
                "stratum_size": queued.stratum_size,
                "stratum_sample": queued.stratum_sample,
                "position": queued.position,
                "source": QUEUE_SOURCE,
            },
        )


def drawn_rows(
    items: Sequence[Any], budget: int, seed: int, design: str
) -> tuple[list[tuple[Any, float, int, int]], Any]:
    """(item, inclusion, N_h, n_h) of each drawn item, in a fixed order, and the random
    stream that goes on to order them. Strata are the items' ``stratum`` (a pipeline pair,
    or a pipeline for graded answers)."""
    import numpy as np

    if design not in DRAW_DESIGNS:
        raise RagtuiError(f"--design {design!r}: use {' or '.join(DRAW_DESIGNS)}")
    if budget < 1:
        raise RagtuiError(f"--budget {budget}: use at least 1")
    if seed < 0:  # numpy's generators take no negative seed
        raise RagtuiError(f"seed {seed}: use 0 or more")
    # Items in a fixed order (by id), so the draw depends on the seed only.
    ordered = sorted(items, key=lambda item: item.item_id)
    rng = np.random.default_rng(seed)
    chosen: list[tuple[Any, float, int, int]] = []
    if design == UNIFORM_DRAW:
        size = min(budget, len(ordered))
        for row in rng.permutation(len(ordered))[:size]:
            chosen.append((ordered[int(row)], size / len(ordered), len(ordered), size))
    else:
        strata: dict[Any, list[Any]] = {}
        for item in ordered:
            strata.setdefault(item.stratum, []).append(item)
        names = sorted(strata)
        shares = _equal_shares(budget, [len(strata[name]) for name in names])
        for number, name in enumerate(names):
            members = strata[name]
            # One stream per stratum, so its draw does not depend on the others.
            stratum_rng = np.random.default_rng([seed, number])
            share = shares[number]
            for row in stratum_rng.permutation(len(members))[:share]:
                chosen.append((members[int(row)], share / len(members), len(members), share))
    return chosen, rng


def draw(items: Sequence[VoteItem], budget: int, seed: int, design: str) -> VoteDraw:
    """Draw ``budget`` items (at most all of them) by ``design``, seeded."""
    chosen, rng = drawn_rows(items, budget, seed, design)
    order = rng.permutation(len(chosen))
    sides = rng.integers(0, 2, size=len(chosen))
    queued = tuple(
        QueuedItem(item, inclusion, bool(sides[index]), position, size, share)
        for position, index in enumerate(order)
        for item, inclusion, size, share in [chosen[int(index)]]
    )
    return VoteDraw(run_id(items), design, seed, budget, len(items), queued)


def _equal_shares(budget: int, sizes: Sequence[int]) -> list[int]:
    """The budget split as evenly as the strata allow (a stratum smaller than its share
    gives the rest to the others)."""
    shares = [0] * len(sizes)
    left = min(budget, sum(sizes))
    while left > 0:
        open_strata = [index for index, size in enumerate(sizes) if shares[index] < size]
        each = max(left // len(open_strata), 1)
        for index in open_strata:
            add = min(each, sizes[index] - shares[index], left)
            shares[index] += add
            left -= add
            if left == 0:
                break
    return shares


def queue_votes(votes: Iterable[Vote], run: str) -> dict[str, Vote]:
    """The latest vote on each item of run ``run`` (a later vote, or an undo, replaces an
    earlier one)."""
    latest: dict[str, Vote] = {}
    for vote in votes:
        if vote.queue_run == run and vote.queue_item:
            latest[vote.queue_item] = vote
    return latest
