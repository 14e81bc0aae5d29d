"""Every relevance judgment a test set holds, merged into one grade per (query, judged id),
each naming where it came from.

Three sources, in this order of precedence (the first that judged a pair decides it):

1. **human**: the person's grades in the corpus's judgment store for the set's query ids
   (the blind labeling screen, ``ragtui label import``, the compare screen), attached to
   the corpus as it is now by their text (``ragtui.judging.anchors``). The person is the
   ground truth, so a person's 0 on a generated question's source passage stands.
2. **source passage**: for a generated set, the passage (or document) each question was
   written from, found by its text. It outranks a labeller because it is a fact about how
   the question was made and checked (the round trip answered it from that passage),
   while a labeller model is an unmeasured opinion; the packaged models separate relevant
   from non-relevant pairs no better than chance (issue 28). The set only knows that the
   passage is relevant, not how much: where the chosen labeller graded the same pair
   higher, its grade sets the level (so the source passage sits on the labeller's scale
   with the passages it graded), but a labeller never makes it less than relevant.
3. **labeller**: the grades of one labeller model (``ragtui.judging.automatic_grades``).
   Two labellers are never mixed: with several, the caller names one (``eval
   --labeller``); with several and none named, none is used and the warning lists them.

Everything else is unjudged. Only grades of the text the corpus holds now count: a human
label follows its text or is stale; a labeller's grade counts when a current passage (or
document) has its span and its text hash. Stale grades are counted and named in a
warning, never used.

Issue 29's prediction-powered estimates read the same merge: ``judgments`` keeps each
grade with its source, so human and labeller grades can be told apart per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ragtui.corpus.model import Corpus
from ragtui.errors import RagtuiError
from ragtui.judging.anchors import resolve_labels
from ragtui.judging.automatic_grades import AutomaticGrade, AutomaticGrades, LabellerSource
from ragtui.judging.store import JudgmentStore
from ragtui.testsets.store import StoredTestset

HUMAN = "human"
SOURCE_PASSAGE = "source passage"
LABELLER = "labeller"
SOURCES = (HUMAN, SOURCE_PASSAGE, LABELLER)  # highest precedence first


class LabellerChoiceError(RagtuiError):
    """``--labeller`` names no labeller of the set, or several."""


@dataclass(frozen=True)
class Judgment:
    grade: int  # 0–3
    source: str  # one of SOURCES


@dataclass(frozen=True)
class PooledJudgments:
    """The merged judgments of one test set on one corpus."""

    unit: str  # what judged ids name: "passage" or "document"
    judgments: dict[str, dict[str, Judgment]]  # query id → judged id → judgment
    labeller: LabellerSource | None  # the labeller whose grades were used
    labellers: tuple[LabellerSource, ...] = ()  # every labeller that graded the set
    stale: dict[str, int] = field(default_factory=dict)  # source → grades not used
    warnings: tuple[str, ...] = ()

    def qrels(self, query_ids: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
        """Query id → judged id → grade, as eval scores them."""
        chosen = self.judgments if query_ids is None else _only(self.judgments, query_ids)
        return {
            query_id: {judged_id: j.grade for judged_id, j in judged.items()}
            for query_id, judged in chosen.items()
            if judged
        }

    def counts(self, query_ids: Iterable[str] | None = None) -> dict[str, int]:
        """Source → judgments used (each source present, zeros included)."""
        chosen = self.judgments if query_ids is None else _only(self.judgments, query_ids)
        counts = dict.fromkeys(SOURCES, 0)
        for judged in chosen.values():
            for judgment in judged.values():
                counts[judgment.source] += 1
        return counts

    def describe(self, query_ids: Iterable[str] | None = None) -> str:
        """``human 12, source passage 0, labeller 30 (judge … (pointwise, prompt …))``."""
        counts = self.counts(query_ids)
        parts = [f"{HUMAN} {counts[HUMAN]}", f"{SOURCE_PASSAGE} {counts[SOURCE_PASSAGE]}"]
        if self.labeller is not None:
            parts.append(f"{LABELLER} {counts[LABELLER]} ({self.labeller.describe()})")
        else:
            parts.append(f"{LABELLER} 0")
        return ", ".join(parts)


def _only(
    judgments: Mapping[str, dict[str, Judgment]], query_ids: Iterable[str]
) -> dict[str, dict[str, Judgment]]:
    return {query_id: judgments[query_id] for query_id in query_ids if query_id in judgments}


def choose_labeller(
    sources: list[LabellerSource], wanted: str | None, where: str
) -> tuple[LabellerSource | None, list[str]]:
    """The labeller whose grades count, and warnings; never two at once.

    ``wanted`` matches a source's key or its description by substring. With several
    labellers and none wanted, none is used (mixing two would make one grade scale of two).
    """
    if wanted is not None:
        matching = [
            source for source in sources if wanted in source.key or wanted in source.describe()
        ]
        if len(matching) == 1:
            return matching[0], []
        listed = "; ".join(source.describe() for source in sources) or "none"
        if not matching:
            raise LabellerChoiceError(
                f"--labeller {wanted!r} names no labeller of {where} (graded by: {listed})"
            )
        raise LabellerChoiceError(
            f"--labeller {wanted!r} names {len(matching)} labellers of {where} ({listed}); "
            "give more of the judge, method or prompt hash"
        )
    if len(sources) == 1:
        return sources[0], []
    if len(sources) > 1:
        listed = "; ".join(source.describe() for source in sources)
        return None, [
            f"{where}: {len(sources)} labellers graded this set ({listed}); none of their "
            "grades is used, choose one with --labeller TEXT (part of its judge, method or "
            "prompt hash)"
        ]
    return None, []


def _labeller_grades(
    grades: Iterable[AutomaticGrade], corpus: Corpus, unit: str, query_ids: set[str]
) -> tuple[dict[str, dict[str, int]], int]:
    """Query → judged id → grade of one labeller, for grades of the current text only;
    and how many were stale. Abstentions are unjudged."""
    by_span = {(p.doc_id, p.start, p.end): p for p in corpus.passages}
    documents = {document.doc_id: document for document in corpus.documents}
    judged: dict[str, dict[str, int]] = {}
    stale = 0
    for grade in grades:
        if grade.grade is None or grade.query_id not in query_ids:
            continue
        if unit == "document":
            document = documents.get(grade.doc_id)
            current = document is not None and document.content_hash == grade.text_sha256
            judged_id = grade.doc_id
            # A passage's grade is not a document's: the set judges documents.
            current = current and grade.passage_id is None
        else:
            passage = by_span.get((grade.doc_id, grade.start, grade.end))
            current = passage is not None and passage.content_hash == grade.text_sha256
            judged_id = passage.passage_id if passage is not None else ""
        if not current:
            stale += 1
            continue
        judged.setdefault(grade.query_id, {})[judged_id] = grade.grade
    return judged, stale


def _human_grades(
    store: JudgmentStore, corpus: Corpus, unit: str, query_ids: set[str]
) -> tuple[dict[str, dict[str, int]], str, int]:
    """Query → judged id → the person's grade; the stale summary and count.

    A document is as relevant as its most relevant graded passage (eval ranks a document
    by its best passage); a grade made on a whole document reaches all its passages.
    """
    labels = {
        query_id: judged for query_id, judged in store.labels().items() if query_id in query_ids
    }
    resolved = resolve_labels(labels, corpus)
    if unit != "document":
        return resolved.grades, resolved.summary(), len(resolved.stale)
    doc_of = {passage.passage_id: passage.doc_id for passage in corpus.passages}
    lifted: dict[str, dict[str, int]] = {}
    for query_id, grades in resolved.grades.items():
        for passage_id, grade in grades.items():
            doc_id = doc_of[passage_id]
            per_query = lifted.setdefault(query_id, {})
            per_query[doc_id] = max(grade, per_query.get(doc_id, -1))
    return lifted, resolved.summary(), len(resolved.stale)


def pooled_judgments(
    corpus: Corpus,
    testset: StoredTestset,
    query_ids: Iterable[str],
    unit: str,
    *,
    source_passages: Mapping[str, Mapping[str, int]] | None = None,
    labeller: str | None = None,
    data_root: Path | None = None,
) -> PooledJudgments:
    """Every judgment of the set's queries, one per (query, judged id), by precedence.

    ``source_passages``: a generated set's judgments by the passage each question was
    written from (already found by its text in the corpus as it is now). ``labeller``
    chooses among several labellers (see ``choose_labeller``).
    """
    wanted = set(query_ids)
    warnings: list[str] = []
    stale: dict[str, int] = {}

    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, data_root)
    human, summary, stale[HUMAN] = _human_grades(store, corpus, unit, wanted)
    if summary:
        warnings.append(f"{store.labels_log.path}: your grades of this set: {summary}")

    automatic = AutomaticGrades(testset.folder)
    sources = automatic.sources()
    chosen, more = choose_labeller(sources, labeller, f"test set {testset.name!r}")
    warnings.extend(more)
    machine: dict[str, dict[str, int]] = {}
    stale[LABELLER] = 0
    if chosen is not None:
        machine, stale[LABELLER] = _labeller_grades(
            automatic.of(chosen).values(), corpus, unit, wanted
        )
        if stale[LABELLER]:
            warnings.append(
                f"{automatic.log.path}: {stale[LABELLER]} grades of {chosen.describe()} are "
                "of text the corpus no longer holds (changed, re-chunked or removed) or of "
                f"another unit than the set's ({unit}s); not used"
            )

    merged: dict[str, dict[str, Judgment]] = {}
    for query_id in sorted(wanted):
        judged: dict[str, Judgment] = {
            judged_id: Judgment(grade, LABELLER)
            for judged_id, grade in machine.get(query_id, {}).items()
        }
        for judged_id, grade in (source_passages or {}).get(query_id, {}).items():
            level = machine.get(query_id, {}).get(judged_id, 0)
            judged[judged_id] = Judgment(max(grade, level), SOURCE_PASSAGE)
        for judged_id, grade in human.get(query_id, {}).items():
            judged[judged_id] = Judgment(grade, HUMAN)
        if judged:
            merged[query_id] = judged
    return PooledJudgments(
        unit=unit,
        judgments=merged,
        labeller=chosen,
        labellers=tuple(sources),
        stale=stale,
        warnings=tuple(warnings),
    )
