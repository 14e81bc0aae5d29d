"""The judge end to end against scripted judges on a loopback OpenAI-compatible server.

The judges are scripted (tests/servers/scripted_openai.py) because their behaviour must be
known exactly: one that always prefers the first position, one that follows a planted
vote file, one that never names a verdict.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.judging.store import JudgmentStore, Vote

SAMPLE = Path(__file__).resolve().parents[2] / "sample_corpus"


@pytest.fixture
def judge_env(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGTUI_CACHE_DIR", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("overview.md", "warranty.md", "noise.txt"):
        shutil.copy(SAMPLE / name, corpus / name)
    return corpus


# (user's choice, answer A, answer B): the answer the user preferred holds PREFERRED.
PLANTED = [
    ("a", "PREFERRED: it weighs 142 kg.", "It is heavy."),
    ("b", "Ten years.", "PREFERRED: ten years or 6,000 cycles."),
    ("a", "PREFERRED: below 25 dB.", "Quiet."),
    ("tie", "Yes.", "Yes, it does."),
    ("b", "No idea.", "PREFERRED: the gateway G2."),
    ("both_bad", "Maybe.", "Perhaps."),
    ("a", "PREFERRED: 48 V.", "It uses a battery."),
]


def plant_votes(corpus: Path, planted=PLANTED) -> JudgmentStore:
    loaded = load_corpus(corpus)
    store = JudgmentStore.for_corpus(loaded.root, loaded.source_key)
    for number, (choice, answer_a, answer_b) in enumerate(planted):
        store.add_vote(
            Vote(
                query=f"question {number}?",
                query_id=f"q{number}",
                pipeline_a="bm25+openai:ok",
                pipeline_b="dense+openai:ok",
                choice=choice,
                answer_a=answer_a,
                answer_b=answer_b,
                stats_a=None,
                stats_b=None,
                time=time.time(),
            )
        )
    return store


def calibrate(corpus: Path, judge: str, capsys, *extra: str) -> dict:
    code = main(["judge", "calibrate", str(corpus), "--judge", judge, "--json", "--yes", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_a_judge_that_follows_the_votes_agrees_fully(judge_env: Path, capsys) -> None:
    store = plant_votes(judge_env)
    record = calibrate(judge_env, "openai:judge-planted", capsys)
    figures = record["figures"]
    assert figures["n"] == len(PLANTED) and figures["abstentions"] == 0
    assert figures["agreement"] == 1.0 and figures["kappa"] == pytest.approx(1.0)
    assert figures["non_tie"] == 5 and figures["position_inconsistency"] == 0.0
    assert figures["queries"] == 5  # one question per vote here
    assert figures["confusion"]["tie"]["tie"] == 2 and figures["confusion"]["a"]["a"] == 3
    assert record["judge"]["spec"] == "openai:judge-planted" and record["judge"]["method"] == "text"
    # Stored beside the votes, under the judge's identity.
    stored = [json.loads(line) for line in (store.folder / "judge_calibrations.jsonl").open()]
    assert stored[-1]["figures"]["kappa"] == pytest.approx(1.0)
    assert stored[-1]["judge"]["model_identity"] == record["judge"]["model_identity"]
    # Asked again, every verdict comes from the judge cache.
    again = calibrate(judge_env, "openai:judge-planted", capsys)
    assert again["judge"]["calls"] == 0 and again["judge"]["from_cache"] == 2 * len(PLANTED)


def test_a_judge_that_always_picks_the_first_answer_is_inconsistent_and_ties(
    judge_env: Path, capsys
) -> None:
    plant_votes(judge_env)
    figures = calibrate(judge_env, "openai:judge-first", capsys)["figures"]
    assert figures["position_inconsistency"] == 1.0
    assert figures["agreement"] == 0.0
    assert sum(row["tie"] for row in figures["confusion"].values()) == len(PLANTED)


def test_unparseable_verdicts_are_counted_as_abstentions(judge_env: Path, capsys) -> None:
    plant_votes(judge_env)
    figures = calibrate(judge_env, "openai:judge-garbage", capsys)["figures"]
    assert figures["abstentions"] == len(PLANTED)
    assert figures["agreement"] is None and figures["position_inconsistency"] is None
    assert sum(row["abstain"] for row in figures["confusion"].values()) == len(PLANTED)


def test_a_paid_judge_shows_its_cost_and_waits_for_yes(judge_env: Path, capsys) -> None:
    plant_votes(judge_env)
    config = judge_env.parent / "ragtui.toml"
    config.write_text(
        '[prices."openai:judge-planted"]\ninput_per_million = 2.5\noutput_per_million = 10.0\n'
    )
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted"]
    code = main([*args, "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1
    # 7 votes, each judged in 2 orders, each order up to 2 requests (a sampled retry when
    # the first reply names no verdict): 28, counted on the server in the test below.
    assert "up to 28 calls" in err and "about $" in err
    assert "pass --yes" in err
    loaded = load_corpus(judge_env)
    folder = JudgmentStore.for_corpus(loaded.root, loaded.source_key).folder
    assert not (folder / "judge_calibrations.jsonl").exists()  # nothing was sent


def test_calibrating_without_votes_or_with_a_bad_judge_is_one_line(judge_env: Path, capsys) -> None:
    code = main(["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted"])
    err = capsys.readouterr().err
    assert code == 1 and "no votes" in err and len(err.strip().splitlines()) == 1
    plant_votes(judge_env)
    code = main(["judge", "calibrate", str(judge_env), "--judge", "extractive", "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and "extractive cannot judge" in err and "Traceback" not in err
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted"]
    code = main([*args, "--judge-method", "logprob", "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and "no token probabilities" in err
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:http500", "--yes"]
    code = main(args)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("ragtui: error:")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in err
    assert "judge openai:http500:" in errors[0] and "out of memory" in errors[0]


def test_eval_with_a_judge_scores_answers_and_ranks_pipelines(judge_env: Path, capsys) -> None:
    out = judge_env.parent / "eval"
    args = ["eval", str(SAMPLE), "--retrievers", "bm25,dense", "--generators", "extractive"]
    args += ["--limit", "4", "--judge", "openai:judge-first", "--yes", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "judge openai:judge-first (text)" in printed
    assert "judge not checked against your votes (not calibrated" in printed
    results = json.loads((out / "results.json").read_text())
    judge = results["judge"]
    # judge-first always prefers the answer shown first: every pair changes side when
    # swapped, so every verdict is a tie and no pipeline is stronger than another.
    assert judge["position_inconsistency"] == 1.0 and judge["pairs_judged"] == 4
    assert judge["pairwise"][0]["ties"] == 4
    assert {round(row["log_strength"], 6) for row in judge["bradley_terry"]} == {0.0}
    assert judge["calibration"] is None
    # It grades every answer 3 of 5: 0.5 on the 0–1 scale, an answer metric like F1.
    for data in results["pipelines"].values():
        assert data["mean"]["judge_correctness"] == 0.5
        assert data["mean"]["judge_faithfulness"] == 0.5
    assert "judge_correctness" in results["attribution"]
    report = (out / "report.md").read_text()
    assert "## The judge" in report and "not checked against your votes" in report
    pairs = [json.loads(line) for line in (out / "judge_pairs.jsonl").open()]
    assert len(pairs) == 4 and {p["forward"]["verdict"] for p in pairs} == {"1"}
    assert all(p["backward"]["raw"] == "1" and p["outcome"] == "tie" for p in pairs)
    with (out / "per_query.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["judge_correctness"] for row in rows} == {"0.5"}
    assert "Judged correctness (judge not checked against your votes" in report


def test_eval_prints_the_judges_calibration_once_there_is_one(judge_env: Path, capsys) -> None:
    sample = judge_env.parent / "sample"
    shutil.copytree(SAMPLE, sample)
    # Twice over: 10 votes with a winner, the floor of a calibration sentence (evidence_rules).
    plant_votes(sample, PLANTED * 2)
    calibrate(sample, "openai:judge-planted", capsys)
    out = judge_env.parent / "eval"
    args = ["eval", str(sample), "--retrievers", "bm25", "--generators", "extractive"]
    args += ["--limit", "3", "--judge", "openai:judge-planted", "--yes", "--out", str(out)]
    # Ten votes, all agreed: κ's interval is the agreement's carried to κ, not [1.00, 1.00].
    sentence = "agrees with your votes 100% [72%, 100%], κ 1.00 [0.42, 1.00], n = 10"
    # Grades alone: the calibration (from pairwise votes) is never printed beside them.
    assert main([*args, "--judge-kinds", "correctness"]) == 0
    printed = capsys.readouterr().out
    assert sentence not in printed and "not calibrated for 1–5 grades" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["judge"]["calibration"] is None
    assert results["judge"]["kinds"] == ["correctness"] and results["judge"]["pairs_judged"] == 0
    assert sentence not in (out / "report.md").read_text()
    # With pairwise verdicts, the sentence is shown for them, and says the grades are not.
    assert main([*args, "--judge-kinds", "correctness,pairwise"]) == 0
    printed = capsys.readouterr().out
    assert f"pairwise verdicts: {sentence}" in printed
    assert "1–5 grades: not calibrated" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["judge"]["calibration"]["figures"]["kappa"] == pytest.approx(1.0)
    assert sentence in (out / "report.md").read_text()
    # Another prompt is another judge: not calibrated.
    config = judge_env.parent / "ragtui.toml"
    config.write_text('[judge]\nsystem = "You judge answers."\n')
    assert main([*args, "--judge-kinds", "pairwise", "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    assert sentence not in printed and "not calibrated" in printed


def test_judge_pairs_jsonl_escapes_what_a_terminal_would_obey(judge_env: Path, capsys) -> None:
    out = judge_env.parent / "eval"
    args = ["eval", str(SAMPLE), "--retrievers", "bm25", "--generators", "extractive,openai:ok"]
    args += ["--limit", "1", "--judge", "openai:judge-hostile", "--judge-kinds", "pairwise"]
    assert main([*args, "--yes", "--out", str(out)]) == 0
    capsys.readouterr()
    text = (out / "judge_pairs.jsonl").read_text(encoding="utf-8")
    assert "\u202e" not in text and "\x9b" not in text  # escaped as \u202e, \u009b
    lines = text.splitlines()
    assert len(lines) == 1
    pair = json.loads(lines[0])
    assert "\u202eevil" in pair["forward"]["raw"] and "\x9b31m" in pair["forward"]["raw"]


def test_the_grid_estimate_counts_retries_and_cached_verdicts_are_not_work(
    judge_env: Path, scripted_openai: str, capsys
) -> None:
    config = judge_env.parent / "ragtui.toml"
    config.write_text(
        '[prices."openai:judge-garbage"]\ninput_per_million = 1.0\noutput_per_million = 1.0\n'
    )
    args = ["eval", str(SAMPLE), "--retrievers", "bm25", "--generators", "extractive,openai:ok"]
    args += ["--limit", "2", "--judge", "openai:judge-garbage", "--yes", "--config", str(config)]
    before = requests_seen(scripted_openai, "judge-garbage")
    assert main([*args, "--out", str(judge_env.parent / "eval")]) == 0
    err = capsys.readouterr().err
    sent = requests_seen(scripted_openai, "judge-garbage") - before
    # 2 queries × 2 pipelines: 4 answers graded for correctness and faithfulness, and 2
    # pairs in both orders: 12 verdicts; a judge that never answers is retried for each.
    assert sent == 24 and estimated_calls(err) == sent
    last = [line for line in err.splitlines() if line.startswith("judging ")][-1]
    assert last.startswith("judging 12/12 verdicts")
    # Again: the verdicts come from the cache and are taken off the work, not counted as done.
    assert main([*args, "--out", str(judge_env.parent / "again")]) == 0
    err = capsys.readouterr().err
    assert requests_seen(scripted_openai, "judge-garbage") - before == sent
    last = [line for line in err.splitlines() if line.startswith("judging ")][-1]
    assert last.startswith("judging 0/0 verdicts, 12 from the cache")


def requests_seen(server: str, model: str) -> int:
    """Requests the scripted server answered for ``model`` since it started."""
    return int(httpx.get(f"{server}/health").json()["requests"].get(model, 0))


def estimated_calls(err: str) -> int:
    found = re.search(r"up to ([\d,]+) calls", err)
    assert found, err
    return int(found.group(1).replace(",", ""))


def test_the_cost_estimate_counts_every_retry_the_judge_makes(
    judge_env: Path, scripted_openai: str, capsys
) -> None:
    plant_votes(judge_env)
    config = judge_env.parent / "ragtui.toml"
    config.write_text(
        '[prices."openai:judge-garbage"]\ninput_per_million = 1.0\noutput_per_million = 1.0\n'
    )
    before = requests_seen(scripted_openai, "judge-garbage")
    # A judge that never names a verdict is retried in every order: the worst case.
    record = calibrate(judge_env, "openai:judge-garbage", capsys, "--config", str(config))
    sent = requests_seen(scripted_openai, "judge-garbage") - before
    assert sent == 4 * len(PLANTED)
    assert record["judge"]["calls"] == sent  # the same unit as the estimate: requests
    # The estimate is printed before any work (capsys was read by calibrate: ask again,
    # without --yes, which stops before sending anything).
    args = ["judge", "calibrate", str(judge_env), "--judge", "openai:judge-garbage"]
    assert main([*args, "--config", str(config)]) == 1
    assert estimated_calls(capsys.readouterr().err) == sent


def test_calibration_progress_shows_the_models_rate_and_takes_cached_verdicts_off(
    judge_env: Path, capsys
) -> None:
    plant_votes(judge_env)
    code = main(["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted", "--yes"])
    err = capsys.readouterr().err
    assert code == 0
    last = [line for line in err.splitlines() if line.startswith("judging your votes")][-1]
    assert last.startswith(f"judging your votes {2 * len(PLANTED)}/{2 * len(PLANTED)} verdicts")
    rate = float(re.search(r"\(([\d.,]+)/s", last).group(1).replace(",", ""))
    assert rate > 0 and "ETA 0s" in last
    # Again: every verdict comes from the cache, none is work done by the model.
    main(["judge", "calibrate", str(judge_env), "--judge", "openai:judge-planted", "--yes"])
    err = capsys.readouterr().err
    last = [line for line in err.splitlines() if line.startswith("judging your votes")][-1]
    assert last.startswith(f"judging your votes 0/0 verdicts, {2 * len(PLANTED)} from the cache")


def test_a_calibration_holds_only_for_the_same_judge_configuration(judge_env: Path, capsys) -> None:
    from ragtui.judging.calibration import latest_calibration

    store = plant_votes(judge_env)
    record = calibrate(judge_env, "openai:judge-planted", capsys)
    description = {k: v for k, v in record["judge"].items() if k not in ("calls", "from_cache")}
    assert latest_calibration(store, description)["time"] == record["time"]
    # Any other setting of the judge is another judge: not calibrated.
    for key, other in [
        ("prompt_sha256", "0" * 64),
        ("reference_guided", False),
        ("method", "logprob"),
        ("model_identity", "another-model"),
        ("spec", "openai:judge-first"),
        ("tie_band", 0.2),
    ]:
        assert latest_calibration(store, {**description, key: other}) is None, key
    # Votes are pairwise: no calibration speaks for 1–5 grades.
    assert latest_calibration(store, description, kind="correctness") is None
    # Reference-free and a changed prompt, through the CLI: each stores its own record.
    free = calibrate(judge_env, "openai:judge-planted", capsys, "--judge-no-reference")
    assert free["judge"]["reference_guided"] is False
    assert latest_calibration(store, description)["time"] == record["time"]
    config = judge_env.parent / "ragtui.toml"
    config.write_text('[judge]\nsystem = "You judge answers."\n')
    changed = calibrate(judge_env, "openai:judge-planted", capsys, "--config", str(config))
    assert changed["judge"]["prompt_sha256"] != record["judge"]["prompt_sha256"]
    assert latest_calibration(store, description)["time"] == record["time"]


def test_the_verdict_cache_key_names_the_attempt_policy(judge_env: Path) -> None:
    from ragtui.judging.judge import AttemptPolicy, Judge
    from ragtui.judging.verdict_cache import VerdictCache

    async def grade(judge: Judge) -> tuple[int, int]:
        await judge.correctness("How heavy is it?", "PREFERRED: 142 kg.")
        return judge.tally.calls, judge.tally.from_cache

    async def go() -> list[tuple[int, int]]:
        cache = VerdictCache(judge_env.parent / "verdicts.sqlite")
        judge = Judge("openai:judge-planted", cache=cache)
        seen = [await grade(judge), await grade(judge)]
        # Each setting that can change the reply asks the model again.
        for policy in [
            AttemptPolicy(max_tokens=16),
            AttemptPolicy(attempts=3),
            AttemptPolicy(retry_temperature=1.0),
        ]:
            judge.attempts = policy
            seen.append(await grade(judge))
        await judge.aclose()
        return seen

    assert asyncio.run(go()) == [(1, 0), (1, 1), (2, 1), (3, 1), (4, 1)]


def test_the_default_llamacpp_judge_reads_log_probabilities_end_to_end(
    judge_env: Path, capsys
) -> None:
    """``--judge llamacpp:smollm2`` with no method: auto → log-probabilities, on the real
    packaged model, through calibration and the verdict cache."""
    from sklearn.metrics import cohen_kappa_score

    from ragtui.config import paths
    from ragtui.judging.judge import Judge
    from ragtui.judging.judge_prompts import pairwise_prompt
    from ragtui.judging.verdict_cache import VerdictCache

    planted = PLANTED[:2]
    plant_votes(judge_env, planted)
    record = calibrate(judge_env, "llamacpp:smollm2", capsys)
    judge_record, figures = record["judge"], record["figures"]
    assert judge_record["method"] == "logprob" and judge_record["tie_band"] == 0.1
    # One call per order, no retries: log-probabilities are read, never parsed.
    assert judge_record["calls"] == 4 and judge_record["from_cache"] == 0
    assert figures["n"] == 2 and figures["abstentions"] == 0 and figures["both_orders"] == 2
    again = calibrate(judge_env, "llamacpp:smollm2", capsys)
    assert again["judge"]["calls"] == 0 and again["judge"]["from_cache"] == 4
    assert again["figures"] == figures

    async def replay():
        judge = Judge(
            "llamacpp:smollm2", cache=VerdictCache(paths.cache_dir() / "judge" / "verdicts.sqlite")
        )
        try:
            judged = [
                await judge.pairwise(f"question {n}?", a, b) for n, (_, a, b) in enumerate(planted)
            ]
            prompt = pairwise_prompt(judge.templates, judge.style, "q?", "x", "y")
            keys = {
                await judge.verdict_key("pairwise", prompt, choices)
                for choices in (("1", "2"), ("1", "2", "tie"))
            }
            return judged, judge.tally.from_cache, len(keys)
        finally:
            await judge.aclose()

    judged, from_cache, distinct_keys = asyncio.run(replay())
    assert from_cache == 4  # the CLI's verdicts, found under the same key
    assert distinct_keys == 2  # the choices read are part of the key

    # The figures again from the raw probabilities, computed here on their own: each order's
    # side with the 0.1 band, MT-Bench's inconsistency (the side changed with the order),
    # the outcome from the two orders' averaged probability, κ by scikit-learn.
    def side(p_first: float, shown_first: str, shown_second: str) -> str:
        return shown_first if p_first > 0.6 else shown_second if p_first < 0.4 else "tie"

    inconsistent, outcomes = 0, []
    for judgment in judged:
        p_forward, p_backward = judgment.forward.p_first, judgment.backward.p_first
        inconsistent += side(p_forward, "a", "b") != side(p_backward, "b", "a")
        p_a = (p_forward + 1 - p_backward) / 2
        outcomes.append("a" if p_a > 0.6 else "b" if p_a < 0.4 else "tie")
    assert figures["position_inconsistency"] == pytest.approx(inconsistent / 2)
    users = [choice for choice, _, _ in planted]
    agreed = [user == outcome for user, outcome in zip(users, outcomes, strict=True)]
    assert figures["agreement"] == pytest.approx(np.mean(agreed))
    # The user named a side in both votes, so chance agreement is below 1 and κ is defined.
    expected_kappa = cohen_kappa_score(users, outcomes, labels=["a", "b", "tie"])
    assert figures["kappa"] == pytest.approx(expected_kappa)


def test_a_logprob_judge_that_cannot_decide_is_not_called_position_inconsistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each order's log-probability verdict is read with the band the outcome uses.

    SmolLM2's own probabilities on short pairs fall outside the band, so the probabilities
    of an undecided judge are put in the verdict cache under the keys the real SmolLM2
    judge computes (a stand-in for the model's reply only; the reading is the real one).
    """
    from ragtui.judging.judge import Judge
    from ragtui.judging.judge_prompts import pairwise_prompt
    from ragtui.judging.verdict_cache import VerdictCache

    monkeypatch.setenv("RAGTUI_CACHE_DIR", str(tmp_path / "cache"))

    async def go():
        judge = Judge("llamacpp:smollm2", cache=VerdictCache(tmp_path / "verdicts.sqlite"))
        try:
            assert judge.method == "logprob"
            for (first, second), p_first in [(("x", "y"), 0.55), (("y", "x"), 0.53)]:
                prompt = pairwise_prompt(judge.templates, judge.style, "q?", first, second)
                key = await judge.verdict_key("pairwise", prompt, ("1", "2"))
                judge.cache.put(key, {"probabilities": {"1": p_first, "2": 1 - p_first}})
            return await judge.pairwise("q?", "x", "y"), judge.tally
        finally:
            await judge.aclose()

    judgment, tally = asyncio.run(go())
    assert tally.calls == 0 and tally.from_cache == 2
    # p(1) 0.55 then 0.53: within 0.1 of one half both times, a tie in each order and
    # overall. The verdict did not change with the order: consistent, as MT-Bench counts.
    assert (judgment.forward.verdict, judgment.backward.verdict) == ("tie", "tie")
    assert judgment.outcome == "tie" and judgment.consistent is True


