"""``ragtui label queue`` / ``label import``: the pairs the screen would ask about, out as
JSONL, and grades back in (a graded queue or TREC qrels) as the person's labels, anchored
to their text. Real bm25 and dense indexes on a copy of the sample corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.index.cache import Indexes
from ragtui.judging.anchors import labels_for_corpus
from ragtui.judging.store import JudgmentStore
from ragtui.retrieval import make_retriever

QUESTIONS = (
    '{"_id": "t1", "text": "What does error E-104 mean?"}\n'
    '{"_id": "t2", "text": "How long is the warranty?"}\n'
    '{"_id": "t3", "text": "How do I update the firmware?"}\n'
)
REQUIRED = {
    "query_id",
    "query",
    "doc_id",
    "passage_id",
    "text",
    "text_sha256",
    "inclusion_probability",
}


@pytest.fixture
def imported(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    questions = tmp_path / "queries.jsonl"
    questions.write_text(QUESTIONS, encoding="utf-8")
    assert main(["testset", "import", str(corpus_copy), str(questions), "--name", "own"]) == 0
    return corpus_copy


def _queue(corpus: Path, out: Path, *extra: str) -> list[dict]:
    argv = ["label", "queue", str(corpus), "--testset", "own", "--retrievers", "bm25,dense"]
    assert main([*argv, "--depth", "4", "--out", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_the_queue_is_the_pool_with_text_and_nothing_about_the_retrievers(
    imported: Path, tmp_path: Path
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl")
    corpus = load_corpus(imported)
    indexes = Indexes(corpus)
    queries = {"t1": "What does error E-104 mean?", "t2": "How long is the warranty?"}
    queries["t3"] = "How do I update the firmware?"
    expected = set()
    for name in ("bm25", "dense"):
        retriever = make_retriever(name, indexes)
        for query_id, text in queries.items():
            expected |= {(query_id, hit.passage_id) for hit in retriever.search(text, 4).hits}
    assert {(line["query_id"], line["passage_id"]) for line in lines} == expected
    for line in lines:
        assert REQUIRED <= set(line) <= REQUIRED | {"start", "end"}
        passage = corpus.passages[corpus.passage_index[line["passage_id"]]]
        assert line["text"] == passage.text and line["text_sha256"] == passage.content_hash
        assert line["query"] == queries[line["query_id"]]
        assert line["inclusion_probability"] == 1.0
    # Query by query, in a seeded shuffle: the same seed gives the same file.
    order = [line["query_id"] for line in lines]
    assert sorted(set(order), key=order.index) == list(dict.fromkeys(order))
    assert all(order[i] == order[i - 1] or order[i] not in order[:i] for i in range(1, len(order)))
    assert _queue(imported, tmp_path / "again.jsonl") == lines
    assert [
        line["passage_id"] for line in _queue(imported, tmp_path / "s1.jsonl", "--seed", "1")
    ] != [line["passage_id"] for line in lines]


def test_a_budget_samples_pairs_with_their_inclusion_probability(
    imported: Path, tmp_path: Path
) -> None:
    everything = _queue(imported, tmp_path / "all.jsonl")
    sampled = _queue(imported, tmp_path / "five.jsonl", "--budget", "5", "--seed", "7")
    assert len(sampled) == 5
    assert {line["inclusion_probability"] for line in sampled} == {5 / len(everything)}
    pairs = {(line["query_id"], line["passage_id"]) for line in everything}
    assert {(line["query_id"], line["passage_id"]) for line in sampled} <= pairs
    assert (
        _queue(imported, tmp_path / "five-again.jsonl", "--budget", "5", "--seed", "7") == sampled
    )
    other = _queue(imported, tmp_path / "five-other.jsonl", "--budget", "5", "--seed", "8")
    assert {line["passage_id"] for line in other} != {line["passage_id"] for line in sampled}
    # The sample's design and probabilities are kept with the set, once per design.
    data = next((tmp_path / "data" / "corpora").iterdir())
    samples = (data / "testsets" / "own" / "label_samples.jsonl").read_text().splitlines()
    assert len(samples) == 2
    assert json.loads(samples[0])["inclusion_probability"] == 5 / len(everything)


def test_graded_queue_lines_come_back_as_anchored_labels_and_bad_lines_are_reported(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl")
    graded = tmp_path / "graded.jsonl"
    first_docs = {line["doc_id"] for line in lines[:6]}
    changed = next(line for line in lines[6:] if line["doc_id"] not in first_docs)
    for number, line in enumerate(lines[:4]):
        line["grade"] = number
    lines[4]["grade"] = 5
    lines[5]["query_id"], lines[5]["grade"] = "nope", 1
    # The document of one graded line changes after the queue was written.
    changed["grade"] = 2
    graded.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    source = imported / changed["doc_id"]
    source.write_text(source.read_text(encoding="utf-8").replace("the", "THE"), encoding="utf-8")
    capsys.readouterr()
    assert main(["label", "import", str(imported), str(graded), "--testset", "own"]) == 0
    captured = capsys.readouterr()
    assert "4 grades stored" in captured.out
    warnings = captured.err.splitlines()
    assert f"{graded}:5: grade 5 is out of range" in warnings[0]
    assert f"{graded}:6: query id 'nope' is not in test set 'own'" in warnings[1]
    where = lines.index(changed) + 1
    assert f"{graded}:{where}: the text of {changed['passage_id']!r} changed since" in warnings[2]
    assert len(warnings) == 3

    corpus = load_corpus(imported)
    store, resolved = labels_for_corpus(corpus)
    for number, line in enumerate(lines[:4]):
        assert resolved.grades[line["query_id"]][line["passage_id"]] == number
        label = next(
            label
            for label in store.labels()[line["query_id"]].values()
            if label.passage_id == line["passage_id"]
        )
        assert (label.start, label.end, label.text_sha256) == (
            line["start"],
            line["end"],
            line["text_sha256"],
        )
        assert label.text == line["text"] and label.source == "imported from graded.jsonl"


def test_trec_qrels_come_back_as_labels(imported: Path, tmp_path: Path, capsys) -> None:
    corpus = load_corpus(imported)
    first = corpus.passages[0]
    # Folder passage ids may hold spaces: qrels carry them percent-encoded, as ragtui writes.
    qrels = tmp_path / "grades.qrels"
    qrels.write_text(
        f"t2 0 {first.passage_id.replace(' ', '%20')} 3\n"
        "t2 0 no-such-passage 1\n"
        f"t1 0 {first.passage_id} 9\n"
        "t1 0 short\n"
        f"zz 0 {first.passage_id} 1\n",
        encoding="utf-8",
    )
    assert main(["label", "import", str(imported), str(qrels), "--testset", "own"]) == 0
    captured = capsys.readouterr()
    assert "1 grades stored" in captured.out
    errors = captured.err.splitlines()
    assert f"{qrels}:2: no passage 'no-such-passage'" in errors[0]
    assert f"{qrels}:3: grade '9' is out of range" in errors[1]
    assert f"{qrels}:4: not a qrels line" in errors[2]
    assert f"{qrels}:5: query id 'zz' is not in test set 'own'" in errors[3]
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    (label,) = store.labels()["t2"].values()
    assert (label.grade, label.start, label.end) == (3, first.start, first.end)
    assert label.text_sha256 == first.content_hash and label.query == "How long is the warranty?"


def test_a_beir_queue_names_documents_and_their_grades_anchor_to_the_whole_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    beir = tmp_path / "beir"
    beir.mkdir()
    bodies = {
        "d1": "The relief valve opens at 42 bar. " * 12,
        "d2": "The pump motor is rated at 7 kW and runs at night. " * 12,
        "d3": "Seals are replaced every spring before the season starts. " * 12,
    }
    (beir / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in bodies.items())
    )
    questions = tmp_path / "questions.txt"
    questions.write_text("When does the relief valve open?\n", encoding="utf-8")
    assert main(["testset", "import", str(beir), str(questions), "--name", "own"]) == 0
    out = tmp_path / "queue.jsonl"
    chunking = ["--chunk-tokens", "20", "--chunk-overlap", "5"]
    argv = ["label", "queue", str(beir), "--testset", "own", "--retrievers", "bm25"]
    assert main([*argv, "--depth", "2", "--out", str(out), *chunking]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    corpus = load_corpus(beir, ChunkingSettings(20, 5))
    documents = {document.doc_id: document for document in corpus.documents}
    assert len(lines) == 2 and "d1" in {line["doc_id"] for line in lines}
    for line in lines:
        document = documents[line["doc_id"]]
        assert line["passage_id"] is None and line["text"] == document.text
        assert (line["start"], line["end"]) == (0, len(document.text))
        assert line["text_sha256"] == document.content_hash
        line["grade"] = 3 if line["doc_id"] == "d1" else 0
    out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    capsys.readouterr()
    assert main(["label", "import", str(beir), str(out), "--testset", "own", *chunking]) == 0
    assert "2 grades stored" in capsys.readouterr().out
    # The grade of d1 reaches every passage of d1, as the app's labels follow their text.
    _store, resolved = labels_for_corpus(corpus)
    d1_passages = {p.passage_id for p in corpus.passages if p.doc_id == "d1"}
    assert len(d1_passages) > 1
    assert {pid for pid, grade in resolved.grades["own-q1"].items() if grade == 3} == d1_passages


def test_the_screen_outside_a_terminal_says_to_write_a_queue(imported: Path, capsys) -> None:
    argv = ["label", str(imported), "--testset", "own", "--retrievers", "bm25,dense"]
    argv += ["--budget", "7", "--seed", "3", "--design", "rank-prior"]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "needs a terminal; write a queue instead" in error
    # The queue it suggests is the draw the screen would have asked.
    assert "--retrievers bm25,dense --budget 7 --seed 3 --design rank-prior --out" in error


def test_a_new_queue_leaves_out_what_is_graded_as_the_screen_does(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl")
    qrels = tmp_path / "two.qrels"
    qrels.write_text(
        "".join(f"{line['query_id']} 0 {line['passage_id']} 2\n" for line in lines[:2]),
        encoding="utf-8",
    )
    assert main(["label", "import", str(imported), str(qrels), "--testset", "own"]) == 0
    capsys.readouterr()
    again = _queue(imported, tmp_path / "again.jsonl")
    assert again == lines[2:]
    assert "2 already graded are left out" in capsys.readouterr().out


def test_a_graded_line_without_its_text_hash_is_reported_not_stored(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl")
    unhashed = dict(lines[0], grade=3)
    del unhashed["text_sha256"]
    graded = tmp_path / "graded.jsonl"
    graded.write_text(
        json.dumps(unhashed) + "\n" + json.dumps(dict(lines[1], grade=2)) + "\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["label", "import", str(imported), str(graded), "--testset", "own"]) == 0
    captured = capsys.readouterr()
    assert "1 grades stored" in captured.out
    (warning,) = captured.err.splitlines()
    assert f"{graded}:1: no text_sha256; grade it from a queue written by 'ragtui label queue'" in (
        warning
    )
    _store, resolved = labels_for_corpus(load_corpus(imported))
    assert lines[0]["passage_id"] not in resolved.grades.get(lines[0]["query_id"], {})
    assert resolved.grades[lines[1]["query_id"]][lines[1]["passage_id"]] == 2


def test_document_grades_are_not_counted_as_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A BEIR set's grade names a whole document, which spans several passages: it reaches
    each of them where it always was, and the summary has nothing to report."""
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    beir = tmp_path / "beir"
    beir.mkdir()
    bodies = {
        "d1": "The relief valve opens at 42 bar. " * 12,
        "d2": "The pump motor is rated at 7 kW and runs at night. " * 12,
    }
    (beir / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in bodies.items())
    )
    questions = tmp_path / "questions.txt"
    questions.write_text("When does the relief valve open?\n", encoding="utf-8")
    assert main(["testset", "import", str(beir), str(questions), "--name", "own"]) == 0
    chunking = ["--chunk-tokens", "20", "--chunk-overlap", "5"]
    qrels = tmp_path / "grades.qrels"
    qrels.write_text("own-q1 0 d1 3\nown-q1 0 d2 0\n", encoding="utf-8")
    assert main(["label", "import", str(beir), str(qrels), "--testset", "own", *chunking]) == 0
    corpus = load_corpus(beir, ChunkingSettings(20, 5))
    _store, resolved = labels_for_corpus(corpus)
    assert len(resolved.grades["own-q1"]) == len(corpus.passages) > 2
    assert resolved.moved == 0 and resolved.summary() == ""
