"""Test sets from a corpus, against a scripted OpenAI-compatible server on 127.0.0.1.

Each passage of the test corpus tells the server (through an opaque ``qgen:`` token) what
to reply, so every filter meets the kind of question it exists for: garbage, a generic
question, one copied from the passage, a duplicate, one in French and one the passage
cannot answer are each dropped with their reason; the good ones are kept, tied to their
passage, and round-trip through ``ragtui eval --testset``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.judging.trec_ids import from_trec_id
from ragtui.testsets.filters import is_copied, is_duplicate, is_generic, is_other_language
from ragtui.testsets.question_format import parse_question
from ragtui.testsets.sampling import sample_passages
from ragtui.testsets.store import TestsetFolder, find_testset
from tests.cli_runner import interruptible
from tests.conftest import REPO

FILLER = (
    "Engineers at the coastal laboratory keep careful notes on every machine they maintain, "
    "and the notes describe how each part behaves under load, how often it is inspected, and "
    "which spare parts are kept in the workshop for quick repairs."
)

SCRIPTS = {
    "valve": (
        "The zorblax valve opens when the pressure in the main line reaches 42 bar.",
        {
            "reply": "Question: At what pressure does the zorblax valve open?\nAnswer: 42 bar",
            "check": "It opens at 42 bar.",
        },
    ),
    "pump": (
        "The brine pump is driven by a 7 kW motor that runs only at night.",
        {
            "reply": "**Question:** How powerful is the motor that drives the brine pump?\n"
            "**Answer:** 7 kW",
            "check": "7 kW",
        },
    ),
    "garbage": (
        "The heat exchanger is cleaned with citric acid twice a year.",
        {"reply": "lorem ipsum dolor sit amet", "check": "nothing"},
    ),
    "generic": (
        "The cooling tower uses a fan with twelve blades made of carbon fibre.",
        {
            "reply": "Question: What is the main idea of the passage?\nAnswer: fans",
            "check": "fans",
        },
    ),
    "copied": (
        "The storage tank holds ninety thousand litres of fresh water for the station.",
        {
            "reply": "Question: The storage tank holds ninety thousand litres of fresh water "
            "for the station?\nAnswer: ninety thousand litres",
            "check": "ninety thousand litres",
        },
    ),
    "duplicate": (
        "Maintenance of the zorblax valve follows the pressure log of the main line.",
        {
            "reply": "Question: At what pressure does the zorblax valve open?\nAnswer: 42 bar",
            "check": "42 bar",
        },
    ),
    "french": (
        "The generator room has two diesel engines that start when the grid fails.",
        {
            "reply": "Question: Combien de moteurs diesel se trouvent dans la salle des "
            "générateurs?\nAnswer: deux moteurs",
            "check": "deux",
        },
    ),
    "unanswerable": (
        "The control room displays the turbine speed on a large analogue dial.",
        {
            "reply": "Question: Who designed the analogue dial of the turbine control room?\n"
            "Answer: Marie Curie",
            "check": "The passage does not say who designed it.",
        },
    ),
    # No answer from the generator: the checker's answer becomes the reference only when
    # it says something the question did not.
    "echo": (
        "The flux chamber is cooled by liquid helium pumped from the basement store.",
        {
            "reply": "Question: What cools the flux chamber?",
            "check": "2. What cools the flux chamber?",
        },
    ),
    "restated": (
        "The ballast tank fills from the harbour through a bronze sluice gate.",
        {
            "reply": "Question: How does the ballast tank fill?",
            "check": "The ballast tank fills.",
        },
    ),
    "answerless": (
        "The signal mast is painted orange so that pilots see it through the sea fog.",
        {
            "reply": "Question: Why is the signal mast painted orange?",
            "check": "Answer: so that pilots see it through the sea fog",
        },
    ),
    # Greedy, it reuses its passage's words; a sampled retry asks in other words.
    "reworded": (
        "The harbour crane lifts containers of forty tonnes with its twin hoists.",
        {
            "reply": "Question: What does the harbour crane lift with its twin hoists?\n"
            "Answer: containers of forty tonnes",
            "retry": "Question: How heavy a load can the lifting machine of the harbour take?\n"
            "Answer: forty tonnes",
            "check": "containers of forty tonnes",
        },
    ),
}


# One passage for each funnel outcome; the corpus most tests use.
FILTER_CASES = [
    "valve", "pump", "garbage", "generic", "copied", "duplicate", "french", "unanswerable"
]  # fmt: skip


def _token(script: dict[str, str]) -> str:
    return "qgen:" + base64.b64encode(json.dumps(script).encode()).decode()


def make_corpus(folder: Path, names: list[str] | None = None) -> Path:
    folder.mkdir(parents=True)
    for name in names or FILTER_CASES:
        sentence, script = SCRIPTS[name]
        (folder / f"{name}.txt").write_text(f"{sentence} {FILLER} {_token(script)}\n")
    return folder


@pytest.fixture
def qgen_env(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def make_set(corpus: Path, name: str, count: int, *extra: str) -> int:
    return main(
        [
            "testset",
            str(corpus),
            "--generator",
            "openai:qgen",
            "-n",
            str(count),
            "--name",
            name,
            *extra,
        ]
    )


def _testset(corpus: Path, name: str):
    loaded = load_corpus(corpus)
    return find_testset(name, loaded.root, loaded.source_key)


def test_each_bad_question_is_dropped_with_its_reason(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    code = main(["testset", str(corpus), "--generator", "openai:qgen", "-n", "8", "--name", "t1"])
    assert code == 0
    out = capsys.readouterr().out
    assert (
        "generated 8 · failed 0 · unparseable 1 · generic 1 · copied 1 · duplicate 1 · "
        "other language 1 · not answerable 1 · kept 2" in out
    )
    testset = _testset(corpus, "t1")
    verdicts = {Path(r["source"]).stem: r["verdict"] for r in testset.records}
    assert verdicts["garbage"] == "unparseable" and len(testset.records[0]["replies"]) >= 1
    garbage = next(r for r in testset.records if Path(r["source"]).stem == "garbage")
    assert len(garbage["replies"]) == 2  # one retry, then it gives up
    assert verdicts["generic"] == "generic" and verdicts["copied"] == "copied"
    assert verdicts["french"] == "other language"
    assert verdicts["unanswerable"] == "not answerable"
    # The same question from two passages: the one sampled first is kept.
    order = [Path(p.source).stem for p in sample_passages(load_corpus(corpus), 8, seed=0)]
    first, second = sorted(["valve", "duplicate"], key=order.index)
    assert (verdicts[first], verdicts[second]) == ("kept", "duplicate")
    assert verdicts["pump"] == "kept"
    # Provenance: each kept question names its passage, span and text hash.
    loaded = load_corpus(corpus)
    for record in testset.kept:
        passage = loaded.passages[loaded.passage_index[record["passage_id"]]]
        assert record["text_hash"] == passage.content_hash
        assert (record["start"], record["end"]) == (passage.start, passage.end)
        assert record["checks"]["roundtrip"] == "pass"
    assert testset.meta["settings"]["generator"] == "openai:qgen"
    assert testset.meta["model_identity"] and testset.meta["prompt_sha256"]
    # The BEIR files hold the kept questions only; the corpus's own files are untouched.
    queries = (testset.folder / "queries.jsonl").read_text().splitlines()
    assert len(queries) == 2
    assert main(["testset", "list", str(corpus)]) == 0
    assert "t1: 2 questions by openai:qgen, seed 0" in capsys.readouterr().out
    assert main(["testset", "show", str(corpus), "t1"]) == 0
    shown = capsys.readouterr().out
    assert "kept 2" in shown and "mean word overlap with source passages" in shown
    assert "How powerful is the motor that drives the brine pump?" in shown
    assert "from " in shown and "The brine pump is driven by a 7 kW motor" in shown
    assert not (corpus / "queries.jsonl").exists() and not (corpus / "qrels").exists()


def test_a_check_answer_that_restates_the_question_is_no_answer(qgen_env: Path) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["echo", "restated", "answerless"])
    assert make_set(corpus, "echoes", 3) == 0
    testset = _testset(corpus, "echoes")
    verdicts = {Path(r["source"]).stem: r["verdict"] for r in testset.records}
    assert verdicts == {
        "echo": "not answerable",
        "restated": "not answerable",
        "answerless": "kept",
    }
    (kept,) = testset.kept
    assert kept["answer"] == "so that pilots see it through the sea fog"
    assert kept["answer_from"] == "checker"


def test_a_filter_can_be_turned_off(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["generic", "french", "valve"])
    code = main(
        [
            "testset", str(corpus), "--generator", "openai:qgen", "-n", "3", "--name", "loose",
            "--no-generic-filter", "--no-language-filter",
        ]
    )  # fmt: skip
    assert code == 0
    assert "generic 0 · copied 0 · duplicate 0 · other language 0" in capsys.readouterr().out
    testset = _testset(corpus, "loose")
    assert testset.meta["settings"]["filters"]["generic"] is False
    assert {r["checks"]["generic"] for r in testset.records if "checks" in r} == {"off"}


def test_the_overlap_cap_drops_questions_that_reuse_their_passage(qgen_env: Path, capsys) -> None:
    """Opt-in: the valve question has 3 of its 4 content words in its passage, the pump
    question 3 of 5; a cap of 70% drops the first only, before its round-trip check."""
    corpus = make_corpus(qgen_env / "corpus", ["valve", "pump"])
    assert make_set(corpus, "capped", 2, "--max-overlap", "0.7") == 0
    assert "high overlap 1 · not answerable 0 · kept 1" in capsys.readouterr().out
    testset = _testset(corpus, "capped")
    assert testset.meta["settings"]["max_overlap"] == 0.7
    dropped = [r for r in testset.records if r["verdict"] == "high overlap"]
    assert len(dropped[0]["replies"]) == 4  # the greedy try and three sampled ones
    assert [r["question"] for r in dropped] == ["At what pressure does the zorblax valve open?"]
    assert dropped[0]["checks"]["overlap"] == "fail" and "roundtrip" not in dropped[0]["checks"]
    assert [r["question"] for r in testset.kept] == [
        "How powerful is the motor that drives the brine pump?"
    ]
    # Without the cap, nothing says "high overlap": the funnel of older sets is unchanged.
    assert make_set(corpus, "uncapped", 2) == 0
    funnel = capsys.readouterr().out.splitlines()[0]
    assert funnel.startswith("generated 2") and "high overlap" not in funnel
    # A question over the cap is asked for again (sampled) before it is dropped.
    reworded = make_corpus(qgen_env / "reworded", ["reworded"])
    assert make_set(reworded, "retried", 1, "--max-overlap", "0.5") == 0
    (record,) = _testset(reworded, "retried").records
    assert record["verdict"] == "kept" and len(record["replies"]) == 2
    assert record["question"] == "How heavy a load can the lifting machine of the harbour take?"
    # The message names the range the check accepts: 1 is refused as "below 1" says.
    for share in ("1.5", "1", "0"):
        assert make_set(corpus, "bad", 2, "--max-overlap", share) == 1
        assert f"--max-overlap {share}: use a share above 0 and below 1" in capsys.readouterr().err


def test_a_larger_n_grows_a_set_without_asking_again(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    assert make_set(corpus, "grow", 4) == 0
    first = [r["passage_id"] for r in _testset(corpus, "grow").records]
    capsys.readouterr()
    assert make_set(corpus, "grow", 8) == 0
    out = capsys.readouterr().out
    assert "generated 8 ·" in out and "resumed: 4 passages were done by an earlier run" in out
    grown = _testset(corpus, "grow")
    assert [r["passage_id"] for r in grown.records][:4] == first
    assert grown.meta["count"] == 8 and grown.meta["complete"]
    # A smaller -n asks nothing and loses nothing.
    assert make_set(corpus, "grow", 2) == 0
    assert "generated 8 ·" in capsys.readouterr().out
    assert len(_testset(corpus, "grow").records) == 8
    # Other settings under the same name are still refused.
    assert make_set(corpus, "grow", 8, "--seed", "5") == 1
    assert "was made with other settings" in capsys.readouterr().err


def test_the_same_seed_gives_the_same_set(qgen_env: Path) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    for name in ("a", "b"):
        assert make_set(corpus, name, 5, "--seed", "3") == 0
    first, second = _testset(corpus, "a"), _testset(corpus, "b")
    assert [r["passage_id"] for r in first.records] == [r["passage_id"] for r in second.records]
    assert [r.get("question") for r in first.records] == [r.get("question") for r in second.records]
    loaded = load_corpus(corpus)
    assert sample_passages(loaded, 3, seed=3) == sample_passages(loaded, 8, seed=3)[:3]
    other = sample_passages(loaded, 5, seed=4)
    assert [p.passage_id for p in other] != [r["passage_id"] for r in first.records]


def test_a_set_round_trips_through_eval_and_a_rejection_changes_what_is_scored(
    qgen_env: Path,
) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    assert make_set(corpus, "rt", 8) == 0
    out = qgen_env / "eval"
    args = ["eval", str(corpus), "--testset", "rt", "--retrievers", "bm25"]
    args += ["--generators", "extractive"]
    assert main([*args, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert (
        results["dataset"]["judged_queries"] == 2 and results["dataset"]["judged_unit"] == "passage"
    )
    assert (
        "generated questions: test set 'rt' written by openai:qgen"
        in results["dataset"]["judgments"]
    )
    assert "generated questions" in (out / "report.md").read_text()
    # bm25 ranks the passage each question was written from first (they share its words).
    # Recall@10 on 8 passages would be 1.0 for any ranking; MRR@10 of a ranking that put
    # the source passage anywhere else would be at most 0.5 for that question.
    assert results["retrieval"]["bm25"]["mean"]["MRR@10"] == 1.0
    used = (out / "qrels.tsv").read_text().splitlines()[1:]
    sources = {r["query_id"]: r["passage_id"] for r in _testset(corpus, "rt").kept}
    pairs = [tuple(from_trec_id(column) for column in line.split("\t")[:2]) for line in used]
    assert sorted(pairs) == sorted(sources.items())

    testset = _testset(corpus, "rt")
    TestsetFolder(testset.folder).review(testset.kept[0]["query_id"], "rejected")
    assert main([*args, "--out", str(qgen_env / "eval2")]) == 0
    again = json.loads((qgen_env / "eval2" / "results.json").read_text())
    assert again["dataset"]["judged_queries"] == 1


def test_a_beir_corpus_is_judged_by_document(qgen_env: Path) -> None:
    beir = qgen_env / "beir"
    beir.mkdir()
    with (beir / "corpus.jsonl").open("w") as handle:
        for name in ("valve", "pump", "garbage"):
            sentence, script = SCRIPTS[name]
            text = f"{sentence} {FILLER} {_token(script)}"
            handle.write(json.dumps({"_id": f"doc-{name}", "title": name, "text": text}) + "\n")
    assert make_set(beir, "b", 3) == 0
    testset = _testset(beir, "b")
    assert testset.meta["judged_unit"] == "document"
    qrels = (testset.folder / "qrels" / "test.tsv").read_text().splitlines()[1:]
    assert sorted(line.split("\t")[1] for line in qrels) == ["doc-pump", "doc-valve"]


def test_a_corpus_of_one_tiny_document_gives_an_empty_set_not_a_crash(
    qgen_env: Path, capsys
) -> None:
    corpus = qgen_env / "tiny"
    corpus.mkdir()
    (corpus / "note.txt").write_text("Hi.\n")
    assert make_set(corpus, "t", 5) == 0
    captured = capsys.readouterr()
    assert "generated 1 · failed 0 · unparseable 1" in captured.out and "kept 0" in captured.out
    assert "passages for only 1 questions" in captured.err
    code = main(["eval", str(corpus), "--testset", "t", "--generators", "extractive"])
    assert code == 1
    assert "has no kept questions" in capsys.readouterr().err


def test_extractive_and_unknown_sets_are_one_line_errors(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve"])
    assert main(["testset", str(corpus), "--generator", "extractive", "-n", "1"]) == 1
    assert "extractive cannot write questions" in capsys.readouterr().err
    assert main(["eval", str(corpus), "--testset", "nope", "--generators", "extractive"]) == 1
    err = capsys.readouterr().err
    assert "no test set 'nope'" in err and "Traceback" not in err


def _server_state(server: str) -> dict:
    return json.loads(urllib.request.urlopen(f"{server}/health", timeout=10).read())


def test_sigint_then_the_same_command_resumes(qgen_env: Path, scripted_openai: str) -> None:
    """The server answers 5 requests, then holds the next one: the run is stopped while it
    waits for it (an observable point, not a race with reply times), and the same command
    then resumes without asking about a done passage again."""
    corpus = make_corpus(qgen_env / "corpus")
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"{scripted_openai}/v1",
        "OPENAI_API_KEY": "test-key",
        "RAGTUI_DATA_DIR": str(qgen_env / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    model = f"qgen-hold-5-{qgen_env.name}"  # its own name: held requests are per model
    command = [sys.executable, "-m", "ragtui", "testset", str(corpus), "-n", "8", "--name", "r"]
    command += ["--generator", f"openai:{model}"]
    child = subprocess.Popen(
        interruptible(command),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while _server_state(scripted_openai)["held"].get(model, 0) < 1:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the run never reached the held request"
        time.sleep(0.05)
    provenance = next((qgen_env / "data").rglob("provenance.jsonl"))
    done_before = len(provenance.read_text().splitlines())
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr and "run the same command again to resume" in stderr
    # 5 answered requests are 2 passages at least (each passage of this corpus takes 1 or
    # 2 calls) and fewer than 8; the passage waiting for its reply was not recorded.
    assert 2 <= done_before < 8
    assert len(provenance.read_text().splitlines()) == done_before
    urllib.request.urlopen(
        urllib.request.Request(f"{scripted_openai}/release/{model}", method="POST"), timeout=10
    )
    asked_before = _server_state(scripted_openai)["requests"][model]
    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed: {done_before} passages were done by an earlier run" in rerun.stdout
    assert "generated 8 ·" in rerun.stdout
    # The progress line (plain on a pipe) counts what is kept and dropped, resumed work included.
    kept = int(re.search(r"kept (\d+)$", rerun.stdout.splitlines()[0]).group(1))
    assert f"kept {kept} · dropped {8 - kept}" in rerun.stderr.splitlines()[-1]
    indexes = [json.loads(line)["index"] for line in provenance.read_text().splitlines()]
    assert sorted(indexes) == list(range(8))  # every passage once: none redone, none lost
    assert _server_state(scripted_openai)["requests"][model] > asked_before


def test_the_parser_reads_what_small_models_write() -> None:
    assert parse_question("Question: What powers the pump?\nAnswer: a motor") == (
        "What powers the pump?",
        "a motor",
    )
    assert parse_question("Question: How is it cooled? Answer: by air") == (
        "How is it cooled?",
        "by air",
    )
    assert parse_question("Q: what drives the fan\nA: a belt") == ("what drives the fan?", "a belt")
    assert parse_question("Question: Where is the tank?\nAnswer:") == ("Where is the tank?", "")
    assert parse_question("lorem ipsum") is None
    assert parse_question("Question: Why?\nAnswer: yes") is None  # too short to search for
    # The prompts end with "Question:": a reply may start with the question itself.
    assert parse_question(" What cools the room?\nAnswer: air") == ("What cools the room?", "air")
    assert parse_question("What drives the fan in the tower?") == (
        "What drives the fan in the tower?",
        "",
    )
    assert parse_question("The passage is about fans.\nWhy?") is None  # a summary, no question
    for numbered in (
        "Q1. What drives the fan?",
        "a) What drives the fan?",
        ". . . What drives the fan?",
    ):
        assert parse_question(numbered) == ("What drives the fan?", "")
    assert parse_question("1.4 times what drives the fan?") == (
        "1.4 times what drives the fan?",
        "",
    )


def test_the_filters_on_their_own() -> None:
    passage = SCRIPTS["valve"][0] + " " + FILLER
    assert is_generic("What is the main idea of the passage?", passage)
    assert is_generic("What does the author argue here?", passage)
    assert is_generic("What is this about?", passage)  # nothing of the passage in it
    assert is_generic("What is the purpose of this note?", passage)
    assert is_generic("What do these results show about the valve?", passage)
    assert is_generic("Which of the following is not a part of the zorblax valve?", passage)
    assert not is_generic("At what pressure does the zorblax valve open?", passage)
    assert is_copied(
        "Engineers at the coastal laboratory keep careful notes on every machine?", passage
    )
    assert not is_copied("What do engineers at the laboratory write down about machines?", passage)
    assert is_duplicate(
        "At what pressure does the zorblax valve open?",
        ["at what pressure does the zorblax valve open"],
    )
    assert not is_duplicate(
        "How powerful is the brine pump motor?", ["At what pressure does the zorblax valve open?"]
    )
    assert is_other_language("Combien de moteurs diesel se trouvent dans la salle?", passage)
    assert not is_other_language("How many diesel engines are in the generator room?", passage)


def test_a_paid_generator_shows_its_cost_first(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    config = qgen_env / "ragtui.toml"
    config.write_text('[prices."openai:qgen"]\ninput_per_million = 1.0\noutput_per_million = 4.0\n')
    args = [
        "testset",
        str(corpus),
        "--generator",
        "openai:qgen",
        "-n",
        "4",
        "--config",
        str(config),
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    # Per passage up to two tries for a question (the second sampled) and one round-trip
    # answer, all from openai:qgen: 4 passages × 3 calls.
    assert "generator openai:qgen: up to 12 calls" in err and "about $" in err
    assert "pass --yes" in err
    assert main([*args, "--yes"]) == 0
    capsys.readouterr()
    # Growing the set to 6 pays for the 2 new passages only; nothing new asks nothing.
    args[args.index("4")] = "6"
    assert main(args) == 1
    assert "generator openai:qgen: up to 6 calls" in capsys.readouterr().err
    assert main([*args, "--yes"]) == 0
    assert main(args) == 0
    # With a cap, each passage may be asked for a question four times: 6 × (4 + 1).
    assert main([*args[:-2], "--name", "capped", "--max-overlap", "0.5", *args[-2:]]) == 1
    assert "generator openai:qgen: up to 30 calls" in capsys.readouterr().err


def test_the_packaged_base_model_writes_questions_from_its_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The real Gemma-3-270M through llama.cpp, on 3 passages of sample_corpus: the worked
    examples get a question out of the base model for each (on Cranfield it gave none for
    43% of passages when the pattern was only described)."""
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    corpus = REPO / "sample_corpus"
    assert main(["testset", str(corpus), "--generator", "llamacpp:gemma3", "-n", "3"]) == 0
    assert "unparseable 0" in capsys.readouterr().out
    loaded = load_corpus(corpus)
    testset = find_testset("llamacpp-gemma3-seed0", loaded.root, loaded.source_key)
    assert testset.meta["model_identity"]
    for record in testset.records:
        assert record["question"].endswith("?") and len(record["question"].split()) >= 3
        if record["verdict"] == "kept":
            assert record["answer"] and record["answer_from"] == "checker"
