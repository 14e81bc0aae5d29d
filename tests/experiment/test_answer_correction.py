"""Answer judging, corrected: the judge's win indicator on every judged pair plus the
prediction-powered correction from the random vote queue's votes.

- on a uniform sample the corrected win rate is ppi_py's estimate and interval;
- a draw records each item's inclusion probability, extends with the budget, and hides
  nothing it should not (left/right drawn per item);
- queue votes correct, compare-screen votes (sighted or blind) are refused;
- below the floor a pair says "too few votes"; the Bradley-Terry strengths come from the
  corrected rates, with intervals from a bootstrap over queries;
- the interval's coverage by simulation.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from ragtui.errors import RagtuiError
from ragtui.evidence_rules import VOTE_SAMPLE_FLOOR
from ragtui.experiment.stats.ppi import WALD
from ragtui.experiment.stats.vote_correction import (
    CHOSEN,
    SIGHTED,
    corrected_win_rate,
    refusal_reason,
    vote_correction,
)
from ragtui.judging.store import Vote
from ragtui.judging.vote_queue import STRATIFIED_DRAW, UNIFORM_DRAW, VoteItem, draw, run_id

VALUES = np.array([0.0, 0.5, 1.0])


def _population(size: int, agree: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The person's verdicts (1, ½, 0) and a judge that matches them with chance ``agree``."""
    rng = np.random.default_rng(seed)
    human = rng.choice(VALUES, size=size, p=[0.3, 0.15, 0.55])
    judge = np.where(rng.random(size) < agree, human, rng.choice(VALUES, size=size))
    return human, judge


@pytest.mark.parametrize("lam", [1.0, 0.5, None])
def test_uniform_sample_equals_ppi_py(lam: float | None) -> None:
    """The corrected win rate from a uniform sample of votes: ppi_py's
    ppi_mean_pointestimate and ppi_mean_ci on the same arrays (n/N = 1/4000, where the
    finite-population correction and the unlabelled mean's variance that ppi_py adds are
    below a part in a thousand of the half-width; see tests/experiment/test_ppi.py)."""
    ppi_py = pytest.importorskip("ppi_py")
    human, judge = _population(4_000_000, agree=0.7, seed=3)
    rows = np.random.default_rng(4).choice(len(human), size=1_000, replace=False)
    ours = corrected_win_rate(judge, rows, human[rows], lam=lam, interval=WALD)
    labelled, predicted = human[rows], judge[rows]
    estimate = float(ppi_py.ppi_mean_pointestimate(labelled, predicted, judge, lam=lam)[0])
    low, high = ppi_py.ppi_mean_ci(labelled, predicted, judge, alpha=0.05, lam=lam)
    half_width = (high[0] - low[0]) / 2
    if lam is not None:
        assert ours["estimate"] == pytest.approx(estimate, rel=1e-12)
    assert ours["estimate"] == pytest.approx(estimate, abs=half_width * 1e-3)
    assert ours["ci_low"] == pytest.approx(low[0], abs=half_width * 1e-3)
    assert ours["ci_high"] == pytest.approx(high[0], abs=half_width * 1e-3)
    # The judge alone and the votes alone, beside it.
    assert ours["judge_only"] == pytest.approx(judge.mean())
    assert ours["votes_only"]["estimate"] == pytest.approx(labelled.mean())
    # The default interval (widened by pseudo-residuals) is the same estimate, no narrower.
    default = corrected_win_rate(judge, rows, human[rows], lam=lam)
    assert default["estimate"] == ours["estimate"]
    assert default["ci_low"] <= ours["ci_low"] + 1e-12
    assert default["ci_high"] >= ours["ci_high"] - 1e-12


def test_pairs_decided_without_the_judge_enter_as_known_outcomes() -> None:
    """A failed answer loses without a vote: the rate over judged + failed pairs is the
    judged pairs' rate scaled, plus the failures' outcomes."""
    human, judge = _population(200, agree=0.7, seed=5)
    rows = np.arange(0, 200, 4)
    alone = corrected_win_rate(judge, rows, human[rows], lam=1.0, interval=WALD)
    known = [1.0, 1.0, 0.0, 0.5]
    mixed = corrected_win_rate(judge, rows, human[rows], known, lam=1.0, interval=WALD)
    expected = (alone["estimate"] * 200 + sum(known)) / 204
    assert mixed["estimate"] == pytest.approx(expected)
    assert mixed["ci_high"] - mixed["ci_low"] == pytest.approx(
        (alone["ci_high"] - alone["ci_low"]) * 200 / 204
    )


def _items(queries: int, pipelines: tuple[str, ...] = ("p1", "p2")) -> list[VoteItem]:
    outcomes = ("a", "b", "tie", "abstain")
    items = []
    for number in range(queries):
        for first_index, first in enumerate(pipelines):
            for second in pipelines[first_index + 1 :]:
                items.append(
                    VoteItem(
                        query_id=f"q{number}",
                        question=f"question {number}?",
                        first=first,
                        second=second,
                        answer_first=f"{first} answers {number}",
                        answer_second=f"{second} answers {number}",
                        judge_outcome=outcomes[number % 4],
                    )
                )
    return items


