"""Relevance labels, answer votes and run history: append-only JSON Lines per corpus.

Every record is one line, flushed and fsync'd before ``append`` returns, so a judgment a
user made survives a crash. A torn last line (a crash mid-write) is dropped with a
warning when the file is read and never corrupts the records before it. Exports (qrels)
are derived from these files, never the other way round.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragtui.config import paths
from ragtui.corpus.model import Passage
from ragtui.display.safe_text import json_line
from ragtui.errors import RagtuiError
from ragtui.index.store import slug

log = logging.getLogger("ragtui")

GRADES = (0, 1, 2, 3)
VOTE_CHOICES = ("a", "b", "tie", "both_bad")
# Version 2 records name what they judged (label anchors, run ids); version 1 had no "v".
RECORD_VERSION = 2


class JudgmentStoreError(RagtuiError):
    pass


def normalize_query(text: str) -> str:
    return " ".join(text.split())


def query_id_for(query: str, known_queries: dict[str, str] | None = None) -> str:
    """The dataset's id when the text is one of its queries, else a stable id from the text.

    The first known query with the same text (spacing aside) wins; failing that, the first
    that differs only in case, as the id made from the text ignores case too (a question
    typed in lower case is the same question)."""
    normalized = normalize_query(query)
    folded = normalized.casefold()
    same_but_case: str | None = None
    for query_id, text in (known_queries or {}).items():
        known = normalize_query(text)
        if known == normalized:
            return query_id
        if same_but_case is None and known.casefold() == folded:
            same_but_case = query_id
    if same_but_case is not None:
        return same_but_case
    return "u-" + hashlib.sha256(folded.encode("utf-8")).hexdigest()[:12]


class JsonlLog:
    """One append-only JSON Lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        """Add one record; returns once it is on disk.

        Another ragtui may append to the same file at the same time (two windows on one
        corpus): an exclusive lock spans the torn-line check and the write, and the line
        goes out in one ``O_APPEND`` write, so records never interleave.
        """
        line = (json_line(record, sort_keys=True) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                size = os.fstat(descriptor).st_size
                # A crash mid-write leaves a line without its newline: start a fresh one.
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    line = b"\n" + line
                written = 0
                while written < len(line):
                    written += os.write(descriptor, line[written:])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)  # releases the lock
        except OSError as error:
            raise JudgmentStoreError(
                f"cannot save to {self.path} ({error.strerror or error}); "
                "free space or set RAGTUI_DATA_DIR to a writable folder"
            ) from None

    def records(self) -> Iterator[dict[str, Any]]:
        try:
            # Records end at "\n" only: files written before the separators were escaped
            # hold raw U+2028/U+2029/U+0085 inside strings, which splitlines() would cut.
            lines = self.path.read_text(encoding="utf-8", errors="replace").split("\n")
        except FileNotFoundError:
            return
        except OSError as error:
            raise JudgmentStoreError(f"cannot read {self.path} ({error.strerror})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.warning(
                    "%s:%d: damaged record skipped (a write was cut short)", self.path, number
                )
                continue
            if isinstance(record, dict):
                yield record


