"""Bring a corpus's Milvus collection up to date: insert new, upsert changed, delete gone.

What the collection holds is read back (passage id and text hash) before anything is
written, so a load that was interrupted, or a corpus with one file edited, writes only
the difference. The corpus content key is recorded last: until then, searches warn that
the collection is behind the corpus.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ragtui.config.backends import BackendSettings
from ragtui.corpus.model import Corpus, Passage
from ragtui.index.cache import Indexes
from ragtui.progress import ProgressCallback, WorkProgress
from ragtui.retrieval.milvus import collection as coll
from ragtui.retrieval.milvus.connection import MilvusError, connect, explain, milvus_uri, shown_uri

log = logging.getLogger("ragtui")

WRITE_BATCH = 512
READ_BATCH = 4096


@dataclass(frozen=True)
class LoadReport:
    """What one load did to the collection."""

    collection: str
    uri: str
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    # "created", "recreated" (it held another model's vectors, or an older schema) or "updated"
    made: str
    elapsed_s: float

    @property
    def recreated(self) -> bool:
        return self.made == "recreated"

    def summary(self) -> str:
        return (
            f"milvus collection {self.collection} at {self.uri} {self.made}: "
            f"{self.inserted:,} inserted, {self.updated:,} updated, {self.deleted:,} deleted, "
            f"{self.unchanged:,} unchanged in {self.elapsed_s:.1f} s"
        )


def stored_hashes(client, name: str) -> dict[str, str]:
    """Every passage id in the collection with the hash of the text stored for it."""
    iterator = client.query_iterator(name, batch_size=READ_BATCH, output_fields=["text_hash"])
    stored: dict[str, str] = {}
    try:
        while True:
            rows = iterator.next()
            if not rows:
                break
            for row in rows:
                stored[str(row["passage_id"])] = str(row["text_hash"])
    finally:
        iterator.close()
    return stored


def _row(passage: Passage, vector: np.ndarray) -> tuple[dict[str, object], bool]:
    text, cut = coll.fit_text(passage.text)
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "source": passage.source,
        "start": passage.start,
        "end": passage.end,
        "text_hash": passage.content_hash,
        "text": text,
        "dense": vector.tolist(),
    }, cut


def _check_ids(corpus: Corpus) -> None:
    for passage in corpus.passages:
        for value in (passage.passage_id, passage.doc_id, passage.source):
            if len(value.encode("utf-8")) > coll.ID_MAX_BYTES:
                raise MilvusError(
                    f"passage id or source {value[:60]!r}… is longer than Milvus's "
                    f"{coll.ID_MAX_BYTES:,}-byte limit: shorten the file's path"
                )


def _prepare(client, name: str, corpus: Corpus, identity: str, dimension: int) -> str:
    """Make sure the collection exists for this encoder: "created", "recreated" or
    "updated" (it was there already and is brought up to date)."""
    if client.has_collection(name):
        info = coll.describe(client, name)
        if not info.is_ragtui:
            raise MilvusError(
                f"collection {name} exists but was not made by ragtui: drop or rename it"
            )
        if coll.newer_schema(info.schema):
            raise MilvusError(
                f"collection {name} was made by a newer ragtui (schema {info.schema}; this "
                f"one writes {coll.SCHEMA_VERSION}): upgrade ragtui, or drop the collection"
            )
        if info.model == identity and info.dimension == dimension:
            if info.schema == coll.SCHEMA_VERSION:
                client.load_collection(name)  # a released collection cannot be queried
                return "updated"
            # An older layout (schema 1 indexed text without an explicit lowercase filter).
            log.warning(
                "collection %s was made by an older ragtui (schema %s, now %s); re-creating it",
                name,
                info.schema,
                coll.SCHEMA_VERSION,
            )
        else:
            # Vectors of another model (or another build of it) cannot be mixed with ours.
            log.warning(
                "collection %s holds vectors of %s (%s dimensions); re-creating it for %s",
                name,
                info.model,
                info.dimension,
                identity,
            )
        client.drop_collection(name)
        coll.create(client, name, corpus, identity, dimension)
        return "recreated"
    coll.create(client, name, corpus, identity, dimension)
    return "created"


def load_corpus_into_milvus(
    indexes: Indexes,
    backends: BackendSettings,
    model: str,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Write the corpus's passages, text and ``model`` vectors into its collection."""
    started = time.monotonic()
    corpus = indexes.corpus
    uri = milvus_uri(backends)
    _check_ids(corpus)
    client = connect(backends)
    name = coll.collection_name(corpus, model)
    encoder = indexes.encoder(model)
    doing = f"loading collection {name}"
    try:
        made = _prepare(client, name, corpus, encoder.identity, encoder.dimension)
        stored = {} if made != "updated" else stored_hashes(client, name)
    except MilvusError:
        raise
    except Exception as error:
        raise explain(error, uri, doing) from None

    current = {passage.passage_id: row for row, passage in enumerate(corpus.passages)}
    new_rows = [row for pid, row in current.items() if pid not in stored]
    changed_rows = [
        row
        for pid, row in current.items()
        if pid in stored and stored[pid] != corpus.passages[row].content_hash
    ]
    gone = [pid for pid in stored if pid not in current]
    unchanged = len(current) - len(new_rows) - len(changed_rows)

    vectors = indexes.embeddings(model) if new_rows or changed_rows else None
    total = len(new_rows) + len(changed_rows)
    written = 0
    cut_texts = 0
    write_started = time.monotonic()
    try:
        for rows, write in ((new_rows, client.insert), (changed_rows, client.upsert)):
            for first in range(0, len(rows), WRITE_BATCH):
                batch = []
                for row in rows[first : first + WRITE_BATCH]:
                    record, cut = _row(corpus.passages[row], vectors[row])  # type: ignore[index]
                    batch.append(record)
                    cut_texts += cut
                write(name, batch)
                written += len(batch)
                if progress is not None:
                    progress(
                        WorkProgress(
                            written, total, time.monotonic() - write_started, "writing to milvus"
                        )
                    )
        for first in range(0, len(gone), WRITE_BATCH):
            client.delete(name, ids=gone[first : first + WRITE_BATCH])
        if total or gone:
            client.flush(name)
        client.alter_collection_properties(
            name,
            properties={
                coll.PROP_CONTENT: corpus.content_key,
                coll.PROP_PASSAGES: str(len(corpus.passages)),
            },
        )
        client.load_collection(name)
    except Exception as error:
        raise explain(error, uri, doing) from None
    if cut_texts:
        log.warning(
            "%d passages are longer than Milvus's %d-byte text limit: milvus:bm25 sees only "
            "their beginning",
            cut_texts,
            coll.TEXT_MAX_BYTES,
        )
    return LoadReport(
        collection=name,
        uri=shown_uri(uri),
        inserted=len(new_rows),
        updated=len(changed_rows),
        deleted=len(gone),
        unchanged=unchanged,
        made=made,
        elapsed_s=time.monotonic() - started,
    )
