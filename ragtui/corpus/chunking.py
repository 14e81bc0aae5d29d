"""Split a document into passages along paragraphs and headings, within a token budget.

Tokens here are whitespace-separated words: cheap, model-independent, and a stable basis
for passage ids. For English prose a word is about 1.3 word pieces, so the default budget
of 180 words stays inside MiniLM's 256-piece window.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ragtui.corpus.model import ChunkingSettings, Document, Passage

_WORD = re.compile(r"\S+")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_HEADING = re.compile(r"^(#{1,6} |\S.*\n[=\-~^]{3,}[ \t]*$)", re.MULTILINE)


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    tokens: int
    is_heading: bool


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of text between blank lines, with a heading starting a new span."""
    cuts = {0, len(text)}
    for match in _BLANK_LINES.finditer(text):
        cuts.add(match.start())
        cuts.add(match.end())
    for match in _HEADING.finditer(text):
        cuts.add(match.start())
    ordered = sorted(cuts)
    spans = []
    for start, end in itertools.pairwise(ordered):
        segment = text[start:end]
        if segment.strip():
            left = start + (len(segment) - len(segment.lstrip()))
            right = end - (len(segment) - len(segment.rstrip()))
            spans.append((left, right))
    return spans


def _blocks(text: str, settings: ChunkingSettings) -> list[_Block]:
    """Paragraph blocks; a paragraph over budget is cut into overlapping word windows."""
    blocks: list[_Block] = []
    for start, end in _paragraph_spans(text):
        words = [m.span() for m in _WORD.finditer(text, start, end)]
        heading = bool(_HEADING.match(text, start))
        if len(words) <= settings.max_tokens:
            blocks.append(_Block(start, end, len(words), heading))
            continue
        stride = settings.max_tokens - settings.overlap_tokens
        first = 0
        while True:
            window = words[first : first + settings.max_tokens]
            blocks.append(_Block(window[0][0], window[-1][1], len(window), False))
            if first + settings.max_tokens >= len(words):
                break
            first += stride
    return blocks


def _pack(blocks: list[_Block], settings: ChunkingSettings) -> list[tuple[int, int]]:
    """Greedily pack blocks into chunks, carrying trailing whole paragraphs as overlap."""
    chunks: list[list[_Block]] = []
    current: list[_Block] = []
    current_tokens = 0
    for block in blocks:
        heading_break = block.is_heading and current_tokens >= settings.max_tokens // 2
        if current and (current_tokens + block.tokens > settings.max_tokens or heading_break):
            chunks.append(current)
            carried: list[_Block] = []
            carried_tokens = 0
            for previous in reversed(current[1:]):
                if carried_tokens + previous.tokens > settings.overlap_tokens:
                    break
                carried.insert(0, previous)
                carried_tokens += previous.tokens
            if heading_break or carried_tokens + block.tokens > settings.max_tokens:
                carried, carried_tokens = [], 0
            current, current_tokens = carried, carried_tokens
        current.append(block)
        current_tokens += block.tokens
    if current:
        chunks.append(current)
    return [(chunk[0].start, chunk[-1].end) for chunk in chunks]


def chunk_document(document: Document, settings: ChunkingSettings) -> list[Passage]:
    """Passages of one document; ids are ``DOC_ID#N`` and offsets index ``document.text``."""
    spans = _pack(_blocks(document.text, settings), settings)
    return [
        Passage(
            passage_id=f"{document.doc_id}#{number}",
            doc_id=document.doc_id,
            text=document.text[start:end],
            source=document.source,
            start=start,
            end=end,
        )
        for number, (start, end) in enumerate(spans)
    ]
