"""What a comparison session tells its face: small frozen values, one per happening.

Events about a run carry the pane and the run id; the session drops those of a run that
has been superseded (a new query, a re-run, a swap) before a face sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ragtui.pipeline import RunStats
from ragtui.retrieval.types import SearchResult


@dataclass(frozen=True)
class Mark:
    """A relevance grade shown on a passage: the user's own, or the dataset's."""

    grade: int
    source: str  # "yours" or "dataset"


@dataclass(frozen=True)
class Judgments:
    """What a pane shows about relevance: marks on its passages and its live figures."""

    marks: Mapping[str, Mark] = field(default_factory=dict)  # passage id → mark
    figures: Mapping[str, float] = field(default_factory=dict)  # "nDCG@5" → value
    source: str = ""  # whose judgments the figures use


@dataclass(frozen=True)
class LoadStage:
    """A slow start-up step begins or progresses (``done``/``total`` when countable)."""

    text: str
    done: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class CorpusOpened:
    summary: str
    history: tuple[str, ...]


@dataclass(frozen=True)
class LoadFailed:
    message: str


@dataclass(frozen=True)
class SessionReady:
    """Every pane's pipeline has been built (or failed to build)."""

    summary: str


@dataclass(frozen=True)
class QueryRestored:
    """The last session's query is shown again; typing should replace it."""

    query: str


@dataclass(frozen=True)
class PaneSpecChanged:
    """A pane now runs another pipeline; whatever it showed is void."""

    pane: str
    spec: str


@dataclass(frozen=True)
class PaneStatus:
    pane: str
    text: str
    error: bool = False
    run_id: str | None = None


@dataclass(frozen=True)
class RunStarted:
    pane: str
    run_id: str
    query: str
    restored: bool = False


@dataclass(frozen=True)
class HitsRetrieved:
    pane: str
    run_id: str
    result: SearchResult
    judgments: Judgments


@dataclass(frozen=True)
class RunQueued:
    pane: str
    run_id: str
    reason: str


@dataclass(frozen=True)
class AnswerDelta:
    pane: str
    run_id: str
    text: str


@dataclass(frozen=True)
class RunEnded:
    pane: str
    run_id: str
    answer: str
    stats: RunStats | None
    error: str | None
    restored: bool = False


@dataclass(frozen=True)
class JudgmentsChanged:
    pane: str
    run_id: str
    judgments: Judgments


@dataclass(frozen=True)
class Notice:
    text: str
    severity: str = "information"  # "information", "warning" or "error"


SessionEvent = (
    LoadStage
    | CorpusOpened
    | LoadFailed
    | SessionReady
    | QueryRestored
    | PaneSpecChanged
    | PaneStatus
    | RunStarted
    | HitsRetrieved
    | RunQueued
    | AnswerDelta
    | RunEnded
    | JudgmentsChanged
    | Notice
)
