"""Each retriever's P@k and DCG@k on a test set, corrected by the person's random sample:
the prediction-powered estimates of ``ragtui.experiment.stats.ppi`` on eval's own runs.

**What is estimated.** The figure the person's grades of the whole sampled population
would give, over eval's queries: the population is the pool ``label --budget`` drew its
sample from (``label_samples.jsonl``: the design's retrievers and depth, rebuilt by
``ragtui.judging.label_samples``). The weights come from eval's runs at k; a figure whose
top-k pairs lie outside that population cannot be estimated from the sample, and says so.

**Whose grades.** The person's grades used for the correction are only those of pairs the
recorded sample drew, graded blind (the labeling screen) or imported (``label import``).
A grade of a pair outside the sample, or one made on the compare screen (where retrievers
and ranks are in sight), was not drawn at random with a known probability: it is used for
agreement only, never for correction. The grades are read with the sample's recorded
design, as ``label plan`` reads them (``label_plan.human_sample``): a uniform sample as
uniform without replacement, an active one (``label --design rank-prior`` or
``labeller``) as Poisson, each grade weighted by 1/π with its recorded probability π. The
grades made so far are read as a random part of the draw; the screen asks question by
question, so an unfinished sample leans on fewer questions than the finished one would.

**Automatic grades.** The labeller eval uses (``--labeller``; ``PooledJudgments``) on every
pair of the population. A pair it did not grade, or abstained on, counts 0: the estimator
is unbiased for any fixed automatic grades, so a missing grade costs width, never bias.
Without a labeller, the figures rest on the person's weighted sample alone (``n_automatic``
0), with the rank prior of eval's retrievers (``label_designs.rank_prior``: a pair ranked
high by several of them is more often relevant) as the prediction the grades correct. The
prior is fixed by the rankings before any grade is read, so the estimate stays unbiased;
λ is tuned as for a labeller, and where the prior says nothing λ goes to 0 and the figure
is the plain weighted estimate (``human_only``, always reported beside it). On Cranfield
(``benchmarks/bench_ppi.py``, 500 draws, 200-800 labels) it saved 16-21% of the labels of
a uniform sample of the grades alone, and with a rank-prior sample 36-44% per retriever
(18-27% on the gaps between two).

**Orderings.** Every two retrievers' P@k gap is estimated the same way; the data orders
the two when the gap's 95% interval lies wholly beyond ±``NEAR_TIE`` (as
``benchmarks/bench_ppi.py`` measured: no pair ordered wrongly in more than 2% of draws), so
a near-tie is reported as one. Each pair's interval is its own 95% one, not corrected for
the number of pairs.

nDCG@k is not corrected: it divides each query's DCG by its ideal DCG, a ratio that a
sample of one or two pairs per query estimates with a bias.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragtui.evidence_rules import SAMPLED_LABELS_FLOOR, too_few
from ragtui.experiment.stats.label_plan import human_sample
from ragtui.experiment.stats.ppi import (
    POISSON,
    UNIFORM,
    metric_gains,
    metric_weights,
    prediction_powered,
)
from ragtui.judging.label_designs import rank_prior, sampling_words
from ragtui.judging.label_samples import SampledPool, latest_sample, sampled_pool
from ragtui.judging.store import JudgmentStore
from ragtui.metrics import trec_order

NEAR_TIE = 0.01  # on P@k's scale, as benchmarks/bench_ppi.py orders pairs
# What the person's grades correct: a labeller's grades, the rank prior, or nothing (the
# whole pool graded).
LABELLER, PRIOR, NONE = "labeller", "rank prior", "none"
METHOD_PRIOR = (
    "prediction-powered (PPI++, Horvitz-Thompson) on your grades, the rank prior as the prediction"
)
NDCG_NOTE = (
    "nDCG@{k} is not corrected: each query's DCG is divided by its ideal DCG, a ratio that "
    "a sample of one or two pairs per query estimates with a bias (P@{k} and DCG@{k} are "
    "linear in the grades, so their estimates stay unbiased)"
)
HUMAN_NOTE = (
    "Your grades used for the correction: only the pairs the recorded random sample drew, "
    "graded on the blind screen or imported; grades of other pairs, and grades made on the "
    "compare screen, are not a random sample and serve agreement only, never correction."
)
PRIOR_NOTE = (
    "With no labeller, your grades correct the rank prior of the retrievers compared (a pair "
    "ranked high by several of them is more often relevant): it is fixed by the rankings "
    "before any grade is read, so the estimate stays unbiased, and λ says how far it was "
    "followed (0: your weighted grades alone, shown beside it as 'yours only')."
)
ZERO_NOTE = (
    "Pairs of the sample's pool the labeller did not grade (or abstained on) count 0 as its "
    "grade: the correction keeps the estimate unbiased whatever the automatic grades are, "
    "so a missing grade costs width, not bias."
)


# An entry's figures; None where the figure is not corrected or rests on too few labels.
NUMBERS = (
    "estimate",
    "ci_low",
    "ci_high",
    "std_error",
    "lam",
    "method",
    "automatic_only",
    "human_only",
    "effective_labels",
    "effective_labels_gained",
)


def corrected_names(k: int) -> tuple[str, str]:
    """The corrected metrics, as eval names them."""
    return f"P@{k}", f"DCG@{k}"


@dataclass(frozen=True)
class _Columns:
    """The pool pairs the figures weigh: the sample's population first, then the pairs of
    eval's top k outside it (which the sample cannot speak for)."""

    ranks: np.ndarray  # retrievers × columns, rank from 1 (0: not in its top k)
    population: int  # the first columns


