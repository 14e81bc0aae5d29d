"""``eval --testset`` with pooled judgments: every judgment the set holds, by precedence
(the person, then a generated question's source passage, then one labeller model), counted
by source, with each retriever's judged@k and nDCG′@k.

Real bm25 retrieval on the sample corpus; the person's grades go in through ``ragtui label
queue``/``label import`` as a user's would; a labeller's grades are appended to the set's
``relevance_grades.jsonl`` as the labeller command writes them. Generated sets come from
the scripted OpenAI-compatible server on 127.0.0.1 (tests/test_testsets.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.pooled_judgments import HUMAN, LABELLER, SOURCE_PASSAGE
from ragtui.judging.automatic_grades import AutomaticGrade, AutomaticGrades, LabellerSource
from ragtui.testsets.store import find_testset
from tests.test_testsets import _testset, make_corpus, make_set
from tests.test_testsets import qgen_env as qgen_env

QUESTIONS = (
    '{"_id": "t1", "text": "What does error E-104 mean?"}\n'
    '{"_id": "t2", "text": "How long is the warranty?"}\n'
    '{"_id": "t3", "text": "How do I update the firmware?"}\n'
)
PLANTED = LabellerSource("openai:planted@sha1", "pointwise", "a" * 64)
OTHER = LabellerSource("ollama:other@sha2", "one-shot", "b" * 64)


@pytest.fixture
def imported(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    questions = tmp_path / "queries.jsonl"
    questions.write_text(QUESTIONS, encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"_id": "t2", "answers": ["ten years"]}\n', encoding="utf-8")
    argv = ["testset", "import", str(corpus_copy), str(questions), "--name", "own"]
    assert main([*argv, "--answers", str(answers)]) == 0
    return corpus_copy


def _queue(corpus: Path, out: Path, depth: int = 10) -> list[dict]:
    argv = ["label", "queue", str(corpus), "--testset", "own", "--retrievers", "bm25"]
    assert main([*argv, "--depth", str(depth), "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _import(corpus: Path, lines: list[dict], file: Path) -> None:
    file.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert main(["label", "import", str(corpus), str(file), "--testset", "own"]) == 0


def _folder(corpus: Path, name: str = "own") -> Path:
    loaded = load_corpus(corpus)
    return find_testset(name, loaded.root, loaded.source_key).folder


def _labeller(folder: Path, line: dict, grade: int | None, source=PLANTED) -> None:
    """A labeller's grade of a queue pair, as the labeller command stores it."""
    AutomaticGrades(folder).add(
        AutomaticGrade(
            query_id=line["query_id"],
            doc_id=line["doc_id"],
            passage_id=line["passage_id"],
            start=line["start"],
            end=line["end"],
            text_sha256=line["text_sha256"],
            grade=grade,
            source=source,
        )
    )


def _eval(corpus: Path, out: Path, capsys, *extra: str) -> tuple[dict, str, str]:
    capsys.readouterr()
    argv = ["eval", str(corpus), "--testset", "own", "--retrievers", "bm25"]
    assert main([*argv, "--generators", "extractive", "--out", str(out), *extra]) == 0
    printed = capsys.readouterr()
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return results, printed.out, (out / "report.md").read_text(encoding="utf-8")


