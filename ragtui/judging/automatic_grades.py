"""Grades of pool pairs made by a labeller model, kept with the test set.

A person's grades live in the judgment store (``ragtui.judging.store``); a labeller's live
apart, in the set's ``relevance_grades.jsonl``, so they can never be mistaken for the
person's and one labeller's grades never replace another's. Each record names the pair as
the labeling queue does (query, document, span, text sha256) and its source: the judge's
identity, the method, the hash of the prompt template and any encoder the method used.

Append-only; the latest record of a (source, pair) wins, so a rerun after a failure or with
a changed prompt adds records and loses none. A record with ``grade`` None is an
abstention (the labeller answered but not with a usable grade) and counts as unjudged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragtui.judging.store import GRADES, JsonlLog

GRADES_FILE = "relevance_grades.jsonl"
RECORD_VERSION = 1


@dataclass(frozen=True)
class LabellerSource:
    """Who graded: enough to tell two labellers apart and to reproduce one."""

    judge: str  # the judge's identity (spec and model file hash or server digest)
    method: str  # "pointwise" | "one-shot" | "answer-based"
    prompt_sha256: str
    encoder: str | None = None  # an embedding model the method used, if any

    @property
    def key(self) -> str:
        return "|".join((self.judge, self.method, self.prompt_sha256, self.encoder or ""))

    def describe(self) -> str:
        encoder = f", encoder {self.encoder}" if self.encoder else ""
        return f"{self.judge} ({self.method}, prompt {self.prompt_sha256[:8]}{encoder})"

    @classmethod
    def from_record(cls, record: Any) -> LabellerSource | None:
        if not isinstance(record, dict):
            return None
        judge, method, prompt = (
            record.get("judge"),
            record.get("method"),
            record.get("prompt_sha256"),
        )
        if not all(isinstance(value, str) and value for value in (judge, method, prompt)):
            return None
        encoder = record.get("encoder")
        return cls(
            str(judge), str(method), str(prompt), encoder if isinstance(encoder, str) else None
        )


PairKey = tuple[str, str, int, int, str]  # query id, doc id, start, end, text sha256


@dataclass(frozen=True)
class AutomaticGrade:
    query_id: str
    doc_id: str
    passage_id: str | None  # None where the judged unit is the whole document
    start: int
    end: int
    text_sha256: str
    grade: int | None  # 0–3; None: the labeller abstained
    source: LabellerSource
    # A continuous score where the method gives one (e.g. the expected grade from
    # log-probabilities), for AUC and for sampling by the labeller's uncertainty.
    score: float | None = None
    time: float = 0.0

    @property
    def pair(self) -> PairKey:
        """The same key as ``ragtui.judging.label_queue.pair_key`` gives a queue pair."""
        return (self.query_id, self.doc_id, self.start, self.end, self.text_sha256)

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["source"] = asdict(self.source)
        return {"v": RECORD_VERSION, **record}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> AutomaticGrade | None:
        """None when the record is unusable (a damaged or foreign line)."""
        source = LabellerSource.from_record(record.get("source"))
        query_id, doc_id = record.get("query_id"), record.get("doc_id")
        start, end, sha = record.get("start"), record.get("end"), record.get("text_sha256")
        grade, score = record.get("grade"), record.get("score")
        if source is None or not isinstance(query_id, str) or not isinstance(doc_id, str):
            return None
        if not isinstance(start, int) or not isinstance(end, int) or not isinstance(sha, str):
            return None
        if grade is not None and (isinstance(grade, bool) or grade not in GRADES):
            return None
        passage_id = record.get("passage_id")
        return cls(
            query_id=query_id,
            doc_id=doc_id,
            passage_id=passage_id if isinstance(passage_id, str) else None,
            start=start,
            end=end,
            text_sha256=sha,
            grade=None if grade is None else int(grade),
            source=source,
            score=float(score)
            if isinstance(score, (int, float)) and not isinstance(score, bool)
            else None,
            time=float(record.get("time") or 0.0),
        )


class AutomaticGrades:
    """The labeller grades of one test set folder."""

    def __init__(self, folder: Path) -> None:
        self.log = JsonlLog(folder / GRADES_FILE)

    def add(self, grade: AutomaticGrade) -> None:
        """Appended and fsync'd before it returns (a resumed run skips it)."""
        if not grade.time:
            grade = AutomaticGrade(**{**grade.__dict__, "time": time.time()})
        self.log.append(grade.to_record())

    def latest(self) -> dict[str, dict[PairKey, AutomaticGrade]]:
        """Source key → pair → its latest grade (abstentions included)."""
        by_source: dict[str, dict[PairKey, AutomaticGrade]] = {}
        for record in self.log.records():
            grade = AutomaticGrade.from_record(record)
            if grade is not None:
                by_source.setdefault(grade.source.key, {})[grade.pair] = grade
        return by_source

    def sources(self) -> list[LabellerSource]:
        """Every labeller that graded this set, in the order it first did."""
        seen: dict[str, LabellerSource] = {}
        for record in self.log.records():
            grade = AutomaticGrade.from_record(record)
            if grade is not None:
                seen.setdefault(grade.source.key, grade.source)
        return list(seen.values())

    def of(self, source: LabellerSource) -> dict[PairKey, AutomaticGrade]:
        return self.latest().get(source.key, {})


def graded(grades: Iterable[AutomaticGrade]) -> dict[PairKey, int]:
    """Pair → grade, leaving out abstentions."""
    return {grade.pair: grade.grade for grade in grades if grade.grade is not None}