def test_a_grade_on_a_ten_point_scale_is_an_abstention_not_the_worst_grade(
    judge_env: Path, scripted_openai: str, capsys
) -> None:
    out = judge_env.parent / "eval"
    args = ["eval", str(SAMPLE), "--retrievers", "bm25", "--generators", "extractive"]
    args += ["--limit", "1", "--judge", "openai:judge-tenpoint", "--judge-kinds", "correctness"]
    before = requests_seen(scripted_openai, "judge-tenpoint")
    assert main([*args, "--yes", "--out", str(out)]) == 0
    capsys.readouterr()
    judge = json.loads((out / "results.json").read_text())["judge"]
    # "10/10" was read as 1 (0.0 on the 0–1 scale): now it is retried once, then abstains.
    assert requests_seen(scripted_openai, "judge-tenpoint") - before == 2
    assert judge["abstentions"] == 1 and judge["calls"] == 2
    with (out / "per_query.csv").open() as handle:
        assert [row["judge_correctness"] for row in csv.DictReader(handle)] == [""]


def _made_judges(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every judge the commands make (the real ones), to look at after the command ends."""
    import ragtui.cli_judge

    made, real = [], ragtui.cli_judge.make_judge

    def recording(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ragtui.cli_judge, "make_judge", recording)
    return made


def _is_closed(judge) -> bool:
    import sqlite3

    try:
        judge.cache._db.execute("SELECT 1")
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return judge.closed and judge.generator._client is None
    return False


def test_a_command_that_stops_early_closes_its_judge(
    judge_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """eval stopping on a corpus without questions, and calibrate refused its cost on a
    pipe, both after the judge was made: its verdict cache and HTTP client are closed."""
    made = _made_judges(monkeypatch)
    argv = ["eval", str(judge_env), "--retrievers", "bm25", "--generators", "extractive"]
    assert main([*argv, "--judge", "openai:ok", "--out", str(tmp_path / "out"), "--yes"]) == 1
    assert "no queries.jsonl" in capsys.readouterr().err
    plant_votes(judge_env)
    config = tmp_path / "ragtui.toml"
    config.write_text('[prices."openai:ok"]\ninput_per_million = 1.0\noutput_per_million = 1.0\n')
    argv = ["judge", "calibrate", str(judge_env), "--judge", "openai:ok", "--config", str(config)]
    assert main(argv) == 1  # stdin is not a terminal under pytest, and no --yes
    assert "is paid: pass --yes" in capsys.readouterr().err
    assert len(made) == 2 and all(_is_closed(judge) for judge in made)


async def test_requests_the_server_refused_are_counted_apart_from_the_cost(
    judge_env: Path,
) -> None:
    """A judge whose server refuses every first try (503): each of the pair's two orders
    takes two requests; the tally counts four requests, two of them sent again, and the
    cost only the tokens of the two answered ones."""
    from ragtui.experiment.report.judge import retried_words
    from ragtui.generation.prices import Price, PriceTable
    from ragtui.judging.judge import Judge

    judge = Judge("openai:judge-busy", prices=PriceTable({"openai:judge-busy": Price(1e6, 0)}))
    try:
        judgment = await judge.pairwise("Which is heavier?", "142 kg.", "It is heavy.")
    finally:
        await judge.aclose()
    # "1" in both orders: read at the first answer (no reply retried), a tie by the swap rule.
    assert (judgment.forward.verdict, judgment.backward.verdict, judgment.outcome) == (
        "1",
        "1",
        "tie",
    )
    assert (judge.tally.calls, judge.tally.http_retries) == (4, 2)
    # $1 per prompt token: the cost is the answered requests' prompt tokens, no more.
    assert judge.tally.cost_usd == judge.tally.prompt_tokens > 0
    words = retried_words({"calls": 4, "http_retries": 2})
    assert "2 of its 4 requests refused by the server (HTTP 429, 502, 503 or 504)" in words


def test_a_cost_estimate_says_what_its_calls_include(
    judge_env: Path, tmp_path: Path, capsys
) -> None:
    plant_votes(judge_env)
    config = tmp_path / "ragtui.toml"
    config.write_text('[prices."openai:ok"]\ninput_per_million = 1.0\noutput_per_million = 1.0\n')
    argv = ["judge", "calibrate", str(judge_env), "--judge", "openai:ok", "--config", str(config)]
    assert main(argv) == 1  # no --yes on a pipe: the estimate is printed, nothing sent
    estimate = capsys.readouterr().err
    assert "the calls count every retry of an unreadable reply" in estimate
    assert (
        "requests the server refuses (HTTP 429, 502, 503 or 504, sent again up to 2 times each)"
        in (estimate)
    )
    assert "are not in the estimate" in estimate
