"""Generated questions as queries for a person to judge: every question that passed the
cheap filters is offered for labeling, the ones only the round trip dropped counted apart
from the kept set (the funnel, ``testset show``/``list``), and ``ragtui label`` asks about
them, while eval keeps scoring only the kept ones by their source passage.

Against the scripted OpenAI-compatible server: each passage of the test corpus says what
the server replies (see ``tests/test_testsets.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.testsets.for_labeling import labeling_line, labeling_only, labeling_queries
from ragtui.testsets.store import TestsetFolder, find_testset, set_queries
from tests.test_testsets import make_corpus, make_set

CASES = ["valve", "pump", "generic", "french", "unanswerable"]
UNANSWERABLE = "Who designed the analogue dial of the turbine control room?"


@pytest.fixture
def corpus(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    return make_corpus(tmp_path / "corpus", CASES)


def _stored(corpus: Path, name: str):
    loaded = load_corpus(corpus)
    return find_testset(name, loaded.root, loaded.source_key)


def test_questions_only_the_round_trip_dropped_are_offered_for_labeling(
    corpus: Path, capsys
) -> None:
    assert make_set(corpus, "s", len(CASES)) == 0
    out = capsys.readouterr().out
    assert (
        "generic 1 · copied 0 · duplicate 0 · other language 1 · not answerable 1 · kept 2" in out
    )
    assert labeling_line(1, str(corpus), "s") in out
    assert (
        f"1 more question passed the cheap filters and can be labelled "
        f"('ragtui label {corpus} --testset s --retrievers bm25,dense')" in out
    )

    testset = _stored(corpus, "s")
    by_verdict = {record["verdict"]: record for record in testset.records}
    dropped = by_verdict["not answerable"]
    assert dropped["question"] == UNANSWERABLE
    kept = {str(r["query_id"]): r["question"] for r in testset.kept}
    # eval's questions stay the kept ones; labeling adds the dropped one, in sample order
    assert set_queries(testset) == kept
    assert labeling_only(testset) == {dropped["query_id"]: UNANSWERABLE}
    offered = labeling_queries(testset)
    assert offered == {**kept, dropped["query_id"]: UNANSWERABLE}
    order = [str(r["query_id"]) for r in testset.records if str(r["query_id"]) in offered]
    assert list(offered) == order
    assert labeling_queries(testset, kept_only=True) == kept
    # generic and other-language questions are not real questions to grade
    assert by_verdict["generic"]["query_id"] not in offered
    assert by_verdict["other language"]["query_id"] not in offered

    assert main(["testset", "show", str(corpus), "s"]) == 0
    assert labeling_line(1, str(corpus), "s") in capsys.readouterr().out
    assert main(["testset", "list", str(corpus)]) == 0
    assert "s: 2 questions by openai:qgen, seed 0 (+1 more for labeling)" in (
        capsys.readouterr().out
    )

    # A question a reviewer rejected is offered neither for eval nor for labeling.
    TestsetFolder(testset.folder).review(dropped["query_id"], "rejected")
    assert labeling_only(_stored(corpus, "s")) == {}
    assert main(["testset", "show", str(corpus), "s"]) == 0
    assert "can be labelled" not in capsys.readouterr().out

    # Without the round trip every question that passed the cheap filters is kept: none
    # more to offer.
    assert make_set(corpus, "open", len(CASES), "--no-roundtrip-filter") == 0
    out = capsys.readouterr().out
    assert "not answerable 0 · kept 3" in out and "can be labelled" not in out
    testset = _stored(corpus, "open")
    assert labeling_queries(testset) == set_queries(testset) and not labeling_only(testset)


def test_label_queue_asks_about_the_dropped_question_unless_kept_only(
    corpus: Path, tmp_path: Path, capsys
) -> None:
    assert make_set(corpus, "s", len(CASES)) == 0
    dropped = next(iter(labeling_only(_stored(corpus, "s"))))
    label = ["label", "queue", str(corpus), "--testset", "s", "--retrievers", "bm25"]
    everything, kept_only = tmp_path / "all.jsonl", tmp_path / "kept.jsonl"
    assert main([*label, "--depth", "2", "--out", str(everything)]) == 0
    assert main([*label, "--depth", "2", "--kept-only", "--out", str(kept_only)]) == 0
    asked = {json.loads(line)["query_id"] for line in everything.read_text().splitlines()}
    asked_kept = {json.loads(line)["query_id"] for line in kept_only.read_text().splitlines()}
    assert asked == asked_kept | {dropped} and dropped not in asked_kept
    assert asked_kept == set(set_queries(_stored(corpus, "s")))

    # A grade of the dropped question made in another tool is read back, not refused.
    graded = tmp_path / "graded.jsonl"
    lines = [json.loads(line) for line in everything.read_text().splitlines()]
    graded.write_text(
        "".join(
            json.dumps({**line, "grade": 2}) + "\n" for line in lines if line["query_id"] == dropped
        )
    )
    capsys.readouterr()
    assert main(["label", "import", str(corpus), str(graded), "--testset", "s"]) == 0
    captured = capsys.readouterr()
    assert "2 grades stored" in captured.out and "0 lines skipped" in captured.out
