"""A generated set stays true to what it was written from: its judgments follow their
source text (or are left out), a resumed run continues only the same passages with the
same makers, failed calls are asked again, and a shared set's files print no terminal
codes. Against the scripted OpenAI-compatible server on 127.0.0.1, as tests/test_testsets.py.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from pathlib import Path

import pytest

from ragtui.answer_match import contains_reference
from ragtui.cli import main
from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.experiment.run import answer_metrics
from ragtui.experiment.run.dataset import DatasetError, load_dataset
from ragtui.judging.trec_ids import from_trec_id
from ragtui.testsets.provenance import Makers, refuse_other_makers
from ragtui.testsets.roundtrip import answers_agree
from ragtui.testsets.sampling import sample_passages
from ragtui.testsets.store import TestsetError, generated_questions
from tests.test_testsets import FILLER, SCRIPTS, _testset, _token, make_corpus, make_set, qgen_env

__all__ = ["qgen_env"]  # the fixture, used by name


def test_the_round_trip_matches_whole_words_as_eval_does() -> None:
    assert not answers_agree("The passage does not say who designed it.", "No")
    assert not answers_agree("1987", "98")
    assert answers_agree("It opens at 42 bar.", "42 bar")
    assert answers_agree("the 7 kW motor", "7 kW")
    # One matcher: eval's answer recall is the same function the round trip uses.
    assert answer_metrics.contains_reference is contains_reference
    assert contains_reference("does not say", ["No"]) == 0.0


# --- judgments follow their source text -------------------------------------------------


def test_eval_with_other_chunking_judges_the_passages_that_hold_the_source_text(
    qgen_env: Path,
) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve", "pump"])
    assert make_set(corpus, "rt", 2) == 0
    kept = _testset(corpus, "rt").kept
    assert len(kept) == 2
    small = ChunkingSettings(16, 0)
    dataset = load_dataset(corpus, small, testset="rt")
    rechunked = dataset.corpus
    for record in kept:
        judged = dataset.qrels[record["query_id"]]
        document = next(d for d in rechunked.documents if d.doc_id == record["doc_id"])
        source = document.text[record["start"] : record["end"]]
        # Every small passage of the source text, and only those (not just the one that
        # now happens to carry the old passage's id).
        inside = {
            p.passage_id
            for p in rechunked.passages
            if p.doc_id == record["doc_id"] and record["start"] <= p.start < record["end"]
        }
        assert len(inside) > 1 and set(judged) == inside
        for passage_id in judged:
            assert rechunked.passages[rechunked.passage_index[passage_id]].text in source
    assert any("followed their source text" in warning for warning in dataset.warnings)


def test_a_question_whose_source_text_was_edited_is_not_scored(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve", "pump"])
    assert make_set(corpus, "ed", 2) == 0
    pump = corpus / "pump.txt"
    pump.write_text(pump.read_text().replace("7 kW", "9 kW"))
    dataset = load_dataset(corpus, testset="ed")
    valve = next(r for r in _testset(corpus, "ed").kept if "zorblax" in r["question"])
    assert list(dataset.qrels) == [valve["query_id"]]
    assert any(
        "1 generated questions not scored (1 text changed in its document)" in warning
        for warning in dataset.warnings
    )
    # Text moved by an edit above it is followed, not dropped.
    valve_file = corpus / "valve.txt"
    valve_file.write_text("A new first line.\n" + valve_file.read_text())
    assert list(load_dataset(corpus, testset="ed").qrels) == [valve["query_id"]]
    # Nothing left to score: one line that says why.
    valve_file.write_text(valve_file.read_text().replace("42 bar", "40 bar"))
    with pytest.raises(DatasetError, match="none of its 2 questions can be scored"):
        load_dataset(corpus, testset="ed")
    assert main(["eval", str(corpus), "--testset", "ed", "--generators", "extractive"]) == 1
    err = capsys.readouterr().err
    assert "text changed in its document" in err and "Traceback" not in err


def test_the_app_judges_a_generated_question_by_its_source_text_too(qgen_env: Path) -> None:
    """The compare screen's hollow marks come from generated_questions(corpus=…): with
    other chunking they fall on the passages that hold the source text, and a question
    whose text was edited away has none (it is not offered)."""
    corpus = make_corpus(qgen_env / "corpus", ["valve", "pump"])
    assert make_set(corpus, "app", 2) == 0
    small = load_corpus(corpus, ChunkingSettings(16, 0))
    found = generated_questions(small.root, small.source_key, corpus=small)
    for question in found.values():
        source = next(r for r in _testset(corpus, "app").kept if r["query_id"] == question.query_id)
        expected = {
            p.passage_id
            for p in small.passages
            if p.doc_id == source["doc_id"] and source["start"] <= p.start < source["end"]
        }
        assert len(expected) > 1 and set(question.judged_ids) == expected
    pump = corpus / "pump.txt"
    pump.write_text(pump.read_text().replace("7 kW", "9 kW"))
    edited = load_corpus(corpus)
    found = generated_questions(edited.root, edited.source_key, corpus=edited)
    assert [q.text for q in found.values()] == ["At what pressure does the zorblax valve open?"]


def test_a_set_is_resumed_only_on_the_passages_it_was_written_from(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    assert make_set(corpus, "r", 4) == 0
    capsys.readouterr()
    other_chunks = ("--chunk-tokens", "16", "--chunk-overlap", "0")
    assert make_set(corpus, "r", 8, *other_chunks) == 1
    err = capsys.readouterr().err
    assert "chunked with --chunk-tokens 180 --chunk-overlap 30" in err
    # A set from before chunking was recorded: the records' passages are checked.
    testset = _testset(corpus, "r")
    meta_path = testset.folder / "testset.json"
    meta = json.loads(meta_path.read_text())
    del meta["chunking"]
    meta_path.write_text(json.dumps(meta))
    assert make_set(corpus, "r", 8, *other_chunks) == 1
    assert "was written from other passages" in capsys.readouterr().err
    # A sampled document edited since: refused too, and nothing was added.
    first = Path(testset.records[0]["source"]).name
    (corpus / first).write_text("Edited. " + (corpus / first).read_text())
    assert make_set(corpus, "r", 8) == 1
    assert "was written from other passages" in capsys.readouterr().err
    assert len(_testset(corpus, "r").records) == 4


# --- failed calls, makers -------------------------------------------------------------


def _flaky_corpus(folder: Path, nonce: str) -> tuple[Path, int]:
    """valve, pump and a passage whose first request fails; the seed that does not ask
    about the failing passage first (a run whose first call fails stops there)."""
    corpus = make_corpus(folder, ["valve", "pump"])
    script = {
        "reply": "Question: What colour is the harbour lighthouse lamp?\nAnswer: green",
        "check": "green",
        "fail_first": 1,
        "nonce": nonce,
    }
    (corpus / "flaky.txt").write_text(
        f"The harbour lighthouse lamp shines green over the bay. {FILLER} {_token(script)}\n"
    )
    loaded = load_corpus(corpus)
    seed = next(
        seed
        for seed in range(20)
        if Path(sample_passages(loaded, 3, seed)[0].source).stem != "flaky"
    )
    return corpus, seed


def test_a_failed_passage_is_asked_again_by_the_next_run(qgen_env: Path, capsys) -> None:
    corpus, seed = _flaky_corpus(qgen_env / "corpus", str(qgen_env))
    assert make_set(corpus, "f", 3, "--seed", str(seed)) == 0
    captured = capsys.readouterr()
    assert "failed 1" in captured.out
    assert "1 passages failed" in captured.err and "run the same command again" in captured.err
    assert not _testset(corpus, "f").meta["complete"]
    assert main(["testset", "list", str(corpus)]) == 0
    assert "incomplete" in capsys.readouterr().out
    assert make_set(corpus, "f", 3, "--seed", str(seed)) == 0
    out = capsys.readouterr().out
    assert "failed 0" in out and "kept 3" in out and "resumed: 2 passages" in out
    testset = _testset(corpus, "f")
    assert testset.meta["complete"] and len(testset.records) == 3
    assert any("lighthouse" in record["question"] for record in testset.kept)


def test_a_backend_down_on_resume_burns_no_passage(qgen_env: Path, capsys) -> None:
    """The passages after the first two answer nothing (HTTP 500, as a backend that is
    down): the resumed run stops at its first failed call and records nothing."""
    corpus = make_corpus(qgen_env / "corpus")
    order = [Path(p.source) for p in sample_passages(load_corpus(corpus), 8, seed=0)]
    for source in order[2:]:
        sentence, script = SCRIPTS[source.stem]
        down = {**script, "fail_first": 99, "nonce": str(qgen_env)}
        (corpus / source).write_text(f"{sentence} {FILLER} {_token(down)}\n")
    assert make_set(corpus, "down", 2) == 0
    capsys.readouterr()
    assert make_set(corpus, "down", 8) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write questions: openai:qgen at" in err
    testset = _testset(corpus, "down")
    assert len(testset.records) == 2 and testset.meta["complete"]


def test_a_backend_that_goes_away_mid_run_stops_it(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    order = [Path(p.source) for p in sample_passages(load_corpus(corpus), 8, seed=0)]
    for source in order[1:]:
        sentence, script = SCRIPTS[source.stem]
        down = {**script, "fail_first": 99, "nonce": str(qgen_env)}
        (corpus / source).write_text(f"{sentence} {FILLER} {_token(down)}\n")
    assert make_set(corpus, "away", 8) == 0
    captured = capsys.readouterr()
    assert "failed 3" in captured.out
    assert "stopped after 3 failed passages in a row" in captured.err
    testset = _testset(corpus, "away")
    assert len(testset.records) == 4 and not testset.meta["complete"]


def test_a_failed_first_run_leaves_no_set_and_says_so_once(
    qgen_env: Path, monkeypatch, capsys
) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve"])
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert make_set(corpus, "gone", 1) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.count("openai:qgen") == 1, err
    assert main(["testset", "list", str(corpus)]) == 0
    assert "no test sets" in capsys.readouterr().out
    assert not list((qgen_env / "data").rglob("testsets/gone"))


def test_an_empty_name_is_refused_not_taken_for_the_default(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve"])
    assert main(["testset", str(corpus), "--generator", "openai:qgen", "-n", "1"]) == 0
    capsys.readouterr()
    assert make_set(corpus, "", 1) == 1
    assert "test set name '' is empty" in capsys.readouterr().err


def test_a_set_is_not_grown_by_another_model_under_the_same_spec(
    qgen_env: Path, scripted_openai: str, monkeypatch, capsys
) -> None:
    corpus = make_corpus(qgen_env / "corpus")
    assert make_set(corpus, "m", 2) == 0
    for record in _testset(corpus, "m").records:
        assert record["model_identity"].endswith(":qgen") and record["prompt_sha256"]
    capsys.readouterr()
    # The same server by another address: the backend names another model identity.
    monkeypatch.setenv("OPENAI_BASE_URL", scripted_openai.replace("127.0.0.1", "localhost") + "/v1")
    assert make_set(corpus, "m", 4) == 1
    err = capsys.readouterr().err
    assert "written by other makers (generator model openai:" in err and "--name" in err
    assert len(_testset(corpus, "m").records) == 2


def test_other_prompts_are_refused_too() -> None:
    earlier = {"model_identity": "m", "checker_identity": "m", "prompt_sha256": "a" * 64}
    refuse_other_makers("s", "x", earlier, Makers("m", "m", "a" * 64))
    with pytest.raises(TestsetError, match="question prompts aaaaaaaaaaaa is now bbbbbbbbbbbb"):
        refuse_other_makers("s", "x", earlier, Makers("m", "m", "b" * 64))


# --- untrusted text -------------------------------------------------------------------

ESC = "\x1b[2J\x1b]0;owned\x07\x9b31m"


def test_show_and_list_print_no_terminal_codes_from_a_shared_set(qgen_env: Path, capsys) -> None:
    corpus = make_corpus(qgen_env / "corpus", ["valve", "pump"])
    assert make_set(corpus, "esc", 2) == 0
    folder = _testset(corpus, "esc").folder
    meta = json.loads((folder / "testset.json").read_text())
    meta["settings"]["generator"] += ESC
    meta["settings"]["checker"] += ESC
    meta["settings"]["seed"] = ESC
    meta["settings"]["filters"][ESC] = True
    meta["model_identity"] += ESC
    meta["funnel_line"] += ESC
    (folder / "testset.json").write_text(json.dumps(meta))
    provenance = folder / "provenance.jsonl"
    lines = [json.loads(line) for line in provenance.read_text().splitlines()]
    for record in lines:
        if record.get("question"):
            record["question"] += ESC
            record["answer"] += ESC
    provenance.write_text("".join(json.dumps(record) + "\n" for record in lines))
    capsys.readouterr()
    assert main(["testset", "show", str(corpus), "esc"]) == 0
    assert main(["testset", "list", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "zorblax" in out and "by openai:qgen" in out  # the text is shown, its codes are not
    assert not any(code in out for code in ("\x1b", "\x07", "\x9b"))


def test_the_sets_qrels_keep_their_columns_whatever_the_ids(qgen_env: Path) -> None:
    beir = qgen_env / "beir"
    beir.mkdir()
    ids = {"valve": "doc\tvalve\nnext", "pump": f"doc pump{ESC}"}
    with (beir / "corpus.jsonl").open("w") as handle:
        for name, doc_id in ids.items():
            sentence, script = SCRIPTS[name]
            text = f"{sentence} {FILLER} {_token(script)}"
            handle.write(json.dumps({"_id": doc_id, "text": text}) + "\n")
    assert make_set(beir, "ids", 2) == 0
    qrels = (_testset(beir, "ids").folder / "qrels" / "test.tsv").read_text()
    rows = [line.split("\t") for line in qrels.splitlines()[1:]]
    assert len(rows) == 2 and all(len(row) == 3 for row in rows)
    assert not any(code in qrels for code in ("\x1b", "\x07", "\x9b"))
    assert sorted(from_trec_id(row[1]) for row in rows) == sorted(ids.values())


def test_the_token_helper_is_opaque() -> None:
    # The scripts ride in one base64 word: the filters never see their JSON.
    assert " " not in _token({"reply": "a b"}) and base64.b64decode(_token({})[5:]) == b"{}"


# --- the cost estimate counts what the run can ask ----------------------------------------


def test_the_estimate_is_the_calls_a_passage_can_take(
    qgen_env: Path, scripted_openai: str, capsys
) -> None:
    """Passages whose greedy reply holds no question but whose sampled retry does, and
    whose question passes the round trip, take every call the attempt policy allows: the
    estimate printed before the run is the number of requests the server then sees."""
    corpus = qgen_env / "late"
    corpus.mkdir()
    topics = {"lamp": ("lighthouse lamp", "green"), "gate": ("lock gate", "oak")}
    for name, (thing, answer) in topics.items():
        script = {
            "reply": "lorem ipsum",
            "retry": f"Question: Which colour or wood is the harbour {thing}?\nAnswer: {answer}",
            "check": answer,
        }
        sentence = f"The harbour {thing} is {answer}, as the port records show."
        (corpus / f"{name}.txt").write_text(f"{sentence} {FILLER} {_token(script)}\n")
    config = qgen_env / "ragtui.toml"
    config.write_text('[prices."openai:qgen"]\ninput_per_million = 1.0\noutput_per_million = 4.0\n')
    args = ["testset", str(corpus), "--generator", "openai:qgen", "-n", "2"]
    args += ["--config", str(config)]
    assert main(args) == 1
    estimate = int(re.search(r"up to (\d+) calls", capsys.readouterr().err).group(1))
    before = _requests(scripted_openai)
    assert main([*args, "--yes"]) == 0
    assert "kept 2" in capsys.readouterr().out
    assert _requests(scripted_openai) - before == estimate == 6


def _requests(server: str) -> int:
    state = json.loads(urllib.request.urlopen(f"{server}/health", timeout=10).read())
    return int(state["requests"].get("qgen", 0))
