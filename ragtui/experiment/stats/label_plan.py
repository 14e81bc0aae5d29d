"""How many more of the person's labels give intervals of a chosen width.

From the grades made so far on a recorded sample (``ragtui.judging.label_samples``; an
active one's grades weighted by their inclusion probabilities), each figure's variance per
label is estimated (with the automatic grades' tuned weight, where a labeller graded the
pool) and the uniform design's variance is solved for the sample size
(``ppi.labels_for_width``): the plan is in labels of a uniform sample, whatever design drew
the first batch. Only the grades that are a random sample count
(``SampledPool.random_grades``: drawn pairs graded blind or imported, not on the compare
screen), as in eval's corrected figures. The grades made so far are read as a uniform
sample of the drawn pairs; the screen asks question by question, so a half-graded sample
leans on fewer queries than a finished one, and the answer is a plan, not a figure. With
a labeller it is a little optimistic from a small first batch (λ and the variance both come
from the same few labels, and it solves the normal interval's width while the reported
interval is the score or skewness-corrected one, a few percent wider at that size: up to
20% too narrow from 150 labels in the simulation of tests/judging/test_label_plan.py);
planning again after more grades narrows that. For DCG@k with a labeller the plan counts
λ's own noise and uses the cross-fitted residuals, as the interval does (without them it
came out up to 20% too narrow from 150 labels in the same test file). Without a labeller
the grades correct the retrievers' rank prior (``label_designs.rank_prior``), as eval's
corrected figures do, and the plan is that estimator's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ragtui.experiment.stats.ppi import (
    POISSON,
    HumanSample,
    labels_for_width,
    metric_gains,
    metric_weights,
    pair_differences,
    parse_linear_metric,
    prediction_powered,
)
from ragtui.judging.label_designs import rank_prior
from ragtui.judging.label_samples import SampledPool

PairKey = tuple[str, str, int, int, str]


def human_sample(sampled: SampledPool, rows: np.ndarray, gains: np.ndarray) -> HumanSample:
    """The person's graded ``rows`` of a recorded sample, read with its design: a uniform
    sample as uniform without replacement, an active one (rank-prior, labeller) as Poisson
    with each pair's recorded probability (``SampledPool.graded_inclusion``), so the
    estimate weighs every grade by 1/π. Eval's corrected figures and ``label plan`` both
    read the sample through this."""
    size = len(sampled.population)
    if not sampled.design.poisson:
        return HumanSample.uniform(rows, gains, size)
    inclusion = np.array(sampled.graded_inclusion([int(row) for row in rows]), dtype=float)
    return HumanSample(rows, gains, inclusion, POISSON, size)


@dataclass(frozen=True)
class PlannedFigure:
    name: str  # "bm25" or "hybrid − bm25"
    width_now: float  # the interval's width from the grades made so far
    labels_needed: int  # of the population, in total, for the chosen width


@dataclass(frozen=True)
class LabelPlan:
    figures: tuple[PlannedFigure, ...]
    graded: int  # the sample's grades the plan rests on (blind screen or imported)
    population: int
    metric: str
    prediction: str  # what the grades correct: "labeller", "rank prior" or "" (nothing)

    @property
    def labels_needed(self) -> int:
        return max((figure.labels_needed for figure in self.figures), default=0)

    @property
    def more(self) -> int:
        return max(self.labels_needed - self.graded, 0)


def plan_labels(
    sampled: SampledPool,
    retrievers: Sequence[str],
    width: float,
    metric: str = "P@10",
    automatic: Mapping[PairKey, int] | None = None,
    queries: int | None = None,
) -> LabelPlan:
    """Labels for intervals ``width`` wide: each retriever's figure (not when the sample is
    of the differing pairs only, which cannot estimate it) and every gap between two."""
    population = sampled.population
    # Only the grades that are a random sample (not the compare screen's): as eval reads them.
    grades = sampled.random_grades
    rows = np.array(sorted(grades), dtype=np.intp)
    if len(rows) < 2:
        raise ValueError("at least two graded pairs of the sample are needed")
    ranks = np.array(
        [
            [
                item.placed.get(name, 0) if item.placed.get(name, 0) <= sampled.design.depth else 0
                for item in population
            ]
            for name in retrievers
        ]
    )
    query_count = queries or len({item.query_id for item in population})
    weights = metric_weights(ranks, metric, query_count)
    names = list(retrievers)
    if sampled.design.only_differing:
        weights, names = np.zeros((0, len(population))), []
    gap_weights, gaps = pair_differences(metric_weights(ranks, metric, query_count))
    weights = np.vstack([weights, gap_weights])
    names += [f"{retrievers[a]} − {retrievers[b]}" for a, b in gaps]
    size = len(population)
    sample = human_sample(sampled, rows, metric_gains([grades[row] for row in rows], metric))
    grades_everywhere = None
    if automatic:
        grades_everywhere = metric_gains(
            [
                automatic.get((i.query_id, i.doc_id, i.start, i.end, i.text_sha256), 0)
                for i in population
            ],
            metric,
        )
    elif len(rows) < size:
        # No labeller: the grades correct the retrievers' rank prior over their top k, as
        # eval's do (eval ranks to k, the sample's pool to its depth).
        _kind, k = parse_linear_metric(metric)
        prior = rank_prior(np.where(ranks <= k, ranks, 0))
        grades_everywhere = prior if prior.any() else None
    now = prediction_powered(weights, sample, grades_everywhere)
    needed = labels_for_width(weights, sample, width, grades_everywhere)
    figures = tuple(
        PlannedFigure(name, float(now.ci_high[k] - now.ci_low[k]), int(needed[k]))
        for k, name in enumerate(names)
    )
    prediction = "labeller" if automatic else "rank prior" if grades_everywhere is not None else ""
    return LabelPlan(figures, len(rows), size, metric, prediction)
