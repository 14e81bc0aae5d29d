"""``ragtui judge relevance``: a labeller model grades a test set's pool pairs.

The labellers are scripted (tests/servers/scripted_openai.py, models ``label-*``) on a
loopback OpenAI-compatible server, so what each pair should get is known: a passage holding
the word ``plantedN`` is graded N. Real BM25 pools a small corpus; the grades go through the
real store (``relevance_grades.jsonl``). One slow case runs the packaged SmolLM2 on
llama.cpp and reads the grades from its log-probabilities.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.judging.automatic_grades import AutomaticGrades, LabellerSource
from ragtui.judging.circularity import circularity_warnings
from ragtui.judging.labeller_prompts import LabellerTemplates, labeller_prompt, parse_grade
from ragtui.testsets.store import find_testset
from tests.test_testsets import FILLER, SCRIPTS, _token

# One passage per file: each question's top two BM25 passages are its own and one other.
DOCUMENTS = {
    "valve.txt": "The zorblax valve opens when the pressure in the main line reaches 42 bar. "
    "It closes again below 30 bar. planted3",
    "pump.txt": "The brine pump is driven by a 7 kW motor that runs only at night. "
    "The pump motor is serviced every spring. planted1",
    "tower.txt": "The cooling tower fan has twelve carbon fibre blades and a valve for "
    "draining the basin in winter. planted0",
    "tank.txt": "The storage tank of the pump station holds ninety thousand litres of "
    "fresh water. planted2",
}
QUESTIONS = (
    '{"_id": "v1", "text": "At what pressure does the zorblax valve open?"}\n'
    '{"_id": "p1", "text": "How powerful is the motor of the brine pump?"}\n'
)


@pytest.fixture
def lab(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGTUI_CACHE_DIR", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text + "\n", encoding="utf-8")
    return corpus


def import_set(corpus: Path, answers: str | None = None, questions: str = QUESTIONS) -> None:
    path = corpus.parent / "queries.jsonl"
    path.write_text(questions, encoding="utf-8")
    extra = []
    if answers is not None:
        (corpus.parent / "answers.jsonl").write_text(answers, encoding="utf-8")
        extra = ["--answers", str(corpus.parent / "answers.jsonl")]
    assert main(["testset", "import", str(corpus), str(path), "--name", "own", *extra]) == 0


def relevance(corpus: Path, judge: str, *extra: str, testset: str = "own") -> int:
    argv = ["judge", "relevance", str(corpus), "--testset", testset, "--retrievers", "bm25"]
    return main([*argv, "--depth", "2", "--judge", judge, "--yes", *extra])


def queue(corpus: Path, testset: str = "own") -> list[dict]:
    """The pairs ``label queue`` lists for the same pool: what the labeller must grade."""
    out = corpus.parent / "queue.jsonl"
    argv = ["label", "queue", str(corpus), "--testset", testset, "--retrievers", "bm25"]
    assert main([*argv, "--depth", "2", "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def stored(corpus: Path, testset: str = "own") -> AutomaticGrades:
    loaded = load_corpus(corpus)
    return AutomaticGrades(find_testset(testset, loaded.root, loaded.source_key).folder)


def requests(server: str, model: str) -> int:
    return int(httpx.get(f"{server}/health").json()["requests"].get(model, 0))


def planted(text: str) -> int:
    found = re.search(r"\bplanted([0-3])\b", text)
    return int(found.group(1)) if found else 0


def test_planted_grades_are_stored_with_their_source_and_not_asked_again(
    lab: Path, scripted_openai: str, capsys
) -> None:
    import_set(lab)
    pairs = queue(lab)
    assert len(pairs) == 4
    before = requests(scripted_openai, "label-planted")
    capsys.readouterr()
    assert relevance(lab, "openai:label-planted") == 0
    out = capsys.readouterr().out
    assert requests(scripted_openai, "label-planted") - before == len(pairs)
    assert "graded 4, abstained 0, failed 0; source openai:label-planted (" in out
    assert "(pointwise, prompt " in out
    grades = stored(lab)
    [source] = grades.sources()
    assert source.method == "pointwise" and source.encoder is None
    assert source.judge.startswith("openai:label-planted (openai:")
    assert len(source.prompt_sha256) == 64
    by_pair = grades.of(source)
    expected = {
        (p["query_id"], p["doc_id"], p["start"], p["end"], p["text_sha256"]): planted(p["text"])
        for p in pairs
    }
    assert {pair: grade.grade for pair, grade in by_pair.items()} == expected
    assert all(grade.passage_id is not None and grade.score is None for grade in by_pair.values())
    # The same command again: every pair is graded by this source, nothing is asked.
    between = requests(scripted_openai, "label-planted")
    assert relevance(lab, "openai:label-planted") == 0
    out = capsys.readouterr().out
    assert requests(scripted_openai, "label-planted") == between
    assert "graded 0, abstained 0, failed 0" in out and "4 done by an earlier run" in out
    assert len(grades.log.path.read_text(encoding="utf-8").splitlines()) == 4


def test_grades_on_another_scale_are_asked_once_more_then_abstentions(
    lab: Path, scripted_openai: str, capsys
) -> None:
    import_set(lab)
    before = requests(scripted_openai, "label-garbage")
    assert relevance(lab, "openai:label-garbage") == 0
    out = capsys.readouterr().out
    # "80%", then a sampled retry that says "10/10": neither is read, each pair abstains.
    assert requests(scripted_openai, "label-garbage") - before == 4 * 2
    assert "graded 0, abstained 4, failed 0" in out
    grades = stored(lab)
    [source] = grades.sources()
    assert {grade.grade for grade in grades.of(source).values()} == {None}
    # An abstention is an answer: the next run does not ask again.
    between = requests(scripted_openai, "label-garbage")
    assert relevance(lab, "openai:label-garbage") == 0
    assert requests(scripted_openai, "label-garbage") == between


def test_a_failed_call_is_not_stored_and_is_asked_again_next_run(
    lab: Path, scripted_openai: str, capsys
) -> None:
    # The tank passage fails on its first request (HTTP 500); the others are answered.
    nonce = f"flaky-{abs(hash(str(lab))) % 10**9}"
    tank = lab / "tank.txt"
    tank.write_text(tank.read_text(encoding="utf-8").strip() + f" {nonce}\n", encoding="utf-8")
    import_set(lab, questions=QUESTIONS.replace("brine pump", "pump station"))
    pairs = queue(lab)
    assert any("tank" in p["doc_id"] for p in pairs)
    before = requests(scripted_openai, "label-flaky")
    assert relevance(lab, "openai:label-flaky") == 0
    out = capsys.readouterr().out
    assert requests(scripted_openai, "label-flaky") - before == len(pairs)
    assert f"graded {len(pairs) - 1}, abstained 0, failed 1" in out
    assert "failed pairs are asked again by the next run" in out
    grades = stored(lab)
    [source] = grades.sources()
    assert not [pair for pair in grades.of(source) if "tank" in pair[1]]
    between = requests(scripted_openai, "label-flaky")
    assert relevance(lab, "openai:label-flaky") == 0
    out = capsys.readouterr().out
    assert requests(scripted_openai, "label-flaky") - between == 1
    assert "graded 1, abstained 0, failed 0" in out
    assert [grade.grade for pair, grade in grades.of(source).items() if "tank" in pair[1]] == [2]


def test_three_failures_in_a_row_stop_the_run_with_one_line(
    lab: Path, scripted_openai: str, capsys
) -> None:
    import_set(lab)
    before = requests(scripted_openai, "label-down")
    assert relevance(lab, "openai:label-down") == 1
    captured = capsys.readouterr()
    assert requests(scripted_openai, "label-down") - before == 3
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 1 and "3 calls to openai:label-down failed in a row" in errors[0]
    assert "1 pair not asked" in errors[0] and "Traceback" not in captured.err
    assert "graded 0, abstained 0, failed 3" in captured.out
    assert not stored(lab).sources()


def test_one_shot_refuses_an_imported_set_before_any_work(
    lab: Path, scripted_openai: str, capsys
) -> None:
    import_set(lab)
    before = requests(scripted_openai, "label-planted")
    assert relevance(lab, "openai:label-planted", "--method", "one-shot") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was imported" in err and "--method pointwise" in err
    assert requests(scripted_openai, "label-planted") == before
    loaded = load_corpus(lab)
    folder = find_testset("own", loaded.root, loaded.source_key).folder
    assert not (folder / "pool.jsonl").exists()


def test_one_shot_grades_a_generated_set_beside_each_question_s_source(
    scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, grade in (("valve", 3), ("pump", 1)):
        sentence, script = SCRIPTS[name]
        text = f"{sentence} {FILLER} {_token(script)} planted{grade}\n"
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    argv = ["testset", str(corpus), "--generator", "openai:qgen", "-n", "2", "--name", "gen"]
    assert main(argv) == 0
    pairs = queue(corpus, "gen")
    assert len(pairs) == 4  # each question with its own source passage and the other one
    capsys.readouterr()
    assert relevance(corpus, "openai:label-planted", "--method", "one-shot", testset="gen") == 0
    out = capsys.readouterr().out
    assert "graded 2, abstained 0, failed 0" in out and "2 known relevant passages not asked" in out
    grades = stored(corpus, "gen")
    [source] = grades.sources()
    assert source.method == "one-shot"
    loaded = load_corpus(corpus)
    testset = find_testset("gen", loaded.root, loaded.source_key)
    source_doc = {r["query_id"]: r["doc_id"] for r in testset.scored()}
    by_pair = grades.of(source)
    # Only the passage a question was not written from is graded, by its planted grade.
    assert {(qid, doc): g.grade for (qid, doc, *_), g in by_pair.items()} == {
        (qid, doc): planted((corpus / doc).read_text())
        for qid, doc in [
            (p["query_id"], p["doc_id"]) for p in pairs if p["doc_id"] != source_doc[p["query_id"]]
        ]
    }


def test_the_one_shot_prompt_shows_the_known_passage_beside_the_one_graded() -> None:
    templates = LabellerTemplates()
    for style in ("chat", "completion"):
        prompt = labeller_prompt(
            templates, "one-shot", style, "Q?", "the CANDIDATE text", "the KNOWN text"
        )
        flat = prompt.flat_text()
        assert flat.index("KNOWN") < flat.index("CANDIDATE")
    assert templates.sha256("one-shot", "logprob") != templates.sha256("pointwise", "logprob")
    assert templates.sha256("pointwise", "logprob") != templates.sha256("pointwise", "text")


def test_answer_based_grades_by_the_reference_answer_and_reports_queries_without_one(
    lab: Path, scripted_openai: str, capsys
) -> None:
    # Only the valve question has a reference answer; the pump question's pairs abstain.
    import_set(lab, answers='{"_id": "v1", "answers": ["42 bar"]}\n')
    pairs = queue(lab)
    asked = [p for p in pairs if p["query_id"] == "v1"]
    before = requests(scripted_openai, "label-planted")
    capsys.readouterr()
    assert relevance(lab, "openai:label-planted", "--method", "answer-based") == 0
    out = capsys.readouterr().out
    assert requests(scripted_openai, "label-planted") - before == len(asked)
    assert "abstained 2 (2 with no reference answer, not asked)" in out
    grades = stored(lab)
    [source] = grades.sources()
    assert source.method == "answer-based"
    # The reader answers with the passage's first sentence: only the valve passage's
    # holds "42 bar".
    by_doc = {pair[1]: grade for pair, grade in grades.of(source).items()}
    assert set(by_doc) == {p["doc_id"] for p in asked}
    assert by_doc["valve.txt"].grade == 2 and by_doc["valve.txt"].score == 1.0
    assert all(g.grade == 0 for doc, g in by_doc.items() if doc != "valve.txt")


def test_answer_based_refuses_a_set_with_no_reference_answer(lab: Path, capsys) -> None:
    import_set(lab)
    assert relevance(lab, "openai:label-planted", "--method", "answer-based") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no reference answers" in err


def test_a_paid_labeller_asks_before_it_starts(lab: Path, scripted_openai: str, capsys) -> None:
    import_set(lab)
    config = lab.parent / "ragtui.toml"
    config.write_text(
        '[prices."openai:label-planted"]\ninput_per_million = 2.5\noutput_per_million = 10.0\n'
    )
    before = requests(scripted_openai, "label-planted")
    argv = ["judge", "relevance", str(lab), "--testset", "own", "--retrievers", "bm25"]
    argv += ["--depth", "2", "--judge", "openai:label-planted", "--config", str(config)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    # 4 pairs, each up to 2 requests (a sampled retry when the grade cannot be read).
    assert "labeller openai:label-planted: up to 8 calls" in err and "pass --yes" in err
    assert requests(scripted_openai, "label-planted") == before
    assert not stored(lab).sources()


def test_grades_are_read_strictly() -> None:
    assert parse_grade("2") == 2
    assert parse_grade("Relevance: 3 (perfectly relevant)") == 3
    assert parse_grade("On the 0-3 scale: 1") == 1
    assert parse_grade("2/3") == 2 and parse_grade("0 out of 3") == 0
    for reply in ("10/10", "80%", "4/5", "2/5", "3/10", "3%", "7", "2.5", "10", "relevant", ""):
        assert parse_grade(reply) is None, reply


def _source(judge: str, encoder: str | None = None) -> LabellerSource:
    return LabellerSource(judge, "pointwise", "0" * 64, encoder)


def test_a_labeller_sharing_a_model_with_a_retriever_is_flagged() -> None:
    retrievers = ["bm25", "dense", "hybrid:minilm-int8", "static"]
    # An encoder of the same model (or a variant built from it) as a dense retriever.
    warnings = circularity_warnings(_source("ollama:llama3 (x)", "all-MiniLM-L6-v2"), retrievers)
    assert [w.split("the model retriever ")[1].split(" ")[0] for w in warnings] == [
        "dense",
        "hybrid:minilm-int8",
        "static",
    ]
    assert all("Clarke & Dietz" in warning for warning in warnings)
    # A judge running the retriever's own model, named another way.
    judge = _source("ollama:sentence-transformers/All-MiniLM-L6-v2:latest (ollama:…)")
    assert len(circularity_warnings(judge, ["bm25", "dense"])) == 1
    assert circularity_warnings(_source("llamacpp:smollm2 (gguf-sha256:ab)"), retrievers) == []
    assert circularity_warnings(_source("ollama:llama3 (x)", "minilm"), ["bm25"]) == []


@pytest.mark.slow
def test_smollm2_grades_a_small_pool_from_log_probabilities(lab: Path, capsys) -> None:
    import_set(lab, questions=QUESTIONS.splitlines()[0] + "\n")
    assert relevance(lab, "llamacpp:smollm2") == 0
    out = capsys.readouterr().out
    assert "graded 2, abstained 0, failed 0" in out
    grades = stored(lab)
    [source] = grades.sources()
    assert source.judge.startswith("llamacpp:smollm2 (gguf-sha256:")
    for grade in grades.of(source).values():
        # The expected grade over the probabilities of "0".."3", and the likeliest digit.
        assert grade.grade in (0, 1, 2, 3) and grade.score is not None
        assert 0.0 <= grade.score <= 3.0 and grade.score != float(grade.grade)


def test_after_grading_it_says_how_far_the_labeller_agrees_with_your_labels(
    lab: Path, capsys
) -> None:
    import_set(lab)
    pairs = queue(lab)
    capsys.readouterr()
    assert relevance(lab, "openai:label-planted") == 0
    out = capsys.readouterr().out
    assert "labeller openai:label-planted (" in out
    assert ": not checked against your labels (you have graded none of this set's pairs" in out
    # Four of your grades, all as the labeller's: still too few to tell.
    graded = lab.parent / "graded.jsonl"
    graded.write_text(
        "".join(json.dumps({**p, "grade": planted(p["text"])}) + "\n" for p in pairs),
        encoding="utf-8",
    )
    assert main(["label", "import", str(lab), str(graded), "--testset", "own"]) == 0
    capsys.readouterr()
    assert relevance(lab, "openai:label-planted") == 0
    out = capsys.readouterr().out
    assert "too few of your labels to tell (n = 4 pairs graded by both)" in out
    assert "ranking τ needs 3 retrievers or more (1 here)" in out
