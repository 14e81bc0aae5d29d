"""Test sets generated from a corpus: questions tied to their source passages, filtered,
stored with their provenance."""
