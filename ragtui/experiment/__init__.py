"""Batch experiments: a retriever × generator grid, scored, attributed and reported."""
