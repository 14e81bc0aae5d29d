"""Resuming a set: which passages are done, which are to ask about, and when the set on
disk cannot be continued.

A passage is done when its latest record holds an outcome from the model; a failed call
(backend down, timeout) is not an outcome, so that passage is asked about again on the
next run. A set is continued only on the same passages: with other chunking, or after a
sampled document was edited, the passage at an index is another text, and records and
new questions would disagree about what the set was written from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus, Passage
from ragtui.testsets.provenance import chunking_of
from ragtui.testsets.store import TestsetError, latest_records

FAILED = "failed"
# A run stops after this many failed passages in a row: the backend has gone away, and
# asking on would only wait out a timeout per passage. The next run asks about them again.
STOP_AFTER_FAILURES = 3


@dataclass
class ResumePoint:
    done: dict[int, dict[str, Any]] = field(default_factory=dict)  # index → latest record
    retried: int = 0  # passages whose last call failed, asked about again now

    @property
    def kept_questions(self) -> list[str]:
        return [
            str(record["question"])
            for _, record in sorted(self.done.items())
            if record.get("verdict") == "kept"
        ]


def refuse_other_settings(
    name: str, meta_path: Path, earlier: dict[str, Any] | None, settings: dict[str, Any]
) -> None:
    if earlier is None:
        return
    # Sets made before -n could grow a set kept the count among their settings.
    stored = {k: v for k, v in (earlier.get("settings") or {}).items() if k != "count"}
    if stored != settings:
        raise TestsetError(
            f"test set {name!r} was made with other settings ({meta_path}): "
            "choose another --name, or remove that folder"
        )


def _chunking_text(chunking: dict[str, Any]) -> str:
    tokens, overlap = chunking.get("max_tokens"), chunking.get("overlap_tokens")
    return f"--chunk-tokens {tokens} --chunk-overlap {overlap}"


def resume_point(
    name: str,
    meta_path: Path,
    earlier: dict[str, Any] | None,
    records: list[dict[str, Any]],
    corpus: Corpus,
    sampled: list[Passage],
) -> ResumePoint:
    """The done passages of the set on disk, after checking they are still the passages
    the sample gives (``sampled`` covers every index the set has recorded)."""
    point = ResumePoint()
    if earlier is None and not records:
        return point
    stored_chunking = (earlier or {}).get("chunking")
    if stored_chunking is not None and stored_chunking != chunking_of(corpus):
        raise TestsetError(
            f"test set {name!r} was written from passages chunked with "
            f"{_chunking_text(stored_chunking)} ({meta_path}); resume it with those, "
            "or choose another --name"
        )
    for record in latest_records(records):
        index = int(record["index"])
        passage = sampled[index] if index < len(sampled) else None
        if passage is None or (passage.passage_id, passage.content_hash) != (
            record.get("passage_id"),
            record.get("text_hash"),
        ):
            raise TestsetError(
                f"test set {name!r} was written from other passages than {corpus.root} gives "
                f"now (passage {index + 1}, {record.get('passage_id')}, was edited, removed or "
                f"chunked otherwise; {meta_path}): choose another --name to make a new set"
            )
        if record.get("verdict") == FAILED:
            point.retried += 1
        else:
            point.done[index] = record
    return point
