"""bench_testset's yardstick for a generated set: tau between human queries at the set's
own size, never at a larger one (the full benchmark takes hours; its function is checked
here on a table of known scores)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_testset import SPECS, human_tau_at_size


def _human(queries: int, noise: float, seed: int = 1) -> dict[str, dict[str, float]]:
    """Per-query scores whose true ranking is SPECS' order, with per-query noise."""
    rng = np.random.default_rng(seed)
    return {
        spec: {f"q{q:03d}": rank * 0.05 + rng.normal(0, noise) for q in range(queries)}
        for rank, spec in enumerate(SPECS)
    }


def test_the_yardstick_is_measured_at_the_generated_sets_size() -> None:
    human = _human(225, noise=0.3)
    small = human_tau_at_size(human, 17, rounds=300)
    half = human_tau_at_size(human, 112, rounds=300)
    assert small[3:] == (17, 208) and half[3:] == (112, 113)
    # Rankings from 17 queries agree less with the rest than rankings from 112: a
    # generated set of 17 questions is read against the first, not the second.
    assert small[0] < half[0] - 0.1
    assert small[1] < small[0] < small[2]
    assert human_tau_at_size(human, 17, rounds=300) == small  # seeded


def test_noiseless_scores_agree_at_any_size() -> None:
    human = _human(40, noise=0.0)
    assert human_tau_at_size(human, 3, rounds=50)[:3] == (1.0, 1.0, 1.0)


def test_a_size_with_no_other_queries_is_refused() -> None:
    with pytest.raises(ValueError, match="use 1 to 39"):
        human_tau_at_size(_human(40, noise=0.1), 40, rounds=10)