def _qrels(out: Path) -> dict[tuple[str, str], int]:
    rows = (out / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {(row.split("\t")[0], row.split("\t")[1]): int(row.split("\t")[2]) for row in rows}


def _trec(passage_id: str) -> str:
    return passage_id.replace(" ", "%20")


def test_an_imported_set_graded_by_label_import_gets_retrieval_metrics(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=3)
    for number, line in enumerate(lines):
        line["grade"] = 3 if number % 3 == 0 else 0
    _import(imported, lines, tmp_path / "graded.jsonl")
    results, printed, report = _eval(imported, tmp_path / "report", capsys)
    dataset = results["dataset"]
    assert dataset["judged_queries"] == 3
    bm25 = results["retrieval"]["bm25"]
    assert bm25["judged_queries"] == 3 and set(bm25["mean"]) >= {"nDCG@10", "P@10", "MAP"}
    relevant = {(line["query_id"], line["passage_id"]) for line in lines if line["grade"]}
    assert {pair for pair, grade in _qrels(tmp_path / "report").items() if grade} == {
        (query_id, _trec(passage_id)) for query_id, passage_id in relevant
    }
    counts = dataset["judgment_counts"]
    assert (counts["human"], counts["source passage"], counts["labeller"]) == (len(lines), 0, 0)
    assert (
        f"judgments used: human {len(lines)}, source passage 0, labeller 0"
        in (dataset["judgments"])
    )
    assert "holds no relevance judgments" not in " ".join(dataset["warnings"])
    for text in (printed, report):
        assert f"Judgments used ((query, passage) pairs): human {len(lines)}" in text


def test_the_person_outranks_the_labeller_and_counts_are_by_source(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=4)
    folder = _folder(imported)
    person, both, machine_only, abstained = lines[0], lines[1], lines[2], lines[3]
    # The labeller calls both pairs highly relevant; the person says the second is not.
    _labeller(folder, both, 3)
    _labeller(folder, machine_only, 2)
    _labeller(folder, abstained, None)  # an abstention is no judgment
    person["grade"], both["grade"] = 1, 0
    _import(imported, [person, both], tmp_path / "graded.jsonl")
    results, printed, _report = _eval(imported, tmp_path / "report", capsys)
    qrels = _qrels(tmp_path / "report")
    assert qrels[(both["query_id"], _trec(both["passage_id"]))] == 0
    assert qrels[(machine_only["query_id"], _trec(machine_only["passage_id"]))] == 2
    assert (abstained["query_id"], _trec(abstained["passage_id"])) not in qrels
    counts = results["dataset"]["judgment_counts"]
    assert (counts["human"], counts["labeller"], counts["source passage"]) == (2, 1, 0)
    assert results["dataset"]["labeller"] == PLANTED.describe()
    assert f"labeller 1 ({PLANTED.describe()})" in printed
    # The merge names each grade's source, for the estimates that build on it.
    dataset = load_dataset(imported, testset="own")
    judged = dataset.pooled.judgments
    assert judged[both["query_id"]][both["passage_id"]].source == HUMAN
    assert judged[machine_only["query_id"]][machine_only["passage_id"]].source == LABELLER


def test_two_labellers_are_never_mixed(imported: Path, tmp_path: Path, capsys) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=2)
    folder = _folder(imported)
    _labeller(folder, lines[0], 3, PLANTED)
    _labeller(folder, lines[1], 2, OTHER)
    dataset = load_dataset(imported, testset="own")
    assert dataset.qrels == {} and dataset.judgment_counts[LABELLER] == 0
    (warning,) = [w for w in dataset.warnings if "labellers graded this set" in w]
    assert PLANTED.describe() in warning and OTHER.describe() in warning
    assert "--labeller" in warning
    chosen = load_dataset(imported, testset="own", labeller="one-shot")
    assert chosen.qrels == {lines[1]["query_id"]: {lines[1]["passage_id"]: 2}}
    assert chosen.pooled.labeller == OTHER
    assert OTHER.describe() in chosen.source
    # A choice that names none (or both) is one line, before any work.
    for wanted, words in (("nobody", "names no labeller"), ("sha", "names 2 labellers")):
        capsys.readouterr()
        argv = ["eval", str(imported), "--testset", "own", "--labeller", wanted]
        assert main(argv) == 1
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and words in error


def test_a_labeller_grade_of_changed_text_is_not_used(imported: Path, tmp_path: Path) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=2)
    folder = _folder(imported)
    stale = lines[0]
    kept = next(line for line in lines if line["doc_id"] != stale["doc_id"])
    _labeller(folder, stale, 3)
    _labeller(folder, kept, 2)
    source = imported / stale["doc_id"]
    source.write_text(source.read_text(encoding="utf-8").replace("the", "THE"), encoding="utf-8")
    dataset = load_dataset(imported, testset="own")
    assert dataset.qrels == {kept["query_id"]: {kept["passage_id"]: 2}}
    assert dataset.pooled.stale[LABELLER] == 1
    assert any("1 grades of" in w and "no longer holds" in w for w in dataset.warnings)