def test_a_draw_records_inclusion_probabilities_and_extends_with_the_budget() -> None:
    items = _items(40, ("p1", "p2", "p3"))  # 120 items, 40 per pipeline pair
    uniform = draw(items, 30, seed=7, design=UNIFORM_DRAW)
    assert len(uniform.queued) == 30 and uniform.run_id == run_id(items)
    assert {queued.inclusion for queued in uniform.queued} == {30 / 120}
    assert len({queued.item.item_id for queued in uniform.queued}) == 30
    larger = draw(items, 45, seed=7, design=UNIFORM_DRAW)
    drawn = {queued.item.item_id for queued in uniform.queued}
    assert drawn <= {queued.item.item_id for queued in larger.queued}
    # Left/right is drawn per item, both ways.
    assert {queued.swapped for queued in larger.queued} == {True, False}
    stratified = draw(items, 31, seed=7, design=STRATIFIED_DRAW)
    per_pair: dict[tuple[str, str], list[float]] = {}
    for queued in stratified.queued:
        per_pair.setdefault(queued.item.pair, []).append(queued.inclusion)
    sizes = sorted(len(values) for values in per_pair.values())
    assert sizes == [10, 10, 11]
    for values in per_pair.values():
        assert set(values) == {len(values) / 40}
    # Another order of the same items draws the same: the draw depends on the seed alone.
    assert draw(items[::-1], 30, seed=7, design=UNIFORM_DRAW) == uniform


def test_a_negative_seed_is_a_one_line_error() -> None:
    # numpy takes no negative seed; `vote --seed -1` or an imported line with one must
    # say what to do, not end in a traceback.
    with pytest.raises(RagtuiError, match=r"seed -1: use 0 or more"):
        draw(_items(5, ("p1", "p2")), 3, seed=-1, design=UNIFORM_DRAW)


def _compare_vote(number: int, blind: bool) -> Vote:
    return Vote(
        query=f"question {number}?",
        query_id=f"q{number}",
        pipeline_a="p1",
        pipeline_b="p2",
        choice="a",
        answer_a="one",
        answer_b="two",
        stats_a=None,
        stats_b=None,
        time=time.time(),
        blind=blind,
    )


def _person(item: VoteItem) -> float:
    """The person's verdict on p1 vs p2: p1 wins on even queries, a tie on every third."""
    number = int(item.query_id[1:])
    return 0.5 if number % 3 == 0 else (1.0 if number % 2 == 0 else 0.0)


def _queue_votes(queue, items_voted: int) -> list[Vote]:
    votes = []
    for queued in queue.queued[:items_voted]:
        person = _person(queued.item)
        left = queued.left[0]
        if person == 0.5:
            choice = "tie"
        else:
            winner = "p1" if person == 1.0 else "p2"
            choice = "a" if left == winner else "b"
        votes.append(queue.vote(queued, choice, time.time()))
    return votes


def test_queue_votes_correct_and_compare_screen_votes_are_refused() -> None:
    items = _items(60)
    queue = draw(items, 40, seed=1, design=UNIFORM_DRAW)
    queued = _queue_votes(queue, 40)
    assert all(refusal_reason(vote) is None for vote in queued)
    sighted = [_compare_vote(number, blind=False) for number in range(3)]
    blind = [_compare_vote(number, blind=True) for number in range(3, 5)]
    assert {refusal_reason(vote) for vote in sighted} == {SIGHTED}
    assert {refusal_reason(vote) for vote in blind} == {CHOSEN}
    correction = vote_correction(
        [*sighted, *blind, *queued], {"kinds": ["pairwise"]}, items, (), run_id(items)
    )
    assert correction.used_for_correction == 40
    assert (correction.sighted, correction.blind) == (3, 2)
    (pair,) = correction.pairs
    assert (pair.first, pair.second, pair.n_human, pair.n_automatic) == ("p1", "p2", 40, 60)
    # By hand: λ·mean(judge) + mean(vote − λ·judge) over the voted items.
    judge = np.array([{"a": 1.0, "b": 0.0}.get(item.judge_outcome, 0.5) for item in items])
    voted = {queued.item.item_id for queued in queue.queued}
    rows = [row for row, item in enumerate(items) if item.item_id in voted]
    person = np.array([_person(items[row]) for row in rows])
    expected = pair.lam * judge.mean() + (person - pair.lam * judge[rows]).mean()
    assert pair.estimate == pytest.approx(expected)
    assert pair.ci_low < pair.estimate < pair.ci_high and pair.enough
    assert pair.judge_only == pytest.approx(judge.mean())
    assert pair.votes_only["estimate"] == pytest.approx(person.mean())
    words = correction.sentence()
    assert "corrected by 40 random queue votes" in words
    assert "your 5 compare-screen votes were not drawn at random" in words
    assert "3 sighted" in words and "2 blind" in words
    # Votes of another run's answers are left out.
    other = vote_correction(queued, {"kinds": ["pairwise"]}, items[:-1], (), run_id(items[:-1]))
    assert other.used_for_correction == 0 and other.queue_other == 40


