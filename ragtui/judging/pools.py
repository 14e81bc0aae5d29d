"""Pools: per query, the union of every compared retriever's top ``depth``, as TREC pools.

Stored with the test set as ``pool.jsonl``, append-only: one record per search (query,
retriever, depth, corpus content and chunking), listing what it placed at each rank with
the item's span and text sha256. The pool of a corpus is the union of the records made on
its content and chunking (``pool_key``), so a later call with more retrievers or a larger
depth extends it and nothing placed before is lost; a search already recorded at that
depth or deeper on the same corpus content is not run again. Searches made on another
content or chunking stay on disk but are not part of the pool: their ranks were of other
text (an edited file moves every rank after it). Grades never live in the pool, so none
is lost when the corpus changes; they follow their text in the judgment store.

The judged unit follows eval's (``EvalDataset.judged_unit``): passages for folders,
documents for BEIR corpora. A document's span is its whole text; a retriever's documents
are ranked by their best passage, as eval scores them (``ragtui.metrics.scores_by_unit``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus, Document, Passage
from ragtui.judging.store import JsonlLog
from ragtui.metrics import scores_by_unit, trec_order
from ragtui.retrieval.types import Retriever

log = logging.getLogger("ragtui")

POOL_FILE = "pool.jsonl"
DEFAULT_DEPTH = 10


@dataclass(frozen=True)
class JudgedText:
    """What one pool item names: a passage, or a whole document (``passage_id`` None)."""

    judged_id: str
    doc_id: str
    passage_id: str | None
    start: int
    end: int
    text: str
    text_sha256: str


class UnitTexts:
    """The current text of passage or document ids of one corpus."""

    def __init__(self, corpus: Corpus, unit: str) -> None:
        self.corpus = corpus
        self.unit = unit
        self.documents = {d.doc_id: d for d in corpus.documents} if unit == "document" else {}

    def get(self, judged_id: str) -> JudgedText | None:
        """None when the corpus no longer holds that id."""
        if self.unit == "document":
            document = self.documents.get(judged_id)
            return None if document is None else _document_text(document)
        row = self.corpus.passage_index.get(judged_id)
        return None if row is None else _passage_text(self.corpus.passages[row])


def _document_text(document: Document) -> JudgedText:
    return JudgedText(
        document.doc_id,
        document.doc_id,
        None,
        0,
        len(document.text),
        document.text,
        document.content_hash,
    )


def _passage_text(passage: Passage) -> JudgedText:
    return JudgedText(
        passage.passage_id,
        passage.doc_id,
        passage.passage_id,
        passage.start,
        passage.end,
        passage.text,
        passage.content_hash,
    )


@dataclass
class PoolItem:
    """One (query, judged id) of the pool and where each retriever placed it."""

    query_id: str
    judged_id: str
    doc_id: str
    passage_id: str | None
    start: int
    end: int
    text_sha256: str
    placed: dict[str, int] = field(default_factory=dict)  # retriever → rank (from 1)

    def within(self, retrievers: Iterable[str], depth: int) -> list[str]:
        """The retrievers (of those given) that placed it in their top depth."""
        return [r for r in retrievers if self.placed.get(r, depth + 1) <= depth]


@dataclass
class Pool:
    unit: str
    items: dict[str, dict[str, PoolItem]] = field(default_factory=dict)  # query → id → item
    searched: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    other_content: int = 0  # stored searches of another corpus content or chunking

    def pairs(
        self,
        retrievers: Iterable[str] | None = None,
        depth: int | None = None,
        *,
        only_differing: bool = False,
    ) -> list[PoolItem]:
        """The pool of a comparison: items some given retriever placed in its top depth.

        ``only_differing``: leave out items every given retriever placed there (they move
        no comparison of those retrievers). In (query id, judged id) order.
        """
        chosen: list[PoolItem] = []
        for query_id in sorted(self.items):
            for judged_id in sorted(self.items[query_id]):
                item = self.items[query_id][judged_id]
                names = list(retrievers) if retrievers is not None else list(item.placed)
                limit = depth if depth is not None else max(item.placed.values(), default=0)
                found = item.within(names, limit)
                if not found:
                    continue
                if only_differing and len(found) == len(names):
                    continue
                chosen.append(item)
        return chosen


def _placements(record: dict[str, Any]) -> list[tuple[int, dict[str, Any]]] | None:
    """(rank, item) of one stored search, or None when the record is damaged."""
    ranked = record.get("ranked")
    if not isinstance(ranked, list) or not record.get("query_id") or not record.get("retriever"):
        return None
    placements = []
    for position, placed in enumerate(ranked, start=1):
        if not isinstance(placed, dict) or not all(
            key in placed for key in ("id", "doc_id", "start", "end", "text_sha256")
        ):
            return None
        if not isinstance(placed["start"], int) or not isinstance(placed["end"], int):
            return None
        rank = placed.get("rank", position)
        placements.append((rank if isinstance(rank, int) else position, placed))
    return placements


def pool_key(corpus: Corpus) -> str:
    """What a stored search must have been made on to be part of this corpus's pool."""
    return f"{corpus.content_key}/{corpus.chunking.key}"