def _columns(
    runs: Mapping[str, Mapping[str, Mapping[str, float]]],
    retrievers: Sequence[str],
    queries: Sequence[str],
    sampled: SampledPool,
    k: int,
) -> _Columns:
    row_of = {(item.query_id, item.judged_id): row for row, item in enumerate(sampled.population)}
    outside: dict[tuple[str, str], int] = {}
    placed: list[dict[int, int]] = []
    for retriever in retrievers:
        ranks: dict[int, int] = {}
        for query_id in queries:
            top = trec_order(runs.get(retriever, {}).get(query_id, {}))[:k]
            for rank, judged_id in enumerate(top, start=1):
                key = (query_id, judged_id)
                column = row_of.get(key)
                if column is None:
                    column = len(row_of) + outside.setdefault(key, len(outside))
                ranks[column] = rank
        placed.append(ranks)
    matrix = np.zeros((len(retrievers), len(row_of) + len(outside)), dtype=int)
    for index, ranks in enumerate(placed):
        for column, rank in ranks.items():
            matrix[index, column] = rank
    return _Columns(matrix, len(row_of))


def _population_for(
    folder: Path, dataset: Any, store: JudgmentStore, record: dict[str, Any]
) -> SampledPool:
    """The sample with the population it was drawn from: the labeling questions of the set
    (every question past the cheap filters) or, if the sample was drawn with --kept-only,
    the kept ones: whichever rebuilds the recorded pool size."""
    from ragtui.testsets.for_labeling import labeling_queries
    from ragtui.testsets.store import read_testset

    testset = read_testset(folder)
    tried = None
    for kept_only in (False, True):
        queries = labeling_queries(testset, kept_only=kept_only)
        tried = sampled_pool(folder, dataset.corpus, dataset.judged_unit, queries, store, record)
        if not tried.changed:
            return tried
    assert tried is not None
    return tried


def _design_words(sampled: SampledPool) -> str:
    design = sampled.design
    differing = ", only where they differ" if design.only_differing else ""
    return f"the pool of {','.join(design.retrievers)} at depth {design.depth}{differing}"


def _entry_numbers(totals: Any, index: int, prediction: str, pool: int) -> dict[str, Any]:
    """``prediction``: what the grades correct, ``LABELLER``, ``PRIOR`` or ``NONE``."""
    figure = totals.entry(index)
    if figure.std_error > 0:
        ratio = figure.effective_labels
    else:  # no sampling error left: as good as the whole pool, unless there was none
        ratio = float("inf") if figure.human_only.std_error > 0 else 1.0
    predicted = prediction != NONE
    effective = effective_labels(figure.n_human, pool, ratio) if predicted else figure.n_human
    method = figure.method if prediction != PRIOR else METHOD_PRIOR
    return {
        "estimate": figure.estimate,
        "ci_low": figure.ci_low,
        "ci_high": figure.ci_high,
        "std_error": figure.std_error,
        "lam": figure.lam,
        "method": f"{method}; interval {figure.interval}"
        + (f"; λ {figure.lam:.2f}" if predicted else ""),
        # The prior is a score, not a grade: Σ w·prior is no figure of its own.
        "automatic_only": figure.automatic_only if prediction == LABELLER else None,
        "human_only": {
            "estimate": figure.human_only.estimate,
            "ci_low": figure.human_only.ci_low,
            "ci_high": figure.human_only.ci_high,
        },
        # The person-only labels that would give the corrected figure's variance: the
        # effective sample size, and what the automatic grades added to it.
        "effective_labels": effective,
        "effective_labels_gained": effective - figure.n_human,
        "words": figure.words(),
    }


def effective_labels(n_human: int, pool: int, variance_ratio: float) -> float:
    """How many of the person's labels, drawn uniformly without replacement, would give
    their estimate the corrected one's variance. ``variance_ratio``: the person-only
    variance over the corrected one (``CorrectedEstimate.effective_labels``).

    Uniform without replacement, Var ∝ 1/n − 1/N, so n' solves 1/n' − 1/N = (1/n − 1/N) /
    ratio; at most the pool (the whole pool graded has no sampling error).
    """
    if n_human >= pool or variance_ratio <= 0:
        return float(min(n_human, pool))
    if not np.isfinite(variance_ratio):
        return float(pool)
    inverse = (1 / n_human - 1 / pool) / variance_ratio + 1 / pool
    return float(min(1 / inverse, pool))


