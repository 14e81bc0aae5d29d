"""Inputs at the edges: huge queries, huge and zero k, empty and one-passage corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import ragtui
from tests.conftest import SAMPLE_CORPUS

HUGE_QUERY = ("battery " * 12_500).strip()  # 100k characters, one line


def one_line_error(done, *expected: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ragtui: error: "), done.stderr
    for text in expected:
        assert text in lines[0]
    assert "Traceback" not in done.stderr


@pytest.fixture
def one_passage(tmp_path: Path) -> Path:
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "only.txt").write_text("The only passage here is about turbine blades.\n")
    return corpus


@pytest.mark.parametrize("retriever", ["bm25", "dense", "hybrid"])
def test_a_100k_character_query_is_searched(retriever: str) -> None:
    assert len(HUGE_QUERY) >= 99_999
    done = ragtui("search", str(SAMPLE_CORPUS), HUGE_QUERY, "-r", retriever, "-k", "3", "--json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["hits"]) == 3


def test_a_100k_character_query_that_overflows_the_model_is_one_clear_error() -> None:
    done = ragtui(
        "ask", str(SAMPLE_CORPUS), HUGE_QUERY, "--pipeline", "bm25+llamacpp:smollm2", "-k", "1"
    )
    one_line_error(done, "llamacpp:smollm2", "context")
    assert "None" not in done.stdout  # figures that do not exist show as –


def test_k_larger_than_the_corpus_returns_every_passage_once(one_passage: Path) -> None:
    for corpus, passages in ((one_passage, 1), (SAMPLE_CORPUS, 42)):
        done = ragtui("search", str(corpus), "turbine battery", "-k", "1000000", "--json")
        assert done.returncode == 0, done.stderr
        hits = json.loads(done.stdout)["hits"]
        ids = [hit["passage_id"] for hit in hits]
        # Each passage once at most, and not an empty answer (BM25 leaves out passages
        # sharing no word with the query)
        assert 1 <= len(ids) == len(set(ids)) <= passages
    done = ragtui("search", str(one_passage), "turbine", "-r", "dense", "-k", "1000000")
    assert done.returncode == 0 and "only.txt#0" in done.stdout
    # Dense retrieval ranks every passage: all of them come back, each once.
    done = ragtui("search", str(SAMPLE_CORPUS), "turbine", "-r", "dense", "-k", "999", "--json")
    ids = [hit["passage_id"] for hit in json.loads(done.stdout)["hits"]]
    assert len(ids) == len(set(ids)) == 42


def test_k_zero_and_negative_are_refused_before_any_work() -> None:
    for command in ("search", "ask"):
        for k in ("0", "-3"):
            extra = ["--pipeline", "bm25+extractive"] if command == "ask" else []
            done = ragtui(command, str(SAMPLE_CORPUS), "battery", "-k", k, *extra)
            one_line_error(done, f"-k {k}")


def test_an_answer_over_every_passage_of_a_one_passage_corpus(one_passage: Path) -> None:
    done = ragtui(
        "ask", str(one_passage), "turbine blades", "--pipeline", "bm25+extractive", "-k", "1000000"
    )
    assert done.returncode == 0, done.stderr
    assert "turbine blades" in done.stdout


def test_empty_and_unreadable_corpora_say_what_was_found(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(ragtui("search", str(empty), "x"), "has no readable documents")
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "image.txt").write_bytes(b"\x89PNG\0\0")
    (unreadable / "noise.md").write_bytes(bytes(range(1, 32)) * 4 + b"\x81\x8d\x8f\x90\x9d")
    (unreadable / "blank.txt").write_text("\n\n")
    done = ragtui("search", str(unreadable), "x")
    one_line_error(done, "has no readable documents", "3 skipped")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["search", str(SAMPLE_CORPUS), "q", "-r", "dense:nonexistent"], "'nonexistent'"),
        (["ask", str(SAMPLE_CORPUS), "q", "--pipeline", "bm25+ollama:"], "'ollama:'"),
        (["ask", str(SAMPLE_CORPUS), "q", "--pipeline", "bm25+openai"], "openai: name a model"),
        (["ask", str(SAMPLE_CORPUS), "q", "--pipeline", "bm25+openai:m"], "cannot connect"),
        (["ask", str(SAMPLE_CORPUS), "q", "--pipeline", "bm25+nosuch:m"], "'nosuch'"),
        (["search", str(SAMPLE_CORPUS), "q", "-r", "milvus:dense"], "'milvus:dense'"),
    ],
)
def test_unknown_or_unreachable_specs_are_one_line(command: list[str], expected: str) -> None:
    # OPENAI_BASE_URL points where nothing listens, as a half-configured endpoint would.
    done = ragtui(*command, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("ragtui: error")]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert expected in lines[0] and "Traceback" not in done.stderr
