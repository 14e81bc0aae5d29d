"""The judgment store: any text survives its files; the win table credits the right side."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ragtui.judging.store import JudgmentStore, Label, RunRecord, Vote

# What splitlines() takes for line ends besides "\n": these broke records before.
LINE_BREAKERS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(LINE_BREAKERS)
)


def label_with(text: str) -> Label:
    return Label(
        query_id="q1",
        query=f"why {text}",
        passage_id="doc.txt#0",
        doc_id="doc.txt",
        grade=3,
        start=0,
        end=len(text),
        text_sha256="0" * 64,
        text=text,
        chunking="w180-o30",
        time=1.0,
    )


def vote_with(text: str) -> Vote:
    return Vote(
        query=text,
        query_id="q1",
        pipeline_a="bm25+extractive",
        pipeline_b="dense+extractive",
        choice="a",
        answer_a=text,
        answer_b=text[::-1],
        stats_a=None,
        stats_b=None,
        time=1.0,
    )


@settings(max_examples=60, deadline=None)
@given(text=texts)
def test_any_text_round_trips_through_labels_votes_and_runs(tmp_path_factory, text: str) -> None:
    store = JudgmentStore(tmp_path_factory.mktemp("store"))
    store.add_label(label_with(text))
    store.add_vote(vote_with(text))
    store.add_run(
        RunRecord("r1", text, "q1", "a", "bm25+extractive", "bm25+extractive", text, None, None, ())
    )
    reopened = JudgmentStore(store.folder)
    (label,) = reopened.labels()["q1"].values()
    assert label.text == text and label.query == f"why {text}" and label.grade == 3
    (vote,) = reopened.votes()
    assert (vote.query, vote.answer_a, vote.answer_b) == (text, text, text[::-1])
    (run,) = reopened.runs()
    assert run.query == text and run.answer == text


def test_each_record_is_one_line_for_any_line_based_reader(tmp_path: Path) -> None:
    text = "Line one\u2028still line one\u2029and\x85this"
    store = JudgmentStore(tmp_path)
    store.add_label(label_with(text))
    raw = (tmp_path / "labels.jsonl").read_text(encoding="utf-8")
    assert raw.count("\n") == 1 and len(raw.splitlines()) == 1
    assert json.loads(raw)["text"] == text


def test_files_written_before_the_fix_still_read(tmp_path: Path) -> None:
    # Earlier versions wrote these separators raw inside JSON strings.
    text = "Line one\u2028still line one. \x85 Next\u2029end"
    record = {"v": 2, **label_with(text).__dict__}
    (tmp_path / "labels.jsonl").write_text(
        json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    vote = {"v": 2, **vote_with(text).__dict__}
    (tmp_path / "votes.jsonl").write_text(json.dumps(vote, ensure_ascii=False) + "\n")
    store = JudgmentStore(tmp_path)
    (label,) = store.labels()["q1"].values()
    assert label.text == text
    assert store.votes()[0].answer_a == text


def test_a_pipeline_voted_against_itself_credits_each_pane_its_own_wins() -> None:
    from ragtui.judging.store import win_table

    same = "bm25+llamacpp:smollm2"
    votes = [
        Vote("q", "q1", same, same, choice, "x", "y", None, None, 1.0)
        for choice in ("b", "b", "a", "tie")
    ]
    votes.append(Vote("q", "q1", "dense+extractive", same, "a", "x", "y", None, None, 1.0))
    rows = {(row.first, row.second): row for row in win_table(votes)}
    itself = rows[(f"{same} (pane A)", f"{same} (pane B)")]
    assert (itself.first_wins, itself.second_wins, itself.ties) == (1, 2, 1)
    other = rows[("bm25+llamacpp:smollm2", "dense+extractive")]
    assert (other.first_wins, other.second_wins) == (0, 1)