def test_below_the_floor_a_pair_says_too_few_votes() -> None:
    items = _items(60)
    queue = draw(items, 60, seed=2, design=UNIFORM_DRAW)
    few = VOTE_SAMPLE_FLOOR.minimum - 1
    correction = vote_correction(
        _queue_votes(queue, few), {"kinds": ["pairwise"]}, items, (), run_id(items)
    )
    (pair,) = correction.pairs
    assert not pair.enough and pair.words() == f"too few votes to tell (n = {few})"
    assert "too few votes" in " ".join(correction.lines())
    assert correction.bradley_terry == ()
    assert "too few votes" in correction.bradley_terry_note


def test_bradley_terry_strengths_come_from_the_corrected_rates() -> None:
    """Three pipelines: the judge thinks p3 is best, the person's votes say p1 (p1 > p2 >
    p3 on most queries). The corrected strengths follow the votes."""
    items = []
    order = {"p1": 2, "p2": 1, "p3": 0}
    for number in range(80):
        for first, second in (("p1", "p2"), ("p1", "p3"), ("p2", "p3")):
            items.append(
                VoteItem(
                    f"q{number}",
                    f"question {number}?",
                    first,
                    second,
                    f"{first} {number}",
                    f"{second} {number}",
                    "b",  # the judge prefers the later pipeline every time
                )
            )
    queue = draw(items, 150, seed=3, design=STRATIFIED_DRAW)
    votes = []
    for queued in queue.queued:
        item = queued.item
        upset = int(item.query_id[1:]) % 5 == 0  # the person's own noise
        winner = item.first if (order[item.first] > order[item.second]) != upset else item.second
        votes.append(queue.vote(queued, "a" if queued.left[0] == winner else "b", time.time()))
    correction = vote_correction(votes, {"kinds": ["pairwise"]}, items, (), run_id(items))
    assert all(pair.enough for pair in correction.pairs)
    names = [row["name"] for row in correction.bradley_terry]
    assert names == ["p1", "p2", "p3"]
    for row in correction.bradley_terry:
        assert row["ci_low"] <= row["log_strength"] <= row["ci_high"]
    assert correction.bradley_terry[0]["ci_low"] > correction.bradley_terry[-1]["ci_high"]


def test_coverage_at_the_floor() -> None:
    """At the floor (30 votes on a pair) the default interval covers the person's win rate
    on every judged pair about 95% of the time, for a judge that agrees with the person
    60% or 80% of the time (the README's table, 500 draws per row)."""
    rng = np.random.default_rng(11)
    n = VOTE_SAMPLE_FLOOR.minimum
    for size, agree in ((100, 0.6), (100, 0.8), (300, 0.8)):
        human, judge = _population(size, agree, seed=size + int(agree * 10))
        truth = human.mean()
        covered = 0
        for _ in range(500):
            rows = rng.choice(size, n, replace=False)
            figures = corrected_win_rate(judge, rows, human[rows])
            covered += figures["ci_low"] <= truth <= figures["ci_high"]
        assert 0.92 <= covered / 500 <= 0.99, (size, agree, covered / 500)


def test_coverage_of_corrected_scores_at_the_floor() -> None:
    """Grades 1–5 (read as 0–1) of a pipeline's answers: at the floor (30 grades) the
    corrected judged score's interval covers the person's mean grade over every judged
    answer about 95% of the time, for a judge one grade off a third or two thirds of the
    time (500 draws per case)."""
    from ragtui.evidence_rules import GRADE_SAMPLE_FLOOR

    rng = np.random.default_rng(12)
    n = GRADE_SAMPLE_FLOOR.minimum
    for size, off in ((100, 1 / 3), (300, 2 / 3)):
        population = np.random.default_rng(size)
        person = population.choice(5, size=size, p=[0.1, 0.15, 0.2, 0.25, 0.3])
        shift = np.where(population.random(size) < off, population.choice([-1, 1], size), 0)
        judge = np.clip(person + shift, 0, 4) / 4
        human, truth = person / 4, person.mean() / 4
        covered = 0
        for _ in range(500):
            rows = rng.choice(size, n, replace=False)
            figures = corrected_win_rate(judge, rows, human[rows])
            covered += figures["ci_low"] <= truth <= figures["ci_high"]
        assert 0.92 <= covered / 500 <= 0.99, (size, off, covered / 500)


def test_one_vote_gives_no_interval_and_strict_json() -> None:
    import json

    items = _items(40)
    queue = draw(items, 40, seed=4, design=UNIFORM_DRAW)
    correction = vote_correction(
        _queue_votes(queue, 1), {"kinds": ["pairwise"]}, items, (), run_id(items)
    )
    (pair,) = correction.to_json()["pairs"]
    assert pair["words"] == "too few votes to tell (n = 1)"
    assert pair["ci_low"] is None or np.isfinite(pair["ci_low"])
    json.dumps(correction.to_json(), allow_nan=False)  # no NaN or Infinity in results.json