def test_judged_at_k_warns_below_90_percent_with_ndcg_prime(
    imported: Path, tmp_path: Path, capsys
) -> None:
    lines = _queue(imported, tmp_path / "queue.jsonl", depth=10)
    by_query: dict[str, list[dict]] = {}
    for line in lines:
        by_query.setdefault(line["query_id"], []).append(line)
    # Half of each query's top 10 is graded: one relevant passage, the rest not.
    graded = []
    for query_lines in by_query.values():
        chosen = query_lines[:5]
        for number, line in enumerate(chosen):
            line["grade"] = 2 if number == 0 else 0
        graded += chosen
    _import(imported, graded, tmp_path / "graded.jsonl")
    results, printed, report = _eval(imported, tmp_path / "report", capsys)
    bm25 = results["retrieval"]["bm25"]
    assert bm25["judged_at_k"] == pytest.approx(0.5)
    assert bm25["judged_below_floor"] is True
    assert bm25["mean"]["judged@10"] == pytest.approx(0.5)
    # nDCG′ leaves the unjudged passages out, so it is at least nDCG.
    assert bm25["mean"]["nDCG'@10"] >= bm25["mean"]["nDCG@10"]
    per_query = results["retrieval_per_query"]["bm25"]
    assert all(figures["judged@10"] == pytest.approx(0.5) for figures in per_query.values())
    prime = bm25["mean"]["nDCG'@10"]
    for text in (printed, report):
        assert (
            "judged@10 (share of each retriever's top 10 that holds a judgment): bm25 50%" in text
        )
        assert "Warning: only 50% of bm25's top 10 is judged (below 90%)" in text
        assert f"nDCG′@10 with unjudged passages left out is {prime:.3f}" in text
    counts = results["dataset"]["judgment_counts"]
    assert counts["human"] == len(graded) and counts["unjudged"] == len(lines) - len(graded)
    assert results["dataset"]["pool_pairs"] == len(lines)

    # The whole pool graded: every top 10 is judged, and no warning.
    for line in lines:
        line.setdefault("grade", 0)
    _import(imported, lines, tmp_path / "all.jsonl")
    results, printed, _report = _eval(imported, tmp_path / "report2", capsys)
    assert results["retrieval"]["bm25"]["judged_at_k"] == 1.0
    assert (
        "judged@10 (share of each retriever's top 10 that holds a judgment): bm25 100%" in printed
    )
    assert "Warning: only" not in printed
    assert results["dataset"]["judgment_counts"]["unjudged"] == 0


# --- generated sets: the source passage between the person and the labeller -----------


def test_a_generated_sets_source_passage_outranks_the_labeller_but_not_the_person(
    qgen_env: Path,
) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve", "pump"])
    assert make_set(corpus, "gen", 2) == 0
    testset = _testset(corpus, "gen")
    valve = next(r for r in testset.kept if "zorblax" in r["question"])
    pump = next(r for r in testset.kept if "brine" in r["question"])
    loaded = load_corpus(corpus)
    source_id = valve["passage_id"]
    other = next(p for p in loaded.passages if p.doc_id != valve["doc_id"])

    def pair(record_id: str, passage) -> dict:
        return {
            "query_id": record_id,
            "doc_id": passage.doc_id,
            "passage_id": passage.passage_id,
            "start": passage.start,
            "end": passage.end,
            "text_sha256": passage.content_hash,
        }

    source_passage = loaded.passages[loaded.passage_index[source_id]]
    # The labeller says the valve question's own passage is not relevant: the set knows
    # better. It grades another passage 2; it raises the pump's source passage to 3.
    _labeller(testset.folder, pair(valve["query_id"], source_passage), 0)
    _labeller(testset.folder, pair(valve["query_id"], other), 2)
    pump_passage = loaded.passages[loaded.passage_index[pump["passage_id"]]]
    _labeller(testset.folder, pair(pump["query_id"], pump_passage), 3)
    dataset = load_dataset(corpus, testset="gen")
    judged = dataset.pooled.judgments
    assert (
        judged[valve["query_id"]][source_id].grade,
        judged[valve["query_id"]][source_id].source,
    ) == (
        1,
        SOURCE_PASSAGE,
    )
    assert judged[valve["query_id"]][other.passage_id].source == LABELLER
    assert judged[pump["query_id"]][pump["passage_id"]].grade == 3
    assert judged[pump["query_id"]][pump["passage_id"]].source == SOURCE_PASSAGE
    assert dataset.judgment_counts == {HUMAN: 0, SOURCE_PASSAGE: 2, LABELLER: 1}
    assert "generated questions" in dataset.source and "source passage 2" in dataset.source

    # The person's 0 on the source passage stands over both.
    from ragtui.judging.label_queue import QueuePair
    from ragtui.judging.pools import UnitTexts
    from ragtui.judging.store import JudgmentStore

    store = JudgmentStore.for_corpus(loaded.root, loaded.source_key)
    judged_text = UnitTexts(loaded, "passage").get(source_id)
    label = QueuePair(valve["query_id"], valve["question"], judged_text, 1.0).label(
        0, loaded.chunking.key, "test"
    )
    store.add_label(label)
    again = load_dataset(corpus, testset="gen")
    assert again.qrels[valve["query_id"]][source_id] == 0
    assert again.pooled.judgments[valve["query_id"]][source_id].source == HUMAN
    assert again.judgment_counts == {HUMAN: 1, SOURCE_PASSAGE: 1, LABELLER: 1}
