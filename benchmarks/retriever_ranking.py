"""What the Cranfield benchmarks share: the seven retrievers, their runs and nDCG@10 tables,
and Kendall's tau between two rankings of them with bootstrap intervals over queries.

bench_testset compares human queries with generated ones (two independent samples of
queries); bench_pooled compares one set of queries judged two ways (a paired sample).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from ragtui.config.backends import BackendSettings
from ragtui.metrics import Qrels, score_retrieval, scores_by_unit
from ragtui.testsets.generate import TestsetPlan, generate_testset

SPECS = ("bm25", "bm25:okapi", "static", "dense:minilm-int8", "dense", "hybrid", "hybrid:static")
ROUNDS = 1000
RUN_DEPTH = 100  # hits per query: what nDCG@10 and a condensed list are taken from

Table = Mapping[str, Mapping[str, float]]  # spec → query id → score
Runs = Mapping[str, Mapping[str, Mapping[str, float]]]  # spec → query id → judged id → score


def search_runs(retrievers, queries: Mapping[str, str], unit: str = "document") -> dict:
    """spec → query id → judged id → score: each retriever's top RUN_DEPTH hits, documents
    ranked by their best passage (as eval scores them)."""
    return {
        spec: {
            query_id: scores_by_unit(retriever.search(text, RUN_DEPTH).hits, unit)
            for query_id, text in queries.items()
        }
        for spec, retriever in retrievers.items()
    }


def ndcg_table(runs: Runs, qrels: Qrels, k: int = 10) -> dict[str, dict[str, float]]:
    """spec → query id → nDCG@k, for every query with a judgment (as eval scores)."""
    return {
        spec: {
            query_id: figures[f"nDCG@{k}"]
            for query_id, figures in score_retrieval(qrels, run, k).items()
        }
        for spec, run in runs.items()
    }


def per_query_ndcg(retrievers, queries: dict[str, str], qrels) -> dict[str, dict[str, float]]:
    """spec → query id → nDCG@10 (documents ranked by their best passage)."""
    return ndcg_table(search_runs(retrievers, queries), qrels)


def means(table: Table) -> dict[str, float]:
    return {spec: float(np.mean(list(scores.values()))) for spec, scores in table.items()}


def ranking(table: Table) -> list[str]:
    """Specs from the best mean to the worst."""
    found = means(table)
    return sorted(found, key=lambda spec: -found[spec])


def tau(first: Table, second: Table) -> float:
    """Kendall's tau-b between the two tables' rankings by mean score."""
    specs = list(first)
    a, b = means(first), means(second)
    return float(kendalltau([a[s] for s in specs], [b[s] for s in specs]).statistic)


def tau_with_interval(human, generated, seed: int = 0) -> tuple[float, float, float]:
    """Tau and a bootstrap 95% interval, the two sets of queries resampled independently."""
    specs = list(SPECS)
    human_queries = sorted(next(iter(human.values())))
    generated_queries = sorted(next(iter(generated.values())))
    h = np.array([[human[s][q] for q in human_queries] for s in specs])
    g = np.array([[generated[s][q] for q in generated_queries] for s in specs])
    observed = kendalltau(h.mean(axis=1), g.mean(axis=1)).statistic
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(ROUNDS):
        hi = rng.integers(0, h.shape[1], h.shape[1])
        gi = rng.integers(0, g.shape[1], g.shape[1])
        taus.append(kendalltau(h[:, hi].mean(axis=1), g[:, gi].mean(axis=1)).statistic)
    low, high = np.nanpercentile(taus, [2.5, 97.5])
    return float(observed), float(low), float(high)


def paired_taus(
    reference: Table,
    other: Table,
    rounds: int,
    rng: np.random.Generator,
) -> list[float]:
    """Bootstrap taus of one set of queries judged two ways: each round draws the
    reference's queries with replacement, and both sides average over the same draw.

    ``other`` may score fewer queries (a sample of grades leaves some with no relevant
    judgment): it averages over the drawn queries it scores. A round where it scores none
    gives nan (left out by the percentiles).
    """
    specs = list(reference)
    queries = sorted(next(iter(reference.values())))
    ref = np.array([[reference[s][q] for q in queries] for s in specs])
    oth = np.array([[other[s].get(q, np.nan) for q in queries] for s in specs])
    taus = []
    for _ in range(rounds):
        drawn = rng.integers(0, len(queries), len(queries))
        picked = oth[:, drawn]
        if np.isnan(picked[0]).all():
            taus.append(np.nan)
            continue
        taus.append(kendalltau(ref[:, drawn].mean(axis=1), np.nanmean(picked, axis=1)).statistic)
    return taus


def interval(taus: Sequence[float]) -> tuple[float, float]:
    """The central 95% of bootstrap taus (nan rounds left out; nan when all are)."""
    values = [value for value in taus if not np.isnan(value)]
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def human_tau_at_size(
    human, size: int, seed: int = 0, rounds: int = ROUNDS
) -> tuple[float, float, float, int, int]:
    """Tau between the ranking on ``size`` human queries drawn at random and the ranking on
    the other human queries (median and 95% range over ``rounds`` draws), with the two
    sizes: how far a set of that many questions written by people agrees with the rest.

    The two sides never share a query, so agreement is not inflated; when ``size`` is more
    than half the queries the other side is the smaller one, which the sizes returned say.
    """
    specs = list(SPECS)
    queries = sorted(next(iter(human.values())))
    if not 1 <= size < len(queries):
        raise ValueError(f"size {size}: use 1 to {len(queries) - 1} ({len(queries)} queries)")
    table = np.array([[human[s][q] for q in queries] for s in specs])
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(rounds):
        order = rng.permutation(len(queries))
        drawn, rest = order[:size], order[size:]
        taus.append(kendalltau(table[:, drawn].mean(axis=1), table[:, rest].mean(axis=1)).statistic)
    low, median, high = np.nanpercentile(taus, [2.5, 50, 97.5])
    return float(median), float(low), float(high), size, len(queries) - size


def make_testset(corpus, plan: TestsetPlan, data_root: Path) -> float:
    """Make (or resume, or grow) a generated set; the minutes it took."""
    started = time.monotonic()
    asyncio.run(generate_testset(corpus, plan, BackendSettings.from_env(), data_root=data_root))
    return (time.monotonic() - started) / 60
