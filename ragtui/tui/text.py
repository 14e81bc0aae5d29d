"""Untrusted text turned into Rich ``Text`` objects, which are never parsed as markup."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text

from ragtui.compare.events import Mark
from ragtui.display.safe_text import printable
from ragtui.retrieval.types import Hit

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to be worth highlighting in a passage.
_STOPWORDS_TEXT = """a an and are as at be by can do does for from has have how i if in is it its my
of on or the to was what when where which who why will with you your"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

GRADE_MARKS = {None: "  ·  ", 0: " 0 ✗ ", 1: " 1 ● ", 2: " 2 ●●", 3: " 3 ●●●"}
# The dataset's judgments are drawn hollow, apart from the user's own grades.
DATASET_MARKS = {0: " 0 ✗ ", 1: " 1 ○ ", 2: " 2 ○○", 3: " 3 ○○○"}


def query_terms(query: str) -> list[str]:
    terms = {word.casefold() for word in _WORD.findall(query) if len(word) > 1}
    return sorted(terms - _STOPWORDS, key=len, reverse=True)


def flat(text: str) -> str:
    """One line of printable text."""
    return " ".join(printable(text).split())


def snippet(text: str, terms: list[str], width: int) -> str:
    """About ``width`` characters of text, starting a little before the first query term."""
    line = flat(text)
    if len(line) <= width:
        return line
    folded = line.casefold()
    positions = [folded.find(term) for term in terms if folded.find(term) >= 0]
    start = max(0, min(positions) - width // 4) if positions else 0
    start = min(start, len(line) - width)
    cut = line[start : start + width - 2]
    return ("…" if start else "") + cut + "…"


def highlight(text: str, terms: list[str], style: str = "bold underline") -> Text:
    rendered = Text(text)
    for term in terms:
        rendered.highlight_regex(re.compile(rf"\b{re.escape(term)}", re.IGNORECASE), style)
    return rendered


def hit_text(hit: Hit, terms: list[str], mark: Mark | None, width: int = 240) -> Text:
    """Two-line option for a passage: rank, score, mark and source; then the snippet."""
    header = Text()
    header.append(f"{hit.rank:>2} ", style="bold")
    header.append(f"{hit.score:7.3f} ")
    if mark is None:
        header.append(GRADE_MARKS[None], style="dim")
    elif mark.source == "dataset":
        header.append(DATASET_MARKS.get(mark.grade, "  ?  "), style="italic")
    else:
        header.append(GRADE_MARKS.get(mark.grade, "  ?  "), style="bold")
    header.append(f" {flat(hit.source)}", style="italic")
    header.append("\n")
    header.append_text(highlight(snippet(hit.text, terms, width), terms))
    return header


# Links in a model's answer are shown as the text the model wrote, target included: a
# rendered link hides where it points, and a click would open it.
_LINK_RULES = ["link", "image", "autolink", "linkify", "reference"]


def answer_markdown_parser() -> MarkdownIt:
    """Markdown for untrusted answers: formatting, lists and code, but no links or images."""
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like").disable(_LINK_RULES, ignoreInvalid=True)
