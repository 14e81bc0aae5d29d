"""Which passages questions are written from: spread over the documents, seeded."""

from __future__ import annotations

import random
from collections import defaultdict

from ragtui.corpus.model import Corpus, Passage

# Shorter passages rarely hold anything a search question could be about.
MIN_WORDS = 20


def sample_passages(corpus: Corpus, count: int, seed: int) -> list[Passage]:
    """Up to ``count`` passages, taken one document at a time in a seeded order, so no
    document gives a second passage before every document has given one."""
    by_document: dict[str, list[Passage]] = defaultdict(list)
    for passage in corpus.passages:
        if len(passage.text.split()) >= MIN_WORDS:
            by_document[passage.doc_id].append(passage)
    if not by_document:  # a corpus of tiny documents: take what there is
        for passage in corpus.passages:
            if passage.text.strip():
                by_document[passage.doc_id].append(passage)
    rng = random.Random(seed)
    documents = sorted(by_document)
    rng.shuffle(documents)
    for document in documents:
        rng.shuffle(by_document[document])
    chosen: list[Passage] = []
    round_number = 0
    while len(chosen) < count:
        taken = [
            by_document[document][round_number]
            for document in documents
            if round_number < len(by_document[document])
        ]
        if not taken:
            break
        chosen.extend(taken[: count - len(chosen)])
        round_number += 1
    return chosen
