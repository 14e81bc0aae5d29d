"""Pooled judgments on Cranfield: do grades of the retrievers' pooled top 10s rank seven
retrievers as the full human judgments do, and how many grades does that take?

    python benchmarks/bench_pooled.py [--cranfield PATH] [--work DIR] [--draws 50]
        [--budgets 100,200,400,...] [--query-counts 10,20,...] [--parts c,b,a]
        [--generate N | --generated DIR] [--pooled-queries 40]

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
    human grades, so the pooled version takes a labeller model: --pooled-queries questions
    drawn at random, their whole depth-10 pool graded by each of --labellers with each of
    --methods (one-shot grades beside the question's source document, MacAvaney &
    Soldaini's setting), the source document kept relevant as eval keeps it; tau and
    judged@10 against the source documents alone on the same questions.
(a) Labeller models (``ragtui.judging.labellers``) grading the pool of the human queries
    with the qrels removed: --labeller-pairs pool pairs, half relevant by the qrels and
    half not, each half drawn at random (a sample for agreement, not for a figure of the
    pool), graded by each model (--labellers) and method (--methods: pointwise, and
    one-shot beside the query's best-graded qrels document, the one human judgment that
    method starts from; answer-based needs reference answers, which Cranfield lacks).
    Printed: kappa (grade >= 2 against a positive qrels grade) and AUC of the expected
    grade against the qrels, with bootstrap intervals over queries; tau and judged@10 of
    the ranking its grades give, beside the qrels' own grades of the same pairs; and the
    labeller's pairs per minute. Grades are kept under --work, so a second run asks none.

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
LABELLERS = ("llamacpp:smollm2", "llamacpp:gemma3")
# answer-based needs reference answers, which Cranfield does not have
LABELLER_METHODS = ("pointwise", "one-shot")
# On 2 shared cores a pointwise grade took 7.4 s with SmolLM2 and 3.1 s with Gemma-3
# (one-shot's prompt holds two passages): 30 pairs for each of the four runs keep (a)
# near 15 minutes. Too few to rank retrievers by; enough to see chance-level agreement.
LABELLER_PAIRS = 30
# (b)'s pooled variant grades whole depth-10 pools (about 25 documents a question) with
# every labeller and method: 40 questions is ~1,000 grades a run.
POOLED_QUERIES = 40

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
    work: Path,
    specs: Sequence[str],
    methods: Sequence[str],
    pooled_queries: int,
) -> None:
    """(b): tau of a generated set's ranking against the human one, judged by the source
    documents only, and (on a seeded subset of its questions) with each labeller's grades
    of the depth-10 pool added."""
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
    if pooled_queries <= 0 or not specs or not methods:
        print("  with pooled labeller grades: not run (--pooled-queries 0 or no labeller)")
        return
    generated_pool_graded(
        corpus, retrievers, reference, records, runs, work, specs, methods, pooled_queries
    )


def generated_pool_graded(
    corpus: Corpus,
    retrievers: Mapping[str, object],
    reference: Table,
    records: Sequence[Mapping],
    runs: Runs,
    work: Path,
    specs: Sequence[str],
    methods: Sequence[str],
    count: int,
    seed: int = 0,
) -> None:
    """(b) with pooled grades: ``count`` questions drawn at random, their depth-10 pool of
    the seven retrievers graded by each labeller and method, the source document kept as
    eval keeps it (grade max(1, the labeller's)); tau and judged@10 beside the source
    documents alone on the same questions."""
    ids = sorted(str(r["query_id"]) for r in records)
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(ids, size=min(count, len(ids)), replace=False).tolist())
    subset = [r for r in records if str(r["query_id"]) in chosen]
    queries = {str(r["query_id"]): str(r["question"]) for r in subset}
    sub_runs = {spec: {q: run[q] for q in chosen if q in run} for spec, run in runs.items()}
    name = f"{corpus.source_key}-{GENERATED_NAME}"
    pool = build_pool(work / "pools" / name, corpus, queries, retrievers)
    design = QueueDesign(tuple(SPECS), DEPTH, None, seed, only_differing=False)
    pairs = list(build_queue(pool, corpus, queries, design).pairs)
    source = source_grades(subset)
    alone = score_with_grades(sub_runs, source)
    print(
        f"  with pooled labeller grades: {len(subset)} of the questions drawn at random "
        f"(seed {seed}), their depth-{DEPTH} pool {len(pairs)} pairs"
    )
    print(f"    source documents only, nDCG@10: {_apart_tau_words(reference, alone)}")
    print(f"    source documents only, nDCG'@10: {_apart_tau_words(reference, alone, 'condensed')}")
    known = {str(r["query_id"]): str(r["doc_id"]) for r in subset}
    for method in methods:
        for spec in specs:
            run = run_labeller(spec, method, pairs, corpus, work / "labellers" / name, known)
            grades: Grades = {}
            for (query_id, judged_id), grade in run.grades.items():
                if grade is not None:
                    grades.setdefault(query_id, {})[judged_id] = grade
            for query_id, judged in source.items():  # eval's precedence for a source passage
                for judged_id in judged:
                    held = grades.setdefault(query_id, {})
                    held[judged_id] = max(1, held.get(judged_id, 0))
            scored = score_with_grades(sub_runs, grades)
            said = sum(1 for grade in run.grades.values() if grade is not None and grade >= 2)
            abstained = sum(grade is None for grade in run.grades.values())
            pace = (
                f"{run.asked / run.seconds * 60:.1f} pairs/min this run"
                if run.asked and run.seconds
                else "all from an earlier run's store (pace not measured)"
            )
            print(
                f"    + {spec} {method}: graded {len(run.grades) - abstained}, abstained "
                f"{abstained}, failed {run.failed}, called {said} relevant (grade >= 2); {pace}"
            )
            print(f"      nDCG@10: {_apart_tau_words(reference, scored)}")
            print(f"      nDCG'@10: {_apart_tau_words(reference, scored, 'condensed')}")


def labellers_status() -> str:
    """Whether this checkout has labeller models to grade a pool with."""
    try:
        import ragtui.judging.labellers  # noqa: F401
    except ImportError:
        return "labellers: not run (no labeller module)"
    return "labellers: see (a)"


# (a) labeller models grading the pool of the human queries -------------------------------


def known_relevant(qrels: Qrels) -> dict[str, str]:
    """Per query, the one judged document one-shot grading starts from: its best-graded
    (the smallest id among equals), as a person who knows one good answer would give."""
    return {
        query_id: min(grades, key=lambda judged_id: (-grades[judged_id], judged_id))
        for query_id, grades in qrels.items()
        if any(grade > 0 for grade in grades.values())
    }


@dataclass(frozen=True)
class LabellerRun:
    spec: str
    method: str
    source: str  # the labeller's source as stored with each grade
    grades: dict[Pair, int | None]  # None: abstained
    scores: dict[Pair, float]  # the expected grade, where the reading gives one
    asked: int  # pairs graded by this run (the rest came from an earlier run's store)
    seconds: float
    failed: int


def run_labeller(
    spec: str, method: str, pairs, corpus: Corpus, folder: Path, known: Mapping[str, str]
) -> LabellerRun:
    """Grade the queue pairs with one labeller, through the labeller module's own plan and
    store (``relevance_grades.jsonl`` in ``folder``: a second run asks nothing again)."""
    import asyncio

    from ragtui.judging.automatic_grades import AutomaticGrades
    from ragtui.judging.labellers import (
        RelevanceLabeller,
        SetContext,
        label_pairs,
        plan_labelling,
    )
    from ragtui.judging.pools import UnitTexts

    texts = UnitTexts(corpus, UNIT)
    known_text = {
        query_id: found.text
        for query_id, judged_id in known.items()
        if (found := texts.get(judged_id)) is not None
    }
    context = SetContext(
        known_ids={query_id: frozenset({known[query_id]}) for query_id in known_text},
        known_text=known_text,
    )
    labeller = RelevanceLabeller(spec, method)
    store = AutomaticGrades(folder)

    async def work():
        try:
            source = await labeller.source()
            plan = plan_labelling(pairs, method, store.of(source), context)
            started = time.monotonic()
            summary = await label_pairs(labeller, plan, store, source)
            return source, summary, time.monotonic() - started
        finally:
            await labeller.aclose()

    folder.mkdir(parents=True, exist_ok=True)
    source, summary, seconds = asyncio.run(work())
    wanted = {(pair.query_id, pair.judged.judged_id) for pair in pairs}
    stored = {
        (key[0], key[1]): grade
        for key, grade in store.of(source).items()
        if (key[0], key[1]) in wanted
    }
    return LabellerRun(
        spec,
        method,
        source.describe(),
        {pair: grade.grade for pair, grade in stored.items()},
        {pair: grade.score for pair, grade in stored.items() if grade.score is not None},
        summary.graded + summary.abstained,
        seconds,
        summary.failed,
    )


def auc(scores: Sequence[float], relevant: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    positives = [s for s, r in zip(scores, relevant, strict=True) if r]
    negatives = [s for s, r in zip(scores, relevant, strict=True) if not r]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return float(wins / (len(positives) * len(negatives)))


def labeller_agreement(
    run: LabellerRun, qrels: Qrels, rounds: int = ROUNDS, seed: int = 0
) -> dict[str, object]:
    """kappa (the labeller's grade >= 2, UMBRELA's relevant, against any positive qrels
    grade) and AUC of its expected grade (its grade where no score), with bootstrap 95%
    intervals over queries, on the pairs it graded."""
    from ragtui.judging.agreement import cohen_kappa

    pairs = sorted(pair for pair, grade in run.grades.items() if grade is not None)
    human = [qrels.get(q, {}).get(d, 0) > 0 for q, d in pairs]
    said = [int(run.grades[pair] or 0) >= 2 for pair in pairs]
    score = [run.scores.get(pair, float(run.grades[pair] or 0)) for pair in pairs]

    def figures(rows: Sequence[int]) -> tuple[float | None, float | None]:
        labels = ("yes", "no")
        kappa = cohen_kappa(
            [labels[0] if human[i] else labels[1] for i in rows],
            [labels[0] if said[i] else labels[1] for i in rows],
            labels,
        )
        return kappa, auc([score[i] for i in rows], [human[i] for i in rows])

    kappa, area = figures(range(len(pairs)))
    queries = sorted({q for q, _ in pairs})
    rows_of = {q: [i for i, (pq, _) in enumerate(pairs) if pq == q] for q in queries}
    rng = np.random.default_rng(seed)
    drawn_kappa, drawn_auc = [], []
    for _ in range(rounds if queries else 0):
        rows = [i for q in rng.choice(queries, len(queries)) for i in rows_of[q]]
        one_kappa, one_auc = figures(rows)
        drawn_kappa.append(np.nan if one_kappa is None else one_kappa)
        drawn_auc.append(np.nan if one_auc is None else one_auc)
    return {
        "pairs": len(pairs),
        "relevant": sum(human),
        "abstained": sum(grade is None for grade in run.grades.values()),
        "kappa": kappa,
        "kappa_interval": interval(drawn_kappa) if drawn_kappa else None,
        "auc": area,
        "auc_interval": interval(drawn_auc) if drawn_auc else None,
        "said_relevant": sum(said),
    }


def agreement_sample(
    pool: Pool, corpus: Corpus, specs: Sequence[str], size: int, seed: int = 0
) -> list:
    """``size`` pool pairs (as label-screen queue pairs), half relevant by the qrels and half
    not, each half a seeded uniform draw. AUC does not depend on the classes' shares, so
    it reads as the pool's; kappa is at even odds, not at the pool's share of relevant."""
    import random

    queue = build_queue(
        pool, corpus, dict(corpus.queries), QueueDesign(tuple(specs), DEPTH, None, seed, False)
    )
    relevant, other = [], []
    for pair in queue.pairs:
        grade = corpus.qrels.get(pair.query_id, {}).get(pair.judged.judged_id, 0)
        (relevant if grade > 0 else other).append(pair)
    rng = random.Random(seed)
    half = size // 2
    chosen = rng.sample(relevant, min(half, len(relevant)))
    chosen += rng.sample(other, min(size - len(chosen), len(other)))
    return sorted(chosen, key=lambda pair: (pair.query_id, pair.judged.judged_id))


def labellers(
    corpus: Corpus,
    runs: Runs,
    reference: Table,
    pool: Pool,
    work: Path,
    specs: Sequence[str],
    methods: Sequence[str],
    budget: int,
    seed: int = 0,
) -> None:
    """(a): a sample of pool pairs (``agreement_sample``) graded by each labeller model and
    method; kappa and AUC against the qrels, and tau and judged@10 of its grades."""
    status = labellers_status()
    if "not run" in status:
        print("\n(a) " + status)
        return
    pairs = agreement_sample(pool, corpus, SPECS, budget, seed)
    sample = [(pair.query_id, pair.judged.judged_id) for pair in pairs]
    person = score_with_grades(runs, simulated_grades(sample, corpus.qrels))
    print(
        f"\n(a) labeller models on the human queries, qrels removed: {len(sample)} pool pairs "
        f"({len({q for q, _ in sample})} queries), half of them relevant by the qrels and "
        f"half not, each half drawn at random from the {len(pool_pairs(pool, SPECS))} pool "
        f"pairs (seed {seed}): a sample for agreement (kappa at even odds, AUC), too small "
        "to rank retrievers by; answer-based not run: Cranfield has no reference answers"
    )
    print(f"  the qrels' own grades of these pairs: {_tau_words(reference, person)}")
    known = known_relevant(corpus.qrels)
    for method in methods:
        for spec in specs:
            folder = work / "labellers" / corpus.source_key
            run = run_labeller(spec, method, pairs, corpus, folder, known)
            grades: Grades = {}
            for (query_id, judged_id), grade in run.grades.items():
                if grade is not None:
                    grades.setdefault(query_id, {})[judged_id] = grade
            if method == "one-shot":  # the one human judgment the method starts from
                for query_id in {q for q, _ in sample}:
                    if query_id in known:
                        doc = known[query_id]
                        grades.setdefault(query_id, {})[doc] = corpus.qrels[query_id][doc]
            scored = score_with_grades(runs, grades)
            found = labeller_agreement(run, corpus.qrels)
            pace = (
                f"{run.asked / run.seconds * 60:.1f} pairs/min this run"
                if run.asked and run.seconds
                else "all from an earlier run's store (pace not measured)"
            )
            print(f"  {spec} {method}: {run.source}")
            print(
                f"    graded {found['pairs']} ({found['relevant']} relevant by the qrels), "
                f"abstained {found['abstained']}, failed {run.failed}; called "
                f"{found['said_relevant']} relevant (grade >= 2); kappa "
                f"{_figure(found['kappa'], found['kappa_interval'])}, AUC "
                f"{_figure(found['auc'], found['auc_interval'])} (bootstrap over queries); "
                f"{pace}"
            )
            held = (
                " (with each query's known document at its qrels grade: human judgments)"
                if method == "one-shot"
                else ""
            )
            print(f"    its grades{held}: {_tau_words(reference, scored)}")


def _figure(value, bounds) -> str:
    if value is None:
        return "undefined (one class only)"
    if bounds is None or any(np.isnan(b) for b in bounds):
        return f"{value:.2f}"
    return f"{value:.2f} [{bounds[0]:.2f}, {bounds[1]:.2f}]"


def _tau_words(reference: Table, scored: PooledScores) -> str:
    judged = np.mean(list(scored.judged.values())) if scored.judged else 0.0
    if scored.queries < PAIRWISE_FLOOR.minimum:
        return f"tau: {too_few(scored.queries)} with a relevant grade; judged@10 {judged:.1%}"
    found = agreement(reference, [scored], "ndcg")
    low, high = interval(found.bootstrap)
    return (
        f"tau {found.median:.2f} [{low:.2f}, {high:.2f}] over {scored.queries} queries with a "
        f"relevant grade; judged@10 {judged:.1%}"
    )


def _apart_tau_words(reference: Table, scored: PooledScores, measure: str = "ndcg") -> str:
    """Tau of other queries' ranking (a generated set's) against the human one: the two
    sets of queries resampled independently, as (b)'s source-only figure is."""
    judged = np.mean(list(scored.judged.values())) if scored.judged else 0.0
    if scored.queries < PAIRWISE_FLOOR.minimum:
        return f"tau: {too_few(scored.queries)} with a relevant grade; judged@10 {judged:.1%}"
    observed, low, high = tau_with_interval(reference, getattr(scored, measure))
    return (
        f"tau {observed:.2f} [{low:.2f}, {high:.2f}] over {scored.queries} queries, ranking "
        f"{' > '.join(ranking(getattr(scored, measure)))}; judged@10 {judged:.1%}"
    )


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
    parser.add_argument(
        "--pooled-queries",
        type=int,
        default=POOLED_QUERIES,
        help="(b) generated questions whose pool each labeller grades (0: none)",
    )
    parser.add_argument("--labellers", default=",".join(LABELLERS), help="(a) judge specs")
    parser.add_argument("--methods", default=",".join(LABELLER_METHODS), help="(a) methods")
    parser.add_argument(
        "--labeller-pairs",
        type=int,
        default=LABELLER_PAIRS,
        help="(a) pool pairs each labeller grades (half relevant by the qrels, half not)",
    )
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
            generated_set(
                corpus,
                retrievers,
                reference,
                folder,
                work,
                args.labellers.split(","),
                args.methods.split(","),
                args.pooled_queries,
            )
        else:
            print(
                f"\n(b) generated set: not run (no set at {folder}; --generate N makes one "
                f"with {GENERATOR} and the cheap filters, or --generated DIR names one)"
            )
    if "a" in parts:
        labellers(
            corpus,
            runs,
            reference,
            pool,
            work,
            args.labellers.split(","),
            args.methods.split(","),
            args.labeller_pairs,
        )
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
