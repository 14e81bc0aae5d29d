"""Good-enough verdicts: the interval is scipy's paired bootstrap, the verdict follows the
margin, and the Pareto frontier keeps exactly the undominated pipelines."""

import itertools

import numpy as np
import pytest
from scipy import stats

from ragtui.experiment.verdict import (
    GOOD_ENOUGH,
    UNDECIDED,
    WORSE,
    Contender,
    Point,
    describe_entry,
    judge_stage,
    non_inferiority,
    pareto_frontier,
)


def _contender(name: str, scores, latency_ms=None, cost_usd=None) -> Contender:
    return Contender(name, {f"q{i}": float(v) for i, v in enumerate(scores)}, latency_ms, cost_usd)


def test_the_interval_equals_scipys_paired_bootstrap() -> None:
    rng = np.random.default_rng(11)
    best = rng.uniform(0.2, 0.9, 120)
    candidate = np.clip(best + rng.normal(-0.01, 0.08, 120), 0, 1)
    ours = non_inferiority(_contender("best", best), _contender("cand", candidate), margin=0.02)
    reference = stats.bootstrap(
        (candidate, best),
        lambda x, y: np.mean(x - y),
        paired=True,
        vectorized=False,
        n_resamples=10_000,
        method="percentile",
        random_state=3,
    ).confidence_interval
    assert ours is not None
    assert ours["diff"] == pytest.approx(np.mean(candidate - best), abs=1e-12)
    # Monte Carlo error of a 10,000-resample percentile bound is about 0.001 here.
    assert ours["ci_low"] == pytest.approx(reference.low, abs=0.003)
    assert ours["ci_high"] == pytest.approx(reference.high, abs=0.003)


def test_the_verdict_follows_the_margin() -> None:
    rng = np.random.default_rng(12)
    best = rng.uniform(0.2, 0.9, 200)
    near_tie = best + rng.normal(0, 0.01, 200)
    clearly_worse = best - 0.15 + rng.normal(0, 0.05, 200)
    unclear = best - 0.02 + rng.normal(0, 0.2, 200)
    verdicts = {
        name: non_inferiority(_contender("best", best), _contender(name, values), 0.02)["verdict"]
        for name, values in (("tie", near_tie), ("worse", clearly_worse), ("unclear", unclear))
    }
    assert verdicts == {"tie": GOOD_ENOUGH, "worse": WORSE, "unclear": UNDECIDED}
    # The same retriever under two names is good enough by any positive margin; with a
    # margin of 0 an interval of exactly [0, 0] touches the bound, and nothing is claimed.
    same = non_inferiority(_contender("a", best), _contender("b", best), margin=1e-9)
    assert same["ci_low"] == same["ci_high"] == 0.0 and same["verdict"] == GOOD_ENOUGH
    zero = non_inferiority(_contender("a", best), _contender("b", best), margin=0.0)
    assert zero["verdict"] == UNDECIDED


def test_a_stage_tests_everyone_against_its_best_faster_ones_first() -> None:
    rng = np.random.default_rng(13)
    base = rng.uniform(0, 1, 50)
    contenders = [
        _contender("slow-best", base + 0.05, latency_ms=40.0, cost_usd=2.0),
        _contender("fast", base + 0.045, latency_ms=4.0, cost_usd=2.0),
        _contender("cheap", base - 0.2, latency_ms=80.0, cost_usd=0.5),
        _contender("slow-worse", base - 0.3, latency_ms=90.0, cost_usd=3.0),
    ]
    entries = judge_stage("retriever", "nDCG@10", contenders, margin=0.02)
    assert [entry["candidate"] for entry in entries] == ["fast", "cheap", "slow-worse"]
    assert {entry["best"] for entry in entries} == {"slow-best"}
    fast, cheap, slow = entries
    assert fast["faster_or_cheaper"] and cheap["faster_or_cheaper"]
    assert not slow["faster_or_cheaper"]
    assert fast["speedup"] == pytest.approx(10.0) and fast["cost_ratio"] == pytest.approx(1.0)
    assert cheap["cost_ratio"] == pytest.approx(0.25)
    assert fast["verdict"] == GOOD_ENOUGH and cheap["verdict"] == WORSE
    sentence = describe_entry(fast)
    assert sentence.startswith("`fast` is good enough: nDCG@10 −0.005 [")
    assert "against `slow-best`, 10.0× faster per query" in sentence
    assert "margin 0.02, 50 queries" in sentence
    assert "2.2× slower per query" in describe_entry(slow)
    assert "is not good enough" in describe_entry(cheap)


def _brute_force_frontier(points: list[Point]) -> set[str]:
    keep = set()
    for point in points:
        beaten = any(
            other.quality >= point.quality
            and other.latency_ms <= point.latency_ms
            and other.cost_usd <= point.cost_usd
            and (
                other.quality > point.quality
                or other.latency_ms < point.latency_ms
                or other.cost_usd < point.cost_usd
            )
            for other in points
            if other is not point
        )
        if not beaten:
            keep.add(point.name)
    return keep


def test_the_pareto_frontier_is_the_undominated_set() -> None:
    rng = np.random.default_rng(14)
    for trial in range(30):
        points = [
            Point(
                f"p{i}",
                float(rng.choice([0.1, 0.2, 0.3, 0.4])),
                float(rng.choice([1.0, 10.0, 100.0])),
                float(rng.choice([0.0, 1.0])),
            )
            for i in range(8)
        ]
        frontier = pareto_frontier(points)
        assert set(frontier) == _brute_force_frontier(points), trial
        latencies = [next(p.latency_ms for p in points if p.name == n) for n in frontier]
        assert latencies == sorted(latencies)


def test_unknown_costs_leave_cost_out_of_the_frontier() -> None:
    points = [
        Point("fast-poor", 0.2, 5.0, None),
        Point("slow-good", 0.6, 500.0, 0.0),
        Point("slow-poor", 0.1, 600.0, 0.0),
    ]
    assert pareto_frontier(points) == ["fast-poor", "slow-good"]
    # An undominated pair of equal points both stay.
    twins = [Point(name, 0.5, 10.0, 0.0) for name in ("a", "b")]
    assert sorted(pareto_frontier(twins)) == ["a", "b"]
    assert list(itertools.chain(pareto_frontier([]))) == []


def test_a_metric_with_one_value_everywhere_decides_nothing() -> None:
    grounded = [_contender(name, [1.0] * 20, latency_ms=ms) for name, ms in (("a", 1), ("b", 9))]
    assert judge_stage("pipeline", "groundedness", grounded, margin=0.02) == []
