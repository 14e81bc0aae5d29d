"""What a labeller model is asked about a pool pair, and how its grade is read.

Three methods (``ragtui.judging.labellers`` runs them):

* ``pointwise``: the query and one passage, graded 0–3 by TREC-style descriptions (as
  UMBRELA asks; the wording here is ours);
* ``one-shot``: the same, with a passage known to answer the query shown beside it
  (MacAvaney & Soldaini's one-shot labeling: the known relevant passage anchors the scale);
* ``answer-based``: a reader answers the query from the passage alone (eRAG); the answer
  is matched against the set's reference answer, so nothing here is parsed as a grade.

A grade is read strictly: the first number of the reply, on 0–3. A reply on another scale
("10/10", "2/5", "80%") is refused, not mapped, as the answer judge refuses one
(``ragtui.judging.judge_prompts.parse_scale``): a model grading on its own scale grades by
its own anchors.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ragtui.generation.base import Prompt, PromptStyle
from ragtui.generation.prompt_text import flatten

GRADE_CHOICES = ("0", "1", "2", "3")
QUERY_CHARS = 600
PASSAGE_CHARS = 1500  # the candidate; small models have small contexts
KNOWN_CHARS = 1000  # one-shot's known relevant passage, shown beside the candidate

_GRADES = (
    "3 = perfectly relevant: the passage is about the query and holds its exact answer.\n"
    "2 = highly relevant: the passage answers the query, partly or among other things.\n"
    "1 = related: the passage is on the query's topic but does not answer it.\n"
    "0 = irrelevant: the passage has nothing to do with the query."
)


@dataclass(frozen=True)
class LabellerTemplates:
    """The labellers' prompts: chat messages for instruction models, a text to continue
    for base models (``completion``). ``{known}`` is one-shot's known relevant passage."""

    system: str = (
        "You are an assessor of a search evaluation. You grade how relevant a passage is to "
        "a search query, by what the passage says, not by its length or style."
    )
    pointwise_user: str = (
        "Query: {query}\n\nPassage: {passage}\n\nHow relevant is the passage to the query?\n"
        + _GRADES
        + "\nReply with one digit: 0, 1, 2 or 3."
    )
    pointwise_completion: str = (
        "A search query, a passage, and the passage's relevance to the query (3 holds the "
        "exact answer, 2 answers it, 1 on the topic only, 0 irrelevant).\n\n"
        "Query: {query}\nPassage: {passage}\nRelevance (0, 1, 2 or 3):"
    )
    one_shot_user: str = (
        "Query: {query}\n\nA passage known to answer the query:\n{known}\n\n"
        "Passage: {passage}\n\n"
        "How relevant is the second passage to the query? Use the known passage as the "
        "measure of a full answer.\n" + _GRADES + "\nReply with one digit: 0, 1, 2 or 3."
    )
    one_shot_completion: str = (
        "A search query, a passage known to answer it, another passage, and the other "
        "passage's relevance to the query (3 holds the exact answer, 2 answers it, 1 on the "
        "topic only, 0 irrelevant).\n\n"
        "Query: {query}\nKnown answer: {known}\nPassage: {passage}\nRelevance (0, 1, 2 or 3):"
    )
    reader_system: str = "You answer questions from the one passage given, and from nothing else."
    reader_user: str = (
        "Passage: {passage}\n\nQuestion: {query}\n\n"
        "Answer the question in a few words, using only the passage. If the passage does not "
        "answer it, reply: unanswerable."
    )
    reader_completion: str = "Context: {passage}\nQuestion: {query}\nShort answer:"

    def of(self, method: str) -> tuple[str, str, str]:
        """(system, chat user template, completion template) of a method."""
        if method == "pointwise":
            return self.system, self.pointwise_user, self.pointwise_completion
        if method == "one-shot":
            return self.system, self.one_shot_user, self.one_shot_completion
        return self.reader_system, self.reader_user, self.reader_completion

    def sha256(self, method: str, reading: str) -> str:
        """The hash a grade's source records: the method's templates and how its reply is
        read (log-probabilities, or written text with its attempt policy), since either
        changes what a pair is graded."""
        material = "\n\x1e".join((method, reading, *self.of(method)))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


def labeller_prompt(
    templates: LabellerTemplates,
    method: str,
    style: PromptStyle,
    query: str,
    passage: str,
    known: str | None = None,
) -> Prompt:
    """The prompt of one pair for a method, in the generator's style."""
    system, user, completion = templates.of(method)
    values = {
        "query": flatten(query, QUERY_CHARS),
        "passage": flatten(passage, PASSAGE_CHARS),
        "known": flatten(known or "", KNOWN_CHARS),
    }
    if style == "completion":
        return Prompt("completion", text=completion.format(**values), stop=("\n",))
    messages = (
        {"role": "system", "content": system},
        {"role": "user", "content": user.format(**values)},
    )
    return Prompt("chat", messages=messages)


# The first number of a reply, with a denominator or a percent sign if one follows it.
_NUMBER = re.compile(
    r"(?<![\d.])(\d+(?:[.,]\d+)?)\s*(%|(?:/|out\s+of|of)\s*(\d+|three|four|five|ten|hundred)\b)?",
    re.IGNORECASE,
)
# The scale echoed back ("on a 0-3 scale: 2", "(0 to 3)"): not a grade.
_ECHO = re.compile(r"(?<![\d.])0\s*(?:-|–|to)\s*3(?![\d.])", re.IGNORECASE)


def parse_grade(reply: str) -> int | None:
    """The 0–3 grade a reply names, or None.

    The first number decides, once an echo of the scale ("0-3") is set aside. "2/3" and
    "2 out of 3" are read; "10/10", "4/5", "80%", "2.5" and "7" are refused (another scale,
    or no grade of this one), and "10" is never read as the digit 1 it starts with.
    """
    match = _NUMBER.search(_ECHO.sub(" ", reply))
    if match is None:
        return None
    number, suffix, denominator = match.group(1), match.group(2), match.group(3)
    if suffix is not None and (denominator is None or denominator.lower() not in ("3", "three")):
        return None
    if not number.isdigit() or number not in GRADE_CHOICES:
        return None
    return int(number)