def read_pool(folder: Path, unit: str, corpus_key: str) -> Pool:
    """The pool stored in a test set's folder for the corpus of ``corpus_key``
    (``pool_key``); empty when none was built on it."""
    pool = Pool(unit)
    damaged = 0
    for record in JsonlLog(folder / POOL_FILE).records():
        if record.get("unit") != unit:
            continue
        placements = _placements(record)
        if placements is None:
            damaged += 1
            continue
        if f"{record.get('corpus_key')}/{record.get('chunking')}" != corpus_key:
            pool.other_content += 1
            continue
        query_id, retriever = str(record["query_id"]), str(record["retriever"])
        key = (query_id, retriever)
        depth = record.get("depth") if isinstance(record.get("depth"), int) else 0
        earlier = pool.searched.get(key)
        if earlier is None or depth > earlier[0]:
            pool.searched[key] = (depth, corpus_key)
        judged = pool.items.setdefault(query_id, {})
        for rank, placed in placements:
            judged_id = str(placed["id"])
            passage_id = placed.get("passage_id")
            item = judged.get(judged_id)
            if item is None:
                item = judged[judged_id] = PoolItem(
                    query_id,
                    judged_id,
                    str(placed["doc_id"]),
                    None if passage_id is None else str(passage_id),
                    placed["start"],
                    placed["end"],
                    str(placed["text_sha256"]),
                )
            else:  # the latest search's span and text stand for the item
                item.start, item.end = placed["start"], placed["end"]
                item.text_sha256 = str(placed["text_sha256"])
            item.placed[retriever] = rank
    if damaged:
        log.warning(
            "%s: %d damaged pool records skipped (the searches are run again)",
            folder / POOL_FILE,
            damaged,
        )
    return pool


def _ranked(retriever: Retriever, corpus: Corpus, query: str, unit: str, depth: int):
    """A retriever's top depth in the unit, in eval's order (``trec_order``: score, then id,
    both descending); documents need enough passages to fill it.

    Items tied at the cut are ordered by id, as eval orders them, so more hits are fetched
    until no hit left out could tie the last one kept: otherwise a tie (BM25's zero scores
    on a small corpus) would put other passages in the pool than in eval's top k.
    """
    k = depth
    while True:
        hits = retriever.search(query, k).hits
        scores = scores_by_unit(hits, unit)
        ranked = trec_order(scores)
        if len(hits) < k or k >= len(corpus.passages):
            return ranked[:depth]
        if len(ranked) >= depth and min(hit.score for hit in hits) < scores[ranked[depth - 1]]:
            return ranked[:depth]
        k = min(k * 4, len(corpus.passages))


def extend_pool(
    folder: Path,
    corpus: Corpus,
    unit: str,
    queries: Mapping[str, str],
    retrievers: Mapping[str, Retriever],
    depth: int = DEFAULT_DEPTH,
    progress: Callable[[int, int], None] | None = None,
) -> Pool:
    """Add every retriever's top depth for every query to the stored pool; returns it.

    Searches already stored at this depth or deeper on this corpus content are skipped.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    searches = JsonlLog(folder / POOL_FILE)
    corpus_key = pool_key(corpus)
    pool = read_pool(folder, unit, corpus_key)
    texts_of = UnitTexts(corpus, unit)
    todo = [
        (query_id, name)
        for query_id in queries
        for name in retrievers
        if pool.searched.get((query_id, name), (0, ""))[0] < depth
    ]
    for done, (query_id, name) in enumerate(todo, start=1):
        ranked = _ranked(retrievers[name], corpus, queries[query_id], unit, depth)
        texts = [texts_of.get(judged_id) for judged_id in ranked]
        searches.append(
            {
                "query_id": query_id,
                "retriever": name,
                "depth": depth,
                "unit": unit,
                "corpus_key": corpus.content_key,
                "chunking": corpus.chunking.key,
                "time": time.time(),
                "ranked": [
                    {
                        "rank": rank,
                        "id": text.judged_id,
                        "doc_id": text.doc_id,
                        "passage_id": text.passage_id,
                        "start": text.start,
                        "end": text.end,
                        "text_sha256": text.text_sha256,
                    }
                    for rank, text in enumerate(texts, start=1)
                    if text is not None
                ],
            }
        )
        if progress is not None:
            progress(done, len(todo))
    return read_pool(folder, unit, corpus_key)
