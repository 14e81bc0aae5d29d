"""Pooled judgments on Cranfield: do grades of the retrievers' pooled top 10s rank seven
retrievers as the full human judgments do, and how many grades does that take?

    python benchmarks/bench_pooled.py [--cranfield PATH] [--work DIR] [--draws 50]
        [--budgets 100,200,400,...] [--query-counts 10,20,...] [--parts c,b,a]
        [--generate N | --generated DIR]

Each retriever's top ``RUN_DEPTH`` documents for Cranfield's 225 human queries are scored
by nDCG@10 under the full qrels: that ranking is the reference. The depth-10 pool of the
seven retrievers is built with ``ragtui.judging.pools.extend_pool`` (cached under --work,
so a second run searches nothing), and then:

(c) A simulated person grades pool pairs: the grade of a pair is its qrels grade (1–4 as
    the collection has them; a pooled document the qrels do not name is graded 0, as
    Cranfield's assessors left it). The pairs are those ``ragtui label --budget N`` would
    ask about (``build_queue``: a seeded uniform sample of the pool), ``--draws`` seeds per
    budget, and the whole pool. Also the whole pools of a few random queries (the label
    screen asks query by query: a question is read once and its passages graded).
    Every pair not graded is unjudged. Each retriever is scored by nDCG@10 with unjudged
    = not relevant, and by condensed nDCG'@10 (Sakai 2007: unjudged documents dropped
    from the ranking before scoring), over the queries with at least one relevant grade.
    Printed: Kendall's tau against the reference ranking (median and central 95% over the
    draws; a bootstrap interval over draws and queries, the queries resampled in pairs),
    the share of draws reaching 0.8, and judged@10 (the share of a retriever's top 10
    that is graded, over all queries).
(b) A generated set (``--generate N`` makes or grows one of N passages with the packaged
    SmolLM2 and the cheap filters, no round trip: the questions the issue offers a person
    to judge; ``--generated DIR`` names another): tau of its ranking against the reference
    when each question is judged only by its source document, with its bootstrap
    interval, judged@10, and tau between that many human queries and the rest (the
    yardstick bench_testset reads a generated set against). Generated questions have no
    human grades, so a version with pooled grades needs a labeller model.
(a) Labeller models grading the pool of the human queries with the qrels removed: not
    wired in yet; the bench says whether this checkout has ``ragtui.judging.labellers``.

A person's pace (labels per minute) is not measured here: the simulation grades instantly.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from benchmarks.retriever_ranking import (  # noqa: E402
    ROUNDS,
    SPECS,
    Runs,
    Table,
    human_tau_at_size,
    interval,
    make_testset,
    means,
    ndcg_table,
    paired_taus,
    ranking,
    search_runs,
    tau,
    tau_with_interval,
)
from ragtui.config.paths import cache_dir  # noqa: E402
from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.corpus.model import Corpus  # noqa: E402
from ragtui.evidence_rules import PAIRWISE_FLOOR, too_few  # noqa: E402
from ragtui.judging.label_queue import QueueDesign, build_queue  # noqa: E402
from ragtui.judging.pools import Pool, extend_pool  # noqa: E402
from ragtui.metrics import Qrels, trec_order  # noqa: E402
from ragtui.testsets.filters import CHEAP_FILTERS  # noqa: E402
from ragtui.testsets.plan import TestsetPlan  # noqa: E402
from ragtui.testsets.store import testsets_root  # noqa: E402

DEPTH = 10  # pool depth, and the k of nDCG@k and judged@k
UNIT = "document"  # Cranfield's qrels judge documents
BUDGETS = (100, 200, 400, 800, 1600, 3200)
QUERY_COUNTS = (10, 20, 40, 80, 160)
DRAWS = 50
GOAL_TAU = 0.8
GENERATOR = "llamacpp:smollm2"
# The questions that pass the cheap filters, no round trip: the query set for a
# person (or labeller) to judge, and twice as fast to make as a default set.
GENERATED_NAME = "llamacpp-smollm2-cheap-filters"

Grades = dict[str, dict[str, int]]  # query id → judged id → grade
Pair = tuple[str, str]  # (query id, judged id)


# the pool and the grades a simulated person gives ----------------------------------------


def build_pool(
    folder: Path,
    corpus: Corpus,
    queries: Mapping[str, str],
    retrievers: Mapping[str, object],
    depth: int = DEPTH,
) -> Pool:
    """The depth pool of the retrievers, kept in ``folder`` (a second call searches only
    what is missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    return extend_pool(folder, corpus, UNIT, queries, retrievers, depth)  # type: ignore[arg-type]


def pool_pairs(pool: Pool, specs: Sequence[str], depth: int = DEPTH) -> list[Pair]:
    return [(item.query_id, item.judged_id) for item in pool.pairs(specs, depth)]


def budget_sample(
    pool: Pool,
    corpus: Corpus,
    queries: Mapping[str, str],
    specs: Sequence[str],
    budget: int,
    seed: int,
    depth: int = DEPTH,
) -> list[Pair]:
    """The pairs ``ragtui label --budget`` asks about with this seed (the same queue)."""
    design = QueueDesign(tuple(specs), depth, budget, seed, only_differing=False)
    queue = build_queue(pool, corpus, dict(queries), design)
    return [(pair.query_id, pair.judged.judged_id) for pair in queue.pairs]


def query_sample(pairs: Sequence[Pair], count: int, seed: int) -> list[Pair]:
    """Every pool pair of ``count`` queries drawn at random: whole pools, query by query."""
    queries = sorted({query_id for query_id, _ in pairs})
    rng = np.random.default_rng(seed)
    drawn = set(rng.choice(queries, size=min(count, len(queries)), replace=False).tolist())
    return [pair for pair in pairs if pair[0] in drawn]


def simulated_grades(pairs: Sequence[Pair], qrels: Qrels) -> Grades:
    """What a person who agrees with the qrels grades: a pair's qrels grade, 0 when the
    qrels do not name it."""
    grades: Grades = {}
    for query_id, judged_id in pairs:
        grades.setdefault(query_id, {})[judged_id] = int(qrels.get(query_id, {}).get(judged_id, 0))
    return grades


# scoring under partial grades ------------------------------------------------------------


def condensed_runs(runs: Runs, grades: Grades) -> dict[str, dict[str, dict[str, float]]]:
    """Each ranking with its unjudged documents dropped (Sakai's condensed list): the
    judged ones below move up, so an unjudged document costs nothing."""
    return {
        spec: {
            query_id: {
                judged_id: score
                for judged_id, score in scores.items()
                if judged_id in grades.get(query_id, {})
            }
            for query_id, scores in run.items()
        }
        for spec, run in runs.items()
    }


def judged_at_k(runs: Runs, grades: Grades, k: int = DEPTH) -> dict[str, float]:
    """spec → share of its top k (over every query it ran) that holds a grade."""
    shares = {}
    for spec, run in runs.items():
        judged = shown = 0
        for query_id, scores in run.items():
            top = trec_order(scores)[:k]  # the top k nDCG@k scores, ties as trec_eval breaks them
            graded = grades.get(query_id, {})
            judged += sum(judged_id in graded for judged_id in top)
            shown += len(top)
        shares[spec] = judged / shown if shown else 0.0
    return shares


@dataclass(frozen=True)
class PooledScores:
    """Per-query scores of every retriever under one set of grades."""

    labels: int
    ndcg: dict[str, dict[str, float]]  # unjudged = not relevant
    condensed: dict[str, dict[str, float]]  # nDCG'@k: unjudged dropped
    judged: dict[str, float]  # judged@k

    @property
    def queries(self) -> int:
        """Queries scored: those with at least one relevant grade."""
        return len(next(iter(self.ndcg.values()), {}))


def score_with_grades(runs: Runs, grades: Grades, k: int = DEPTH) -> PooledScores:
    """nDCG@k and nDCG'@k over the queries with a relevant grade, and judged@k."""
    relevant = {query_id: graded for query_id, graded in grades.items() if any(graded.values())}
    return PooledScores(
        labels=sum(len(graded) for graded in grades.values()),
        ndcg=ndcg_table(runs, relevant, k),
        condensed=ndcg_table(condensed_runs(runs, grades), relevant, k),
        judged=judged_at_k(runs, grades, k),
    )


@dataclass(frozen=True)
class Agreement:
    """Tau with the reference over many draws of grades of one size."""

    labels: float  # mean labels per draw
    queries: float  # mean queries scored per draw
    taus: list[float]  # one per draw (nan when too few queries to rank)
    bootstrap: list[float]  # over draws and queries
    judged: float  # mean judged@k over retrievers and draws

    @property
    def median(self) -> float:
        return float(np.nanmedian(self.taus))

    def spread(self) -> tuple[float, float]:
        return interval(self.taus)

    def reached(self, goal: float = GOAL_TAU) -> float:
        """Share of draws whose tau reaches the goal (a draw below the floor does not)."""
        return float(np.mean([t >= goal for t in self.taus]))


def agreement(
    reference: Table, draws: Sequence[PooledScores], measure: str, seed: int = 0
) -> Agreement:
    """Tau of each draw's ranking (by ``ndcg`` or ``condensed``) with the reference's, and
    bootstrap taus: ROUNDS in all, shared among the draws, queries resampled in pairs."""
    rng = np.random.default_rng(seed)
    rounds = max(ROUNDS // len(draws), 20)
    taus, bootstrap = [], []
    for draw in draws:
        table = getattr(draw, measure)
        if draw.queries < PAIRWISE_FLOOR.minimum:
            taus.append(np.nan)
            continue
        taus.append(tau(reference, table))
        bootstrap.extend(paired_taus(reference, table, rounds, rng))
    return Agreement(
        labels=float(np.mean([d.labels for d in draws])),
        queries=float(np.mean([d.queries for d in draws])),
        taus=taus,
        bootstrap=bootstrap,
        judged=float(np.mean([np.mean(list(d.judged.values())) for d in draws])),
    )


def agreement_line(label: str, found: Agreement) -> str:
    """One row: labels, queries, tau (draws and bootstrap) and judged@10."""
    head = f"{label:>22} | {found.labels:7.0f} | {found.queries:5.0f} | "
    if all(np.isnan(t) for t in found.taus):
        return head + too_few(round(found.queries)) + f" | judged@10 {found.judged:6.1%}"
    low, high = found.spread()
    boot_low, boot_high = interval(found.bootstrap) if found.bootstrap else (np.nan, np.nan)
    draws = len(found.taus)
    ranked = sum(not np.isnan(t) for t in found.taus)
    below = (
        f" ({draws - ranked} below the floor of {PAIRWISE_FLOOR.minimum} queries: no tau)"
        if ranked < draws
        else ""
    )
    taus = (
        f"tau {found.median:5.2f}"
        + (f" [{low:5.2f}, {high:5.2f}] of {ranked} draws{below}" if draws > 1 else "")
        + f", bootstrap [{boot_low:5.2f}, {boot_high:5.2f}]"
    )
    reached = f"{found.reached():4.0%} of draws >= {GOAL_TAU}" if draws > 1 else ""
    return f"{head}{taus} | {reached} | judged@10 {found.judged:6.1%}"


def fewest_labels(rows: Sequence[tuple[str, Agreement]], share: float) -> str:
    """The first row (fewest labels) whose draws reach the goal at least ``share`` of the
    time; rows come in growing order."""
    for label, found in rows:
        if found.reached() >= share:
            return f"{label} ({found.labels:.0f} labels)"
    return "none of these"


# the parts -------------------------------------------------------------------------------


def simulate_person(
    corpus: Corpus,
    runs: Runs,
    reference: Table,
    pool: Pool,
    specs: Sequence[str],
    budgets: Sequence[int],
    query_counts: Sequence[int],
    draws: int,
) -> dict[str, dict[str, Agreement]]:
    """(c): measure → row label → agreement, for budgets, whole query pools, whole pool."""
    pairs = pool_pairs(pool, specs)
    whole = score_with_grades(runs, simulated_grades(pairs, corpus.qrels))
    samples: list[tuple[str, list[PooledScores]]] = []
    for budget in budgets:
        if budget >= len(pairs):
            continue
        drawn = [
            score_with_grades(
                runs,
                simulated_grades(
                    budget_sample(pool, corpus, corpus.queries, specs, budget, seed),
                    corpus.qrels,
                ),
            )
            for seed in range(draws)
        ]
        samples.append((f"{budget} random pairs", drawn))
    for count in query_counts:
        drawn = [
            score_with_grades(
                runs, simulated_grades(query_sample(pairs, count, seed), corpus.qrels)
            )
            for seed in range(draws)
        ]
        samples.append((f"pools of {count} queries", drawn))
    samples.append(("whole pool", [whole]))
    return {
        measure: {label: agreement(reference, drawn, measure) for label, drawn in samples}
        for measure in ("ndcg", "condensed")
    }


def print_person(found: dict[str, dict[str, Agreement]], pool_size: int, draws: int) -> None:
    names = {"ndcg": "nDCG@10 (unjudged = not relevant)", "condensed": "nDCG'@10 (condensed)"}
    for measure, rows in found.items():
        print(f"\n{names[measure]}: tau against the full qrels' ranking")
        print(f"{'grades':>22} | {'labels':>7} | {'n q':>5} | tau")
        for label, agreement_found in rows.items():
            print(agreement_line(label, agreement_found))
        budget_rows = [(label, a) for label, a in rows.items() if "random pairs" in label]
        budget_rows.append(("whole pool", rows["whole pool"]))
        query_rows = [(label, a) for label, a in rows.items() if "queries" in label]
        print(
            f"  tau >= {GOAL_TAU} in half the draws: random pairs from "
            f"{fewest_labels(budget_rows, 0.5)}, whole query pools from "
            f"{fewest_labels(query_rows, 0.5)}; in 90% of draws: random pairs from "
            f"{fewest_labels(budget_rows, 0.9)}, query pools from {fewest_labels(query_rows, 0.9)}"
        )
    print(
        f"  (pool: {pool_size} pairs; {draws} seeded draws per row; n q = queries with a "
        "relevant grade, the queries scored; judged@10 over all queries, mean of retrievers)"
    )


def print_whole_pool(runs: Runs, reference: Table, whole: PooledScores) -> None:
    full, pooled, condensed = means(reference), means(whole.ndcg), means(whole.condensed)
    print("\nwhole pool graded, per retriever (mean over the queries each measure scores):")
    print(f"{'retriever':>18} | nDCG@10 full qrels | nDCG@10 pool | nDCG'@10 pool | judged@10")
    for spec in ranking(reference):
        print(
            f"{spec:>18} | {full[spec]:18.4f} | {pooled[spec]:12.4f} | "
            f"{condensed[spec]:13.4f} | {whole.judged[spec]:9.1%}"
        )


def source_grades(records: Sequence[Mapping]) -> Grades:
    """A generated set's own judgments: each question's source document, relevant (1, as
    ``bench_testset`` and eval score a generated set), every other document unjudged."""
    return {str(r["query_id"]): {str(r["doc_id"]): 1} for r in records}


def generated_set(
    corpus: Corpus,
    retrievers: Mapping[str, object],
    reference: Table,
    folder: Path,
) -> None:
    """(b): tau of a generated set's ranking against the human one, judged by the source
    documents only, and with pooled labeller grades where a labeller module exists."""
    from ragtui.testsets.store import read_testset

    testset = read_testset(folder)
    records = testset.scored()
    funnel = testset.meta.get("funnel_line") or f"{len(testset.records)} passages asked"
    made_by = testset.meta.get("settings", {}).get("generator")
    print(f"\n(b) generated set {folder.name} ({made_by}): {funnel}, {len(records)} kept")
    if len(records) < PAIRWISE_FLOOR.minimum:
        print(f"  {too_few(len(records), 'questions')}: no tau")
        return
    queries = {str(r["query_id"]): str(r["question"]) for r in records}
    runs = search_runs(retrievers, queries)
    grades = source_grades(records)
    table = ndcg_table(runs, grades)
    observed, low, high = tau_with_interval(reference, table)
    judged = judged_at_k(runs, grades)
    print(
        f"  judged by source documents only: {len(records)} questions, tau {observed:.2f} "
        f"[{low:.2f}, {high:.2f}] (bootstrap, human and generated queries resampled apart); "
        f"ranking {' > '.join(ranking(table))}; judged@10 "
        + ", ".join(f"{spec} {share:.1%}" for spec, share in judged.items())
    )
    size = min(len(records), len(next(iter(reference.values()))) - 1)
    median, ceiling_low, ceiling_high, drawn, rest = human_tau_at_size(reference, size)
    print(
        f"  read against human queries at this size ({drawn} against the other {rest}): "
        f"tau median {median:.2f} [{ceiling_low:.2f}, {ceiling_high:.2f}]"
    )
    print(
        "  with pooled grades: generated questions have no human grades; the pool's other "
        "documents could only be graded by a labeller model — " + labellers_status()
    )


def labellers_status() -> str:
    """Whether this checkout has labeller models to grade a pool with."""
    try:
        import ragtui.judging.labellers  # noqa: F401
    except ImportError:
        return "labellers: not run (no labeller module)"
    return "labellers: module present, not wired into this benchmark yet"


def default_work() -> Path:
    return cache_dir() / "bench-pooled"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--cranfield", type=Path, default=REPO.parent / "shared" / "data" / "cranfield"
    )
    parser.add_argument(
        "--work",
        type=Path,
        help=f"pools and generated sets, reused across runs (default {default_work()})",
    )
    parser.add_argument("--draws", type=int, default=DRAWS)
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--query-counts", default=",".join(map(str, QUERY_COUNTS)))
    parser.add_argument("--parts", default="c,b,a", help="which of c, b, a to run")
    parser.add_argument(
        "--generate",
        type=int,
        default=0,
        help=f"(b) make or grow a set of N passages with {GENERATOR}, cheap filters only",
    )
    parser.add_argument("--generated", type=Path, help="(b) a generated set's folder to rank on")
    args = parser.parse_args()
    work = args.work or default_work()
    parts = set(args.parts.split(","))

    started = time.monotonic()
    corpus = load_corpus(args.cranfield)
    from ragtui.index.cache import Indexes
    from ragtui.retrieval import make_retriever

    indexes = Indexes(corpus)
    retrievers = {spec: make_retriever(spec, indexes) for spec in SPECS}
    runs = search_runs(retrievers, corpus.queries)
    reference = ndcg_table(runs, corpus.qrels)
    print(
        f"full qrels ({len(next(iter(reference.values())))} human queries), nDCG@10: "
        + " > ".join(f"{spec} {means(reference)[spec]:.4f}" for spec in ranking(reference))
    )
    pool = build_pool(work / "pools" / corpus.source_key, corpus, corpus.queries, retrievers)
    pairs = pool_pairs(pool, SPECS)
    print(
        f"depth-{DEPTH} pool of {len(SPECS)} retrievers: {len(pairs)} pairs over "
        f"{len({q for q, _ in pairs})} queries ({time.monotonic() - started:.0f} s so far)"
    )

    if "c" in parts:
        whole = score_with_grades(runs, simulated_grades(pairs, corpus.qrels))
        print_whole_pool(runs, reference, whole)
        found = simulate_person(
            corpus,
            runs,
            reference,
            pool,
            SPECS,
            [int(b) for b in args.budgets.split(",")],
            [int(q) for q in args.query_counts.split(",")],
            args.draws,
        )
        print_person(found, len(pairs), args.draws)
        print(
            "  labels per minute: a person's pace is not measured by this simulation "
            "(grades are read from the qrels)"
        )
    if "b" in parts:
        folder = args.generated or (
            testsets_root(corpus.root, corpus.source_key, work / "data") / GENERATED_NAME
        )
        if args.generate:
            plan = TestsetPlan(
                GENERATED_NAME, GENERATOR, count=args.generate, enabled=CHEAP_FILTERS
            )
            minutes = make_testset(corpus, plan, work / "data")
            print(f"\n(b) made or grew {GENERATED_NAME} in {minutes:.1f} min")
        if (folder / "testset.json").is_file():
            generated_set(corpus, retrievers, reference, folder)
        else:
            print(
                f"\n(b) generated set: not run (no set at {folder}; --generate N makes one "
                f"with {GENERATOR} and the cheap filters, or --generated DIR names one)"
            )
    if "a" in parts:
        print("\n(a) " + labellers_status())
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
