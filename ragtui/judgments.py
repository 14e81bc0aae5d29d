"""Relevance labels, answer votes and run history: append-only JSON Lines per corpus.

Every record is one line, flushed and fsync'd before ``append`` returns, so a judgment a
user made survives a crash. A torn last line (a crash mid-write) is dropped with a
warning when the file is read and never corrupts the records before it. Exports (qrels)
are derived from these files, never the other way round.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtui import config
from ragtui.errors import RagtuiError
from ragtui.index.store import slug

log = logging.getLogger("ragtui")

GRADES = (0, 1, 2, 3)
VOTE_CHOICES = ("a", "b", "tie", "both_bad")


class JudgmentStoreError(RagtuiError):
    pass


def normalize_query(text: str) -> str:
    return " ".join(text.split())


def query_id_for(query: str, known_queries: dict[str, str] | None = None) -> str:
    """The dataset's id when the text is one of its queries, else a stable id from the text."""
    normalized = normalize_query(query)
    for query_id, text in (known_queries or {}).items():
        if normalize_query(text) == normalized:
            return query_id
    return "u-" + hashlib.sha256(normalized.casefold().encode("utf-8")).hexdigest()[:12]


class JsonlLog:
    """One append-only JSON Lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._end_torn_line()
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise JudgmentStoreError(
                f"cannot save to {self.path} ({error.strerror or error}); "
                "free space or set RAGTUI_DATA_DIR to a writable folder"
            ) from None

    def _end_torn_line(self) -> None:
        """Start on a fresh line if a crash left the file without its final newline."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell() == 0:
                    return
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) == b"\n":
                    return
        except FileNotFoundError:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("\n")

    def records(self) -> Iterator[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
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
class Vote:
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


class JudgmentStore:
    """Labels, votes and runs of one corpus, under ``<data dir>/corpora/<corpus>/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.labels_log = JsonlLog(folder / "labels.jsonl")
        self.votes_log = JsonlLog(folder / "votes.jsonl")
        self.runs_log = JsonlLog(folder / "runs.jsonl")
        self._labels: dict[str, dict[str, int]] | None = None
        self._queries: dict[str, str] = {}

    @classmethod
    def for_corpus(
        cls, root: Path, source_key: str, data_root: Path | None = None
    ) -> JudgmentStore:
        base = data_root or config.data_dir()
        return cls(base / "corpora" / f"{slug(root.name or 'corpus')}-{source_key}")

    # labels -----------------------------------------------------------------------------

    def labels(self) -> dict[str, dict[str, int]]:
        """Current grades by query id, then passage id (the latest record wins)."""
        if self._labels is None:
            labels: dict[str, dict[str, int]] = {}
            for record in self.labels_log.records():
                query_id, passage_id = record.get("query_id"), record.get("passage_id")
                if not isinstance(query_id, str) or not isinstance(passage_id, str):
                    continue
                self._queries[query_id] = str(record.get("query", ""))
                grade = record.get("grade")
                if grade is None:
                    labels.get(query_id, {}).pop(passage_id, None)
                elif grade in GRADES:
                    labels.setdefault(query_id, {})[passage_id] = int(grade)
            self._labels = labels
        return self._labels

    def labels_for(self, query_id: str) -> dict[str, int]:
        return dict(self.labels().get(query_id, {}))

    def set_label(
        self, query: str, query_id: str, passage_id: str, doc_id: str, grade: int | None
    ) -> None:
        """Record a grade (0–3) for a passage under a query; ``None`` clears it."""
        if grade is not None and grade not in GRADES:
            raise JudgmentStoreError(f"grade {grade!r}: use 0, 1, 2 or 3")
        self.labels_log.append(
            {
                "query_id": query_id,
                "query": query,
                "passage_id": passage_id,
                "doc_id": doc_id,
                "grade": grade,
                "time": time.time(),
            }
        )
        labels = self.labels()
        self._queries[query_id] = query
        if grade is None:
            labels.get(query_id, {}).pop(passage_id, None)
        else:
            labels.setdefault(query_id, {})[passage_id] = grade

    def labelled_queries(self) -> dict[str, str]:
        labels = self.labels()
        return {query_id: self._queries[query_id] for query_id in labels if labels[query_id]}

    # votes ------------------------------------------------------------------------------

    def add_vote(self, vote: Vote) -> None:
        if vote.choice not in VOTE_CHOICES:
            raise JudgmentStoreError(f"vote {vote.choice!r}: use one of {', '.join(VOTE_CHOICES)}")
        self.votes_log.append(vote.__dict__)

    def votes(self) -> list[Vote]:
        names = set(Vote.__dataclass_fields__)
        return [
            Vote(**{name: record.get(name) for name in names})
            for record in self.votes_log.records()
            if record.get("choice") in VOTE_CHOICES
        ]

    # runs (history) ---------------------------------------------------------------------

    def add_run(self, record: dict[str, Any]) -> None:
        self.runs_log.append({**record, "time": time.time()})

    def runs(self) -> list[dict[str, Any]]:
        return list(self.runs_log.records())

    def query_history(self) -> list[str]:
        """Queries in the order first asked, each once (the latest position wins)."""
        seen: dict[str, None] = {}
        for record in self.runs():
            query = record.get("query")
            if isinstance(query, str) and query.strip():
                seen.pop(query, None)
                seen[query] = None
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


def win_table(votes: list[Vote]) -> list[PairRecord]:
    """One row per unordered pipeline pair, pipelines in sorted order."""
    counts: dict[tuple[str, str], list[int]] = {}
    for vote in votes:
        first, second = sorted((vote.pipeline_a, vote.pipeline_b))
        row = counts.setdefault((first, second), [0, 0, 0, 0])
        if vote.choice == "tie":
            row[2] += 1
        elif vote.choice == "both_bad":
            row[3] += 1
        else:
            winner = vote.pipeline_a if vote.choice == "a" else vote.pipeline_b
            row[0 if winner == first else 1] += 1
    return [PairRecord(first, second, *row) for (first, second), row in sorted(counts.items())]


def export_qrels(store: JudgmentStore, destination: Path, fmt: str = "beir") -> Path:
    """Write the labels as BEIR (queries.jsonl + qrels/test.tsv) or one TREC qrels file.

    Judgments are per passage: the corpus ids are passage ids.
    """
    labels = store.labels()
    queries = store.labelled_queries()
    rows = [
        (query_id, passage_id, grade)
        for query_id in sorted(labels)
        for passage_id, grade in sorted(labels[query_id].items())
    ]
    try:
        if fmt == "trec":
            destination.parent.mkdir(parents=True, exist_ok=True)
            text = "".join(f"{qid} 0 {pid} {grade}\n" for qid, pid, grade in rows)
            destination.write_text(text, encoding="utf-8")
            return destination
        if fmt != "beir":
            raise JudgmentStoreError(f"export format {fmt!r}: use beir or trec")
        (destination / "qrels").mkdir(parents=True, exist_ok=True)
        with (destination / "queries.jsonl").open("w", encoding="utf-8") as handle:
            for query_id, text in sorted(queries.items()):
                handle.write(json.dumps({"_id": query_id, "text": text}, ensure_ascii=False) + "\n")
        lines = ["query-id\tcorpus-id\tscore\n"]
        lines += [f"{qid}\t{pid}\t{grade}\n" for qid, pid, grade in rows]
        (destination / "qrels" / "test.tsv").write_text("".join(lines), encoding="utf-8")
    except OSError as error:
        raise JudgmentStoreError(f"cannot write {destination} ({error.strerror})") from None
    return destination
