"""On-disk indexes: BM25 and dense (embeddings + HNSW), cached by content and settings."""
