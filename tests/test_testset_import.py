"""``ragtui testset import``: a user's own questions become a test set with no judgments.

A queries.jsonl keeps its ids; a text file gives the question on line n the id NAME-qn.
Each bad line is reported with its number and what is wrong, and nothing else is lost;
the set is then listed, shown and scored by ``eval --testset`` like a generated one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.testsets.importing import set_queries
from ragtui.testsets.store import find_testset
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _stored(name: str):
    corpus = load_corpus(SAMPLE_CORPUS)
    return find_testset(name, corpus.root, corpus.source_key)


def test_a_queries_jsonl_keeps_its_ids_and_answers(data_dir: Path, tmp_path: Path, capsys) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"_id": "t-1", "text": "How do I reset the gateway?"}\n'
        '{"_id": 7, "text": "What  does the LED\\tblinking red mean?"}\n',
        encoding="utf-8",
    )
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"_id": "7", "answers": ["a fault"]}\n', encoding="utf-8")
    argv = ["testset", "import", str(SAMPLE_CORPUS), str(queries), "--name", "tickets"]
    assert main([*argv, "--answers", str(answers)]) == 0
    assert "2 questions imported (1 with reference answers; 0 bad lines" in capsys.readouterr().out
    stored = _stored("tickets")
    assert set_queries(stored) == {
        "t-1": "How do I reset the gateway?",
        "7": "What does the LED blinking red mean?",
    }
    assert stored.meta["judged_unit"] == "passage"  # sample_corpus is a folder
    beir = [json.loads(line) for line in (stored.folder / "queries.jsonl").read_text().splitlines()]
    assert [record["_id"] for record in beir] == ["t-1", "7"]

    assert main(["testset", "list", str(SAMPLE_CORPUS)]) == 0
    assert "tickets: 2 imported questions (1 with reference answers)" in capsys.readouterr().out
    assert main(["testset", "show", str(SAMPLE_CORPUS), "tickets"]) == 0
    shown = capsys.readouterr().out
    assert "7: What does the LED blinking red mean?" in shown and "answer: a fault" in shown


def test_a_text_file_gives_one_question_per_line(data_dir: Path, tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "How do I reset the gateway?\n\n  What is error E-211?  \n", encoding="utf-8"
    )
    argv = ["testset", "import", str(SAMPLE_CORPUS), str(questions), "--name", "mine"]
    assert main(argv) == 0
    assert set_queries(_stored("mine")) == {
        "mine-q1": "How do I reset the gateway?",
        "mine-q3": "What is error E-211?",
    }


def test_each_bad_line_is_reported_and_the_rest_kept(
    data_dir: Path, tmp_path: Path, capsys
) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_bytes(
        b'{"_id": "a", "text": "How do I reset the gateway?"}\n'
        b"not json\n"
        b'{"_id": "b"}\n'
        b'["a list"]\n'
        b'{"_id": "a", "text": "Another question"}\n'
        b'{"_id": "c", "text": "how do I reset the  gateway?"}\n'
        b'{"_id": "d", "text": "caf\xe9 \xff"}\n'
        b'{"text": "no id"}\n'
        b'{"_id": "q01", "text": "A question that is not the corpus q01"}\n'
        b'{"_id": "e", "text": "What is error E-211?"}\n'
    )
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        '{"_id": "e", "answers": ["x"]}\n{"_id": "zz", "answers": ["y"]}\n{"_id": "a"}\n',
        encoding="utf-8",
    )
    argv = ["testset", "import", str(SAMPLE_CORPUS), str(queries), "--name", "messy"]
    assert main([*argv, "--answers", str(answers)]) == 0
    captured = capsys.readouterr()
    assert "2 questions imported (1 with reference answers; 10 bad lines skipped)" in captured.out
    problems = [line for line in captured.err.splitlines() if "(line skipped)" in line]
    expected = [
        f"{queries}:2: not JSON",
        f'{queries}:3: no question in "text"',
        f"{queries}:4: not a JSON object",
        f"{queries}:5: id 'a' is already on line 1",
        f"{queries}:6: the same question as line 1",
        f"{queries}:7: not UTF-8 text",
        f'{queries}:8: no "_id"',
        f"{queries}:9: id 'q01' already names another question in the corpus's queries.jsonl",
        f"{answers}:2: id 'zz' is not a question of the file",
        f"{answers}:3: no answer",
    ]
    assert len(problems) == len(expected)
    for line, start in zip(problems, expected, strict=True):
        assert start in line
    assert set_queries(_stored("messy")) == {
        "a": "How do I reset the gateway?",
        "e": "What is error E-211?",
    }


def test_an_existing_name_is_refused_in_one_line(data_dir: Path, tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("How do I reset the gateway?\n", encoding="utf-8")
    argv = ["testset", "import", str(SAMPLE_CORPUS), str(questions), "--name", "mine"]
    assert main(argv) == 0
    capsys.readouterr()
    questions.write_text("Something else entirely?\n", encoding="utf-8")
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "test set 'mine' already exists" in error
    assert set_queries(_stored("mine")) == {"mine-q1": "How do I reset the gateway?"}


def test_eval_scores_an_imported_set_by_its_answers(data_dir: Path, tmp_path: Path, capsys) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"_id": "x1", "text": "What does error E-104 mean?"}\n', encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"_id": "x1", "answers": ["cell voltage imbalance"]}\n', encoding="utf-8")
    argv = ["testset", "import", str(SAMPLE_CORPUS), str(queries), "--name", "own"]
    assert main([*argv, "--answers", str(answers)]) == 0
    out = tmp_path / "report"
    argv = ["eval", str(SAMPLE_CORPUS), "--testset", "own", "--retrievers", "bm25"]
    assert main([*argv, "--generators", "extractive", "--out", str(out)]) == 0
    assert "holds no relevance judgments: retrieval metrics are skipped" in capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["queries"] == 1
