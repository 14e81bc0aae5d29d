"""Generated questions attached to the corpus as it is now, by the text they were written
from (as the app's labels are, see ``ragtui.judging.anchors``).

A question's judgment names its source passage: document, span, text hash and the text.
When the corpus is chunked otherwise (``eval --chunk-tokens``) or a document is edited:

* the span still holds the text, or the text moved within its document → the question is
  judged by the current passages covering that text (or its document, for BEIR corpora);
* otherwise its text is gone: the question is *stale*, left out of scoring and counted.

So a question is never scored against a span that holds other text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ragtui.corpus.model import Corpus
from ragtui.judging.anchors import LabelResolver, locate_text


@dataclass
class AnchoredQuestions:
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)  # query → judged id → 1
    stale: dict[str, str] = field(default_factory=dict)  # query id → why it is not scored
    moved: int = 0  # questions judged by other passages than they were written from

    def summary(self) -> str:
        """One line about questions that did not attach as they were written."""
        parts = []
        if self.stale:
            reasons = Counter(self.stale.values())
            listed = "; ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
            parts.append(f"{len(self.stale)} generated questions not scored ({listed})")
        if self.moved:
            parts.append(
                f"{self.moved} generated questions followed their source text to other "
                "passages (other chunking, or an edit above it)"
            )
        return "; ".join(parts)


def anchor_questions(
    records: Iterable[dict[str, Any]], unit: str, corpus: Corpus
) -> AnchoredQuestions:
    """Each record's judgment on the corpus as it is now, in ``unit`` ids."""
    resolver = LabelResolver(corpus)
    anchored = AnchoredQuestions()
    for record in records:
        query_id = str(record["query_id"])
        doc_id = str(record.get("doc_id"))
        start, end, text_hash = record.get("start"), record.get("end"), record.get("text_hash")
        if start is None or end is None or not text_hash:
            anchored.stale[query_id] = "no source text recorded"
            continue
        where = locate_text(
            resolver.documents.get(doc_id), int(start), int(end), str(text_hash), record.get("text")
        )
        if isinstance(where, str):
            anchored.stale[query_id] = where
            continue
        if unit == "document":
            anchored.qrels[query_id] = {doc_id: 1}
            continue
        covering = resolver.covering(doc_id, *where)
        same = [passage for passage in covering if (passage.start, passage.end) == where]
        judged = same[:1] or covering
        if not judged:
            anchored.stale[query_id] = "no passage covers its text"
            continue
        if [passage.passage_id for passage in judged] != [record.get("passage_id")]:
            anchored.moved += 1
        anchored.qrels[query_id] = {passage.passage_id: 1 for passage in judged}
    return anchored
