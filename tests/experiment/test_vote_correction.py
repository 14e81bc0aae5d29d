"""Answer judging, corrected: the person's votes correct the judge only as a random sample
with known inclusion probabilities. The app's votes are chosen by the person (sighted ones
even see the pipelines), so each is refused as a correction sample, used for agreement
only, and the report, the printed findings and ``ragtui results`` say so."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from ragtui.cli import main
from ragtui.experiment.stats.vote_correction import CHOSEN, SIGHTED, refusal_reason, vote_correction
from ragtui.judging.store import Vote
from tests.judging.test_judge_cli import PLANTED, SAMPLE, plant_votes
from tests.judging.test_judge_cli import judge_env as judge_env

REFUSED = "not drawn at random: used for agreement only, never for correction"


def _vote(number: int, blind: bool) -> Vote:
    return Vote(
        query=f"question {number}?",
        query_id=f"q{number}",
        pipeline_a="bm25+extractive",
        pipeline_b="dense+extractive",
        choice="a",
        answer_a="one",
        answer_b="two",
        stats_a=None,
        stats_b=None,
        time=time.time(),
        blind=blind,
        draw="kept" if blind else None,
    )


def test_sighted_votes_are_refused_as_a_correction_sample() -> None:
    sighted = [_vote(number, blind=False) for number in range(3)]
    blind = [_vote(number, blind=True) for number in range(3, 5)]
    assert {refusal_reason(vote) for vote in sighted} == {SIGHTED}
    # Blind hides the pipelines, not the choice of query and pair: refused too.
    assert {refusal_reason(vote) for vote in blind} == {CHOSEN}
    correction = vote_correction([*sighted, *blind], {"kinds": ["pairwise"]})
    assert correction.used_for_correction == 0
    assert (correction.votes, correction.sighted, correction.blind) == (5, 3, 2)
    assert f"your 5 compare-screen votes were {REFUSED}" in correction.sentence()
    assert "3 sighted" in correction.sentence() and "2 blind" in correction.sentence()
    alone = vote_correction([], {"kinds": ["pairwise"]}).sentence()
    assert "you have no votes" in alone and "uncorrected" in alone
    assert vote_correction([], None).sentence() == ""


def test_eval_says_your_votes_correct_nothing(judge_env: Path, capsys) -> None:
    sample = judge_env.parent / "sample"
    shutil.copytree(SAMPLE, sample)
    plant_votes(sample)  # sighted votes, as the compare screen records them unblinded
    out = judge_env.parent / "eval"
    args = ["eval", str(sample), "--retrievers", "bm25,bm25:okapi", "--generators"]
    args += ["extractive", "--limit", "3", "--judge", "openai:judge-planted", "--yes"]
    assert main([*args, "--judge-kinds", "pairwise", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    correction = results["answer_correction"]
    assert correction["used_for_correction"] == 0 and correction["sighted"] == len(PLANTED)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Answer judging, corrected" in report
    # Strengths from verdicts on 3 queries are not stated (evidence_rules' floor: 10).
    assert results["judge"]["bradley_terry_enough"] is False
    assert "pairwise verdicts: too few queries to tell (n = 3)" in report
    assert main(["results", str(out)]) == 0
    shown = capsys.readouterr().out
    for text in (printed, report, shown):
        assert f"your {len(PLANTED)} compare-screen votes were {REFUSED}" in text
