"""Judgments tied to the text they judged: labels, votes and runs on disk, anchors, TREC ids."""