@dataclass(frozen=True)
class Label:
    """A grade of one piece of text under one query, anchored to that text.

    ``start``/``end`` are character offsets in the document and ``text_sha256`` the hash of
    the graded text, so the label can follow its text when the corpus is re-chunked or
    edited. Labels written before ragtui recorded anchors carry only the passage id
    (``anchored`` is False); they attach by passage id and are counted as unverified.
    """

    query_id: str
    query: str
    passage_id: str
    doc_id: str
    grade: int | None  # None: a cleared grade
    start: int | None = None
    end: int | None = None
    text_sha256: str | None = None
    text: str | None = None
    chunking: str | None = None
    time: float = 0.0
    # Who graded and how, where it is not the compare screen: "label screen (blind)",
    # "imported from FILE".
    source: str | None = None

    @property
    def anchored(self) -> bool:
        return self.start is not None and self.end is not None and bool(self.text_sha256)

    @property
    def anchor(self) -> tuple[str, ...]:
        """What makes two records the same judgment (the later one replaces the earlier)."""
        if self.anchored:
            return (self.doc_id, str(self.start), str(self.end), str(self.text_sha256))
        return ("passage", self.passage_id)

    @classmethod
    def for_passage(
        cls,
        query: str,
        query_id: str,
        passage: Passage,
        grade: int | None,
        chunking: str,
    ) -> Label:
        return cls(
            query_id=query_id,
            query=query,
            passage_id=passage.passage_id,
            doc_id=passage.doc_id,
            grade=grade,
            start=passage.start,
            end=passage.end,
            text_sha256=passage.content_hash,
            text=passage.text,
            chunking=chunking,
            time=time.time(),
        )

    def to_record(self) -> dict[str, Any]:
        return {"v": RECORD_VERSION, **asdict(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Label | None:
        """Either record shape (with or without an anchor); None when unusable."""
        query_id, passage_id = record.get("query_id"), record.get("passage_id")
        if not isinstance(query_id, str) or not isinstance(passage_id, str):
            return None
        grade = record.get("grade")
        if grade is not None and grade not in GRADES:
            return None
        start, end = record.get("start"), record.get("end")
        anchored = isinstance(start, int) and isinstance(end, int)
        return cls(
            query_id=query_id,
            query=str(record.get("query", "")),
            passage_id=passage_id,
            doc_id=str(record.get("doc_id") or passage_id.rpartition("#")[0]),
            grade=None if grade is None else int(grade),
            start=start if anchored else None,
            end=end if anchored else None,
            text_sha256=str(record["text_sha256"]) if record.get("text_sha256") else None,
            text=record.get("text") if isinstance(record.get("text"), str) else None,
            chunking=record.get("chunking") if isinstance(record.get("chunking"), str) else None,
            time=float(record.get("time") or 0.0),
            source=record.get("source") if isinstance(record.get("source"), str) else None,
        )


@dataclass(frozen=True)
class Vote:
    """A preference between the two answers shown for one query.

    Names both pipelines, both answers and the runs that produced them, so a vote can
    always be traced to exactly what was judged. Votes from before run ids were recorded
    load with those fields empty.
    """

    query: str
    query_id: str
    pipeline_a: str
    pipeline_b: str
    choice: str  # one of VOTE_CHOICES
    answer_a: str
    answer_b: str
    stats_a: dict[str, Any] | None
    stats_b: dict[str, Any] | None
    time: float
    run_id_a: str | None = None
    run_id_b: str | None = None
    timing_a: str | None = None
    timing_b: str | None = None
    # Cast with the panes' specs hidden; ``draw`` is that query's random placement of the
    # two pipelines ("kept" or "swapped" relative to the panes before the query).
    blind: bool = False
    draw: str | None = None
    # A vote from the random vote queue (ragtui.judging.vote_queue): the eval run's id, the
    # item's id, its inclusion probability and how it was drawn. Only such votes may
    # correct the judge (ragtui.experiment.stats.vote_correction).
    queue_run: str | None = None
    queue_item: str | None = None
    inclusion: float | None = None
    queue_draw: dict[str, Any] | None = None

    @property
    def from_queue(self) -> bool:
        return bool(self.queue_run and self.queue_item and self.inclusion)

    def to_record(self) -> dict[str, Any]:
        return {"v": RECORD_VERSION, **asdict(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Vote | None:
        if record.get("choice") not in VOTE_CHOICES:
            return None
        if not isinstance(record.get("pipeline_a"), str) or not isinstance(
            record.get("pipeline_b"), str
        ):
            return None
        values = {name: record.get(name) for name in cls.__dataclass_fields__}
        values["time"] = float(values["time"] or 0.0)
        values["blind"] = values["blind"] is True
        for name in ("query", "query_id", "answer_a", "answer_b"):
            values[name] = str(values[name] or "")
        inclusion = values["inclusion"]
        queued = (
            isinstance(values["queue_run"], str)
            and isinstance(values["queue_item"], str)
            and isinstance(inclusion, int | float)
            and 0 < inclusion <= 1
        )
        if not queued:  # a damaged queue record counts as an ordinary blind vote, no more
            for name in ("queue_run", "queue_item", "inclusion", "queue_draw"):
                values[name] = None
        elif not isinstance(values["queue_draw"], dict):
            values["queue_draw"] = None
        return cls(**values)


@dataclass(frozen=True)
class RunRecord:
    """What one pane produced for one query: the ranked passages, the answer and its stats."""

    run_id: str
    query: str
    query_id: str
    pane: str
    pipeline: str  # the spec as the pane shows it
    resolved: str  # the spec after config names were expanded
    answer: str
    error: str | None
    stats: dict[str, Any] | None
    hits: tuple[dict[str, Any], ...]  # passage_id, doc_id, score, rank, text_sha256
    time: float = 0.0

    def to_record(self) -> dict[str, Any]:
        return {"v": RECORD_VERSION, **asdict(self), "hits": list(self.hits)}

    @classmethod
    def from_record(cls, record: dict[str, Any], line: int) -> RunRecord | None:
        if not isinstance(record.get("query"), str) or not isinstance(record.get("pane"), str):
            return None
        hits = record.get("hits")
        stats = record.get("stats")
        return cls(
            # Older records have no run id; one made from the line keeps them distinct.
            run_id=str(record.get("run_id") or f"line-{line}"),
            query=record["query"],
            query_id=str(record.get("query_id") or ""),
            pane=record["pane"],
            pipeline=str(record.get("pipeline") or ""),
            resolved=str(record.get("resolved") or record.get("pipeline") or ""),
            answer=str(record.get("answer") or ""),
            error=None if record.get("error") is None else str(record["error"]),
            stats=stats if isinstance(stats, dict) else None,
            hits=tuple(hit for hit in hits if isinstance(hit, dict))
            if isinstance(hits, list)
            else (),
            time=float(record.get("time") or 0.0),
        )


class JudgmentStore:
    """Labels, votes and runs of one corpus, under ``<data dir>/corpora/<corpus>/``.

    Reads and appends block on the disk: callers on an event loop run them in a thread.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.labels_log = JsonlLog(folder / "labels.jsonl")
        self.votes_log = JsonlLog(folder / "votes.jsonl")
        self.runs_log = JsonlLog(folder / "runs.jsonl")
        # The person's grades of answers drawn by the grade queue (ragtui.judging.grade_queue)
        self.answer_grades_log = JsonlLog(folder / "answer_grades.jsonl")
        # Where each `ragtui eval` of the corpus wrote its results, so that the compare
        # screen can show the latest run's figures without being told its folder.
        self.evals_log = JsonlLog(folder / "evals.jsonl")
        self._labels: dict[str, dict[tuple[str, ...], Label]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_corpus(
        cls, root: Path, source_key: str, data_root: Path | None = None
    ) -> JudgmentStore:
        base = data_root or paths.data_dir()
        return cls(base / "corpora" / f"{slug(root.name or 'corpus')}-{source_key}")

    # labels -----------------------------------------------------------------------------

    def labels(self) -> dict[str, dict[tuple[str, ...], Label]]:
        """The latest record of every judgment, by query id then anchor (clears included)."""
        with self._lock:
            if self._labels is None:
                labels: dict[str, dict[tuple[str, ...], Label]] = {}
                for record in self.labels_log.records():
                    label = Label.from_record(record)
                    if label is not None:
                        labels.setdefault(label.query_id, {})[label.anchor] = label
                self._labels = labels
            return self._labels

    def add_label(self, label: Label) -> None:
        """Append a grade (or a clear) and return once it is on disk."""
        if label.grade is not None and label.grade not in GRADES:
            raise JudgmentStoreError(f"grade {label.grade!r}: use 0, 1, 2 or 3")
        labels = self.labels()
        self.labels_log.append(label.to_record())
        with self._lock:
            labels.setdefault(label.query_id, {})[label.anchor] = label

    def labelled_queries(self) -> dict[str, str]:
        """Query id → text, for the queries with at least one grade."""
        return {
            query_id: next(iter(judged.values())).query
            for query_id, judged in self.labels().items()
            if any(label.grade is not None for label in judged.values())
        }

    # votes ------------------------------------------------------------------------------

    def add_vote(self, vote: Vote) -> None:
        if vote.choice not in VOTE_CHOICES:
            raise JudgmentStoreError(f"vote {vote.choice!r}: use one of {', '.join(VOTE_CHOICES)}")
        self.votes_log.append(vote.to_record())

    def clear_queue_vote(self, queue_run: str, queue_item: str) -> None:
        """Take back a queue vote (undo): a record that cancels the item's latest vote."""
        self.votes_log.append(
            {"v": RECORD_VERSION, "cleared": True, "queue_run": queue_run, "queue_item": queue_item}
        )

    def votes(self) -> list[Vote]:
        """Every vote, in the order cast, without those an undo took back."""
        votes: list[Vote | None] = []
        latest: dict[tuple[str, str], int] = {}
        for record in self.votes_log.records():
            key = (str(record.get("queue_run")), str(record.get("queue_item")))
            if record.get("cleared") is True:
                if key in latest:
                    votes[latest.pop(key)] = None
                continue
            vote = Vote.from_record(record)
            if vote is None:
                continue
            if vote.from_queue:
                latest[key] = len(votes)
            votes.append(vote)
        return [vote for vote in votes if vote is not None]

    # answer grades ---------------------------------------------------------------------

    def add_answer_grade(self, record: dict[str, Any]) -> None:
        self.answer_grades_log.append({"v": RECORD_VERSION, **record})

    def answer_grades(self) -> list[dict[str, Any]]:
        """Every answer-grade record in order (``grade_queue.queue_grades`` reads them)."""
        return list(self.answer_grades_log.records())

    # eval runs --------------------------------------------------------------------------

    def add_eval(self, folder: Path, testset: str, content_sha256: str, time_s: float) -> None:
        """Record that ``ragtui eval`` wrote its outputs into ``folder`` (absolute)."""
        self.evals_log.append(
            {
                "v": RECORD_VERSION,
                "folder": str(folder),
                "testset": testset,
                "content_sha256": content_sha256,
                "time": time_s,
            }
        )

    def evals(self) -> list[dict[str, Any]]:
        """The recorded eval runs, newest first (records without a folder left out)."""
        found = [
            record
            for record in self.evals_log.records()
            if isinstance(record.get("folder"), str) and record["folder"]
        ]
        return found[::-1]

    # runs (history) ---------------------------------------------------------------------

    def add_run(self, run: RunRecord) -> None:
        self.runs_log.append(run.to_record())

    def runs(self) -> list[RunRecord]:
        runs = (
            RunRecord.from_record(record, line)
            for line, record in enumerate(self.runs_log.records(), start=1)
        )
        return [run for run in runs if run is not None]


def query_history(runs: list[RunRecord]) -> list[str]:
    """Queries in the order last asked, each once."""
    seen: dict[str, None] = {}
    for run in runs:
        if run.query.strip():
            seen.pop(run.query, None)
            seen[run.query] = None
    return list(seen)


@dataclass(frozen=True)
class PairRecord:
    """Win counts of one pipeline pair, from votes in either pane order."""

    first: str
    second: str
    first_wins: int
    second_wins: int
    ties: int
    both_bad: int

    @property
    def votes(self) -> int:
        return self.first_wins + self.second_wins + self.ties + self.both_bad

    @property
    def first_win_rate(self) -> float:
        """Wins counting a tie as half; ``both bad`` counts as a tie of losers."""
        if not self.votes:
            return 0.0
        return (self.first_wins + 0.5 * (self.ties + self.both_bad)) / self.votes


SAME_PIPELINE_SIDES = (" (pane A)", " (pane B)")


def win_table(votes: list[Vote]) -> list[PairRecord]:
    """One row per unordered pipeline pair, pipelines in sorted order.

    A pipeline voted against itself (how people check nondeterminism) gets a row of its
    own whose sides are the panes, so a win for either pane is credited to that pane.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for vote in votes:
        if vote.pipeline_a == vote.pipeline_b:
            first, second = (vote.pipeline_a + side for side in SAME_PIPELINE_SIDES)
            winner_is_first = vote.choice == "a"
        else:
            first, second = sorted((vote.pipeline_a, vote.pipeline_b))
            winner = vote.pipeline_a if vote.choice == "a" else vote.pipeline_b
            winner_is_first = winner == first
        row = counts.setdefault((first, second), [0, 0, 0, 0])
        if vote.choice == "tie":
            row[2] += 1
        elif vote.choice == "both_bad":
            row[3] += 1
        else:
            row[0 if winner_is_first else 1] += 1
    return [PairRecord(first, second, *row) for (first, second), row in sorted(counts.items())]
