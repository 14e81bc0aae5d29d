"""Attach stored labels to the passages of the corpus as it is now, or report them stale.

A label names the text it graded (document, character span, hash, the text itself). When
the corpus is re-chunked or a file is edited, the label follows its text:

* the span still holds the same text → it stays there;
* the text moved within its document (an edit above it) → it moves with it;
* otherwise (the text was changed or its document removed) it is *stale*: kept on disk,
  listed, never used as ground truth.

A label then grades the current passages that mostly overlap its span (at least half of
the shorter of the two), so a grade made on a 180-word passage carries to the 60-word
passages inside it, and a grade made on a small passage carries to the larger one that
contains it. When several labels reach one passage the highest grade wins; a grade made
on exactly that passage (including a cleared one) wins over all of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ragtui.corpus.model import Corpus, Document, Passage
from ragtui.display.safe_text import json_line
from ragtui.judging.store import JudgmentStore, JudgmentStoreError, Label
from ragtui.judging.trec_ids import trec_id


@dataclass(frozen=True)
class StaleLabel:
    label: Label
    reason: str


@dataclass
class ResolvedLabels:
    """The labels of one store against one corpus."""

    grades: dict[str, dict[str, int]] = field(default_factory=dict)  # query → passage → grade
    queries: dict[str, str] = field(default_factory=dict)  # query id → text
    stale: list[StaleLabel] = field(default_factory=list)
    moved: int = 0  # anchored labels now graded on other passages or offsets
    unverified: int = 0  # labels from before anchors, attached by passage id

    def summary(self) -> str:
        """One line for the user about labels that did not attach as they were made."""
        parts = []
        if self.stale:
            reasons: dict[str, int] = {}
            for item in self.stale:
                reasons[item.reason] = reasons.get(item.reason, 0) + 1
            listed = "; ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
            parts.append(f"{len(self.stale)} stale labels not used ({listed})")
        if self.moved:
            parts.append(f"{self.moved} labels followed their text to new passages")
        if self.unverified:
            parts.append(
                f"{self.unverified} labels from an older ragtui attached by passage id "
                "(their text was not recorded)"
            )
        return "; ".join(parts)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LabelResolver:
    """Finds where a label's text is in the current corpus; built once per corpus."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.documents: dict[str, Document] = {doc.doc_id: doc for doc in corpus.documents}
        self.passages_of: dict[str, list[Passage]] = {}
        for passage in corpus.passages:
            self.passages_of.setdefault(passage.doc_id, []).append(passage)

    def locate(self, label: Label) -> tuple[int, int] | str:
        """The label's span in its document now, or why it cannot be found."""
        assert label.start is not None and label.end is not None and label.text_sha256
        return locate_text(
            self.documents.get(label.doc_id), label.start, label.end, label.text_sha256, label.text
        )

    def covering(self, doc_id: str, start: int, end: int) -> list[Passage]:
        """Current passages that mostly overlap [start, end)."""
        chosen = []
        for passage in self.passages_of.get(doc_id, []):
            overlap = min(end, passage.end) - max(start, passage.start)
            shorter = min(end - start, passage.end - passage.start)
            if overlap > 0 and overlap * 2 >= shorter:
                chosen.append(passage)
        return chosen

    def resolve_query(self, judged: Iterable[Label], result: ResolvedLabels) -> dict[str, int]:
        """Grades by current passage id for one query's labels; stale ones go to result."""
        inherited: dict[str, int] = {}
        exact: dict[str, int | None] = {}
        for label in judged:
            if not label.anchored:
                if label.passage_id in self.corpus.passage_index:
                    exact[label.passage_id] = label.grade
                    result.unverified += label.grade is not None
                elif label.grade is not None:
                    result.stale.append(StaleLabel(label, "passage no longer in the corpus"))
                continue
            where = self.locate(label)
            if isinstance(where, str):
                if label.grade is not None:
                    result.stale.append(StaleLabel(label, where))
                continue
            start, end = where
            passages = self.covering(label.doc_id, start, end)
            same = [p for p in passages if (p.start, p.end) == (start, end)]
            if same:
                exact[same[0].passage_id] = label.grade
                continue
            if label.grade is None:
                continue
            if not passages:
                result.stale.append(StaleLabel(label, "no passage covers its text"))
                continue
            # A grade of a whole document (a BEIR set's judged unit) reaches each of its
            # passages where it always was: its text did not move.
            if (start, end) != (0, len(self.documents[label.doc_id].text)):
                result.moved += 1
            for passage in passages:
                inherited[passage.passage_id] = max(
                    label.grade, inherited.get(passage.passage_id, -1)
                )
        grades = dict(inherited)
        for passage_id, grade in exact.items():
            if grade is None:
                grades.pop(passage_id, None)
            else:
                grades[passage_id] = grade
        return grades


def locate_text(
    document: Document | None, start: int, end: int, text_sha256: str, text: str | None
) -> tuple[int, int] | str:
    """Where a judged text is in its document now: the same span when it still holds the
    text, else the occurrence of the text nearest its old place; or why it cannot be found.
    Labels and generated questions both follow their text by it."""
    if document is None:
        return "document no longer in the corpus"
    if _sha256(document.text[start:end]) == text_sha256:
        return start, end
    if text:
        found = [
            position
            for position in _occurrences(document.text, text)
            if _sha256(document.text[position : position + len(text)]) == text_sha256
        ]
        if found:
            position = min(found, key=lambda value: abs(value - start))
            return position, position + len(text)
    return "text changed in its document"


def _occurrences(text: str, needle: str) -> Iterable[int]:
    position = text.find(needle)
    while position >= 0:
        yield position
        position = text.find(needle, position + 1)


def resolve_labels(
    labels: Mapping[str, Mapping[tuple[str, ...], Label]], corpus: Corpus
) -> ResolvedLabels:
    """Every query's labels attached to the corpus as it is now."""
    resolver = LabelResolver(corpus)
    result = ResolvedLabels()
    for query_id, judged in labels.items():
        grades = resolver.resolve_query(judged.values(), result)
        if grades:
            result.grades[query_id] = grades
            result.queries[query_id] = next(iter(judged.values())).query
    return result


def export_qrels(resolved: ResolvedLabels, destination: Path, fmt: str = "beir") -> Path:
    """Write the attached labels as BEIR (queries.jsonl + qrels/test.tsv) or TREC qrels.

    Judgments are per passage of the corpus as it is now; stale labels are left out.
    """
    # Ids with whitespace (folder corpora name passages by path) are percent-encoded, as
    # in eval's runs, so every line keeps its columns.
    rows = [
        (trec_id(query_id), trec_id(passage_id), grade)
        for query_id in sorted(resolved.grades)
        for passage_id, grade in sorted(resolved.grades[query_id].items())
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
            for query_id, text in sorted(resolved.queries.items()):
                handle.write(json_line({"_id": query_id, "text": text}) + "\n")
        lines = ["query-id\tcorpus-id\tscore\n"]
        lines += [f"{qid}\t{pid}\t{grade}\n" for qid, pid, grade in rows]
        (destination / "qrels" / "test.tsv").write_text("".join(lines), encoding="utf-8")
    except OSError as error:
        raise JudgmentStoreError(f"cannot write {destination} ({error.strerror})") from None
    return destination


def labels_for_corpus(
    corpus: Corpus, data_root: Path | None = None
) -> tuple[JudgmentStore, ResolvedLabels]:
    """The corpus's judgment store and its labels attached to the corpus as it is now."""
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, data_root)
    return store, resolve_labels(store.labels(), corpus)