def _empty(note: str) -> dict[str, Any]:
    return {"corrected": [], "corrected_summary": {"status": "not corrected", "notes": [note]}}


def corrected_results(
    dataset: Any,
    runs: Mapping[str, Mapping[str, Mapping[str, float]]],
    retrievers: Sequence[str],
    k: int,
    store: JudgmentStore,
) -> dict[str, Any]:
    """results.json's ``corrected`` (one entry per retriever and corrected metric) and
    ``corrected_summary`` (the sample, the notes and which retrievers can be ordered).

    ``dataset`` is eval's ``EvalDataset``; ``runs``: retriever → query → judged id → score
    (``scoring.build_runs``); ``store``: the corpus's judgment store.
    """
    folder = dataset.testset_folder
    if folder is None or dataset.pooled is None:
        return {"corrected": [], "corrected_summary": None}
    record = latest_sample(folder)
    if record is None:
        return _empty(
            "not corrected: the test set has no recorded random sample of your grades "
            "(draw one with 'ragtui label CORPUS --testset NAME --retrievers R1,R2 --budget "
            "N' and grade it)"
        )
    sampled = _population_for(folder, dataset, store, record)
    if sampled.changed:
        return _empty(
            f"not corrected: {_design_words(sampled)} now holds {len(sampled.population)} "
            f"pairs, not the {sampled.recorded_pool_size} the sample was drawn from (the "
            "pool or the corpus changed); draw a new sample"
        )
    queries = list(dataset.queries)
    columns = _columns(runs, retrievers, queries, sampled, k)
    size = columns.population
    # The person's grades that may correct: drawn by the sample, and not made in sight of
    # the retrievers (the compare screen's labels carry no source).
    rows = np.array(sorted(sampled.random_grades), dtype=np.intp)
    sighted = sampled.sighted
    labeller = dataset.pooled.labeller
    automatic_grades: dict[tuple, int] = {}
    if labeller is not None:
        from ragtui.judging.automatic_grades import AutomaticGrades, graded

        automatic_grades = graded(AutomaticGrades(folder).of(labeller).values())
    automatic_raw = [
        automatic_grades.get((i.query_id, i.doc_id, i.start, i.end, i.text_sha256), 0)
        for i in sampled.population
    ]
    labeller_graded = sum(
        (i.query_id, i.doc_id, i.start, i.end, i.text_sha256) in automatic_grades
        for i in sampled.population
    )
    enough = SAMPLED_LABELS_FLOOR.met(len(rows))
    notes = [HUMAN_NOTE]
    # The whole population graded: the figures are exact (no sampling error), and
    # automatic grades have nothing left to correct.
    whole = len(rows) == size
    use_labeller = labeller is not None and not whole
    prior = rank_prior(columns.ranks[:, :size]) if labeller is None and not whole else None
    if prior is not None and not prior.any():
        prior = None  # no pair of the sample's pool in any retriever's top k
    prediction = LABELLER if use_labeller else PRIOR if prior is not None else NONE
    if whole:
        notes.append(
            f"You graded every pair of the sample's pool ({size}): the figures are exact "
            "for it, with no sampling error; automatic grades are not needed."
        )
    elif labeller is not None:
        notes.append(ZERO_NOTE)
    if prediction == PRIOR:
        notes.append(PRIOR_NOTE)
    if sampled.design.poisson:
        notes.append(
            f"The sample is {sampling_words(sampled.sampling)}: the estimate is the "
            "Horvitz-Thompson one for a Poisson sample, unbiased whatever the probabilities "
            "were, as long as every pair could be drawn (each had at least a uniform share)."
        )
    if 0 < len(rows) < len(sampled.sampled):
        read_as = (
            "each graded pair's recorded probability scaled by the share graded"
            if sampled.design.poisson
            else "a uniform sample of the pool"
        )
        notes.append(
            f"{len(rows)} of the {len(sampled.sampled)} sampled pairs are graded: read as "
            f"{read_as} (the screen asks question by question, so an unfinished sample "
            "leans on fewer questions; finish it for the interval to hold as stated)"
        )
    if sighted:
        notes.append(
            f"{sighted} sampled pairs hold only a compare-screen grade: not used for the "
            "correction (grade them on the blind screen)"
        )
    notes.append(NDCG_NOTE.format(k=k))
    entries: list[dict[str, Any]] = []
    estimates: dict[str, Any] = {}
    for metric in corrected_names(k):
        weights = metric_weights(columns.ranks, metric, max(len(queries), 1))
        inside = ~np.any(weights[:, size:] != 0, axis=1)
        totals = None
        if len(rows) and inside.any():
            sample = human_sample(
                sampled, rows, metric_gains([sampled.grades[row] for row in rows], metric)
            )
            automatic = metric_gains(automatic_raw, metric) if use_labeller else prior
            totals = prediction_powered(weights[:, :size], sample, automatic)
            estimates[metric] = (weights, sample, automatic)
        for index, retriever in enumerate(retrievers):
            entry: dict[str, Any] = {
                "retriever": retriever,
                "metric": metric,
                "n_human": len(rows),
                "n_automatic": size if use_labeller else 0,
                "queries": len(queries),
            }
            empty = dict.fromkeys(NUMBERS)
            if not inside[index]:
                outside = int(np.count_nonzero(weights[index, size:]))
                words = f"not corrected: the sample was drawn from {_design_words(sampled)}"
                entry.update(empty, status="not corrected", enough=False, words=words)
                entry["outside_pairs"] = outside
            elif totals is None or not enough:
                words = too_few(len(rows), "labels")
                entry.update(empty, status="too few", enough=False, words=words)
            else:
                entry.update(
                    _entry_numbers(totals, index, prediction, size),
                    status="corrected",
                    enough=True,
                )
            entries.append(entry)
    orderings = _orderings(retrievers, k, estimates, size, enough, len(rows))
    design = sampled.design
    summary = {
        "status": "corrected"
        if any(entry["status"] == "corrected" for entry in entries)
        else entries[0]["status"]
        if entries
        else "not corrected",
        "sample": {
            "retrievers": list(design.retrievers),
            "depth": design.depth,
            "budget": design.budget,
            "seed": design.seed,
            "only_differing": design.only_differing,
            "design": POISSON if design.poisson else UNIFORM,
            "sampling": design.sampling,
            "sampling_labeller": design.labeller,
            "population": size,
            "sampled": len(sampled.sampled),
            "graded": len(rows),
            "graded_on_compare_screen": sighted,
            "floor": SAMPLED_LABELS_FLOOR.minimum,
        },
        "labeller": None if labeller is None else labeller.describe(),
        "prediction": prediction,
        "labeller_graded": labeller_graded if labeller is not None else 0,
        "queries": len(queries),
        "near_tie": NEAR_TIE,
        "orderings": orderings,
        "notes": notes,
    }
    return {"corrected": entries, "corrected_summary": summary}


