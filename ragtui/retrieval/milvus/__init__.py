"""Milvus as a retrieval engine: connection, the corpus's collection, loading, search."""
