"""Which questions of a test set a person is asked to grade the pool of.

A generated set keeps only the questions its checker could answer from their source passage
(the round trip). That check is for scoring by the source passage alone: a question it has
not confirmed may not be answered by that passage. A person grading the pool needs no round
trip, only a real question; on a documentation corpus the 135M checker dropped 30 of the 34
questions that passed every cheap filter (generic, copied, duplicate, other language),
realistic ones among them. So the labeling screen, its queue and ``label import`` take
every question that passed the cheap filters: the kept ones and those the round trip
dropped ("not answerable"). Questions a reviewer rejected are left out.

The round-trip-dropped questions are counted apart from the kept set: eval does not score
them by their source passage and they have no checked reference answer; a question among
them counts only by the grades a person gives its pool (``labeling_only``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtui.errors import RagtuiError
from ragtui.testsets.funnel import PASSED_CHEAP_FILTERS
from ragtui.testsets.store import (
    StoredTestset,
    is_imported,
    list_names,
    read_testset,
    set_queries,
    testsets_root,
)


def _labeling_records(testset: StoredTestset) -> list[dict[str, Any]]:
    if is_imported(testset):
        return list(testset.records)
    return [
        record
        for record in testset.records
        if record.get("verdict") in PASSED_CHEAP_FILTERS
        and record.get("query_id") is not None
        and record.get("question")
        and testset.review.get(str(record["query_id"])) != "rejected"
    ]


def labeling_queries(testset: StoredTestset, *, kept_only: bool = False) -> dict[str, str]:
    """Query id → text of the questions a person is asked about, in the set's order: an
    imported set's questions; a generated set's questions that passed the cheap filters
    (with ``kept_only``, only those eval scores by their source passage)."""
    if kept_only or is_imported(testset):
        return set_queries(testset)
    return {str(r["query_id"]): str(r["question"]) for r in _labeling_records(testset)}


def labeling_only(testset: StoredTestset) -> dict[str, str]:
    """Query id → text of a generated set's questions offered for labeling but not kept:
    the round trip dropped them. Eval scores one of them only by a person's grades of its
    pool (never by its source passage); it has no checked reference answer."""
    if is_imported(testset):
        return {}
    scored = set_queries(testset)
    return {
        query_id: text
        for query_id, text in labeling_queries(testset).items()
        if query_id not in scored
    }


def labeling_line(count: int, corpus_arg: str, name: str) -> str:
    """What the funnel says of the questions that can be labelled though not kept."""
    questions = "question" if count == 1 else "questions"
    return (
        f"{count} more {questions} passed the cheap filters and can be labelled "
        f"('ragtui label {corpus_arg} --testset {name} --retrievers bm25,dense'); "
        "eval scores only the kept ones by their source passage"
    )


@dataclass(frozen=True)
class LabelingQuestion:
    """A question of one of the corpus's sets that a person may grade passages for."""

    testset: str
    query_id: str
    text: str
    imported: bool  # from the user's own file (else generated)


def corpus_labeling_questions(
    corpus_root: Path, source_key: str, data_root: Path | None = None
) -> list[LabelingQuestion]:
    """Every set's labeling questions, set by set in name order; a set that cannot be read
    is left out (the app must open whatever a folder holds)."""
    root = testsets_root(corpus_root, source_key, data_root)
    found: list[LabelingQuestion] = []
    for name in list_names(root):
        try:
            testset = read_testset(root / name)
        except RagtuiError:
            continue
        imported = is_imported(testset)
        for query_id, text in labeling_queries(testset).items():
            found.append(LabelingQuestion(testset.name, query_id, text, imported))
    return found
