import json
import os
from pathlib import Path

import pytest

from ragtui.corpus import load_corpus
from ragtui.errors import CorpusError
from tests.conftest import SAMPLE_CORPUS


def test_sample_corpus_is_a_folder_with_queries_judgments_and_answers() -> None:
    corpus = load_corpus(SAMPLE_CORPUS)
    assert corpus.kind == "folder"
    assert len(corpus.documents) >= 40
    assert {Path(d.doc_id).suffix for d in corpus.documents} == {".md", ".txt"}
    assert len(corpus.queries) >= 30
    doc_ids = {d.doc_id for d in corpus.documents}
    assert set(corpus.qrels) == set(corpus.queries) == set(corpus.answers)
    for judgments in corpus.qrels.values():
        assert set(judgments) <= doc_ids
        assert max(judgments.values()) == 3
    assert not corpus.warnings


def test_unreadable_files_are_skipped_with_one_warning_each(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nReadable text.")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "also.txt").write_text("Nested text.")
    (tmp_path / "binary.txt").write_bytes(b"abc\0\x01\x02")
    (tmp_path / "latin1.txt").write_bytes("Un caf\xe9 tr\xe8s chaud.".encode("latin-1"))
    (tmp_path / "empty.md").write_text("  \n\n ")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing-target.txt")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    corpus = load_corpus(tmp_path)
    documents = sorted(d.doc_id for d in corpus.documents)
    # Latin-1 text is read in its encoding now (tests/test_encodings.py), with a note.
    assert documents == ["good.md", "latin1.txt", "nested/deeper/also.txt"]
    skipped = [warning for warning in corpus.warnings if warning.startswith("skipped")]
    assert len(skipped) == 3
    for name in ("binary.txt", "empty.md", "dangling.txt"):
        assert any(name in warning for warning in skipped)


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "doc.txt").write_text("Looped text.")
    os.symlink(tmp_path, tmp_path / "a" / "back-to-root")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a/doc.txt"]


def test_html_is_read_as_visible_text(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<html><head><title>T</title><style>p{}</style></head>"
        "<body><h1>Heading</h1><p>First &amp; para.</p><script>x()</script><p>Second.</p></body>"
    )
    corpus = load_corpus(tmp_path)
    assert corpus.documents[0].text == "Heading\n\nFirst & para.\n\nSecond."


def test_beir_dataset_is_detected(tmp_path: Path) -> None:
    lines = [{"_id": "d1", "title": "Title", "text": "Body."}, {"_id": "d2", "text": "Other."}]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "body"}) + "\n")
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    corpus = load_corpus(tmp_path)
    assert corpus.kind == "beir"
    assert corpus.documents[0].text == "Title\n\nBody."
    assert corpus.passages[0].passage_id == "d1#0"
    assert corpus.qrels == {"q1": {"d1": 2}}


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "ok"}\n{not json\n',
            r"corpus.jsonl:2: not valid JSON",
        ),
        ("corpus.jsonl", '{"text": "no id"}\n', r"corpus.jsonl:1: document has no '_id'"),
        ("queries.jsonl", '{"_id": "q1", "text": "  "}\n', r"queries.jsonl:1: query 'q1' is empty"),
        ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n", r"test.tsv:2: expected"),
        ("qrels/test.tsv", "q1\td1\thigh\n", r"test.tsv:1: score 'high'"),
    ],
)
def test_malformed_dataset_lines_name_file_and_line(
    tmp_path: Path, file: str, content: str, message: str
) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "ok"}\n')
    (tmp_path / "qrels").mkdir()
    (tmp_path / file).write_text(content)
    with pytest.raises(CorpusError, match=message):
        load_corpus(tmp_path)


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match="no readable documents"):
        load_corpus(tmp_path)