def _orderings(
    retrievers: Sequence[str],
    k: int,
    estimates: Mapping[str, Any],
    size: int,
    enough: bool,
    graded: int,
) -> list[dict[str, Any]]:
    """Every two retrievers' P@k gap: ordered beyond ±NEAR_TIE, or not."""
    metric = corrected_names(k)[0]
    found = []
    for a, b in itertools.combinations(range(len(retrievers)), 2):
        row: dict[str, Any] = {"a": retrievers[a], "b": retrievers[b], "metric": metric}
        numbers = dict.fromkeys(("gap", "ci_low", "ci_high", "lam"), None)
        if metric not in estimates:
            row.update(numbers, status="not corrected", order=None)
            found.append(row)
            continue
        weights, sample, automatic = estimates[metric]
        gap_weights = weights[a] - weights[b]
        if np.any(gap_weights[size:] != 0):
            row.update(numbers, status="not corrected", order=None)
        elif not enough:
            row.update(numbers, status="too few", order=None, words=too_few(graded, "labels"))
        else:
            gap = prediction_powered(gap_weights[None, :size], sample, automatic).entry(0)
            ordered = gap.ci_low > NEAR_TIE or gap.ci_high < -NEAR_TIE
            first = retrievers[a] if gap.ci_low > NEAR_TIE else retrievers[b]
            row.update(
                gap=gap.estimate,
                ci_low=gap.ci_low,
                ci_high=gap.ci_high,
                lam=gap.lam,
                status="ordered" if ordered else "cannot order",
                order=first if ordered else None,
            )
        found.append(row)
    return found


def eval_additions(run: Any, store: JudgmentStore) -> dict[str, Any]:
    """What eval adds to results.json for a test set: ``corrected``, ``corrected_summary``
    and ``circularity`` (one line per retriever sharing a model with the labeller used)."""
    from ragtui.experiment.run.scoring import build_runs

    dataset, plan = run.dataset, run.plan
    added = corrected_results(dataset, build_runs(run), plan.retrievers, plan.k, store)
    labeller = None if dataset.pooled is None else dataset.pooled.labeller
    circularity: list[str] = []
    if labeller is not None:
        from ragtui.judging.circularity import circularity_warnings

        circularity = circularity_warnings(labeller, list(plan.retrievers))
    return {**added, "circularity": circularity}
