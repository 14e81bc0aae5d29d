"""Reading corpora (folders of files or BEIR datasets) and splitting them into passages."""

from ragtui.corpus.chunking import chunk_document
from ragtui.corpus.loading import load_corpus
from ragtui.corpus.model import ChunkingSettings, Corpus, Document, Passage

__all__ = [
    "ChunkingSettings",
    "Corpus",
    "Document",
    "Passage",
    "chunk_document",
    "load_corpus",
]
