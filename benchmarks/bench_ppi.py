"""Can a few human labels make automatic grades honest? Prediction-powered P@10 and DCG@10
on Cranfield, by simulation.

    python benchmarks/bench_ppi.py [--cranfield PATH] [--work DIR] [--draws 200] [--markdown]
    python benchmarks/bench_ppi.py --draws 500 --interval "normal (Wald)"   # the reference

``--interval``: the interval under test, ``ppi.ADJUSTED`` (score / skewness-corrected, the
default ragtui reports) or ``ppi.WALD`` (the plain normal one, kept as the reference).

Set-up (issue 29). The depth-10 pool of the seven offline retrievers on Cranfield's 225
queries (documents, as eval judges BEIR corpora), built once with ragtui's pool code and
kept in ``--work`` (a later run reuses it). The truth is Cranfield's qrels on that pool (an
unjudged pool document counts 0), so each retriever's true P@10 and DCG@10 are exactly
trec_eval's. The "person" is the qrels: a human sample is a random set of pool pairs
whose qrels grade is revealed.

Automatic labellers (fixed once per run, seeded): one that keeps the qrels grade with
probability 0.85 (or 0.70) and otherwise gives one of the other grades 0–4 at random, and
one that grades at random. Each is corrected by the sample (``ragtui.experiment.stats.ppi``,
λ tuned); "human only" is the same sample's Horvitz–Thompson estimate; "none (rank prior
corrected)" is what eval reports without a labeller: the sample correcting the
retrievers' rank prior (``label_designs.rank_prior``), on the uniform and rank-prior
samples, its labels saved counted against the uniform sample of the grades alone.

For each sample size, ``--draws`` samples are drawn by each of four designs:

- uniform without replacement (what ``ragtui label --budget`` draws);
- *active* (rank prior): Poisson, each pair with its own probability from a rank prior (a
  document ranked high by several retrievers is more often relevant, and one that some
  retrievers rank and others do not moves their comparisons), mixed with a uniform share
  so that every pair can be drawn;
- *active* (labeller): Poisson, ``label --budget N --design labeller``'s probabilities
  (``label_designs.labeller_inclusion`` of ``correction_spread``) from the simulated
  labeller's own grades, so drawn per labeller; with no labeller ("human only") every pair
  has the same π (a Poisson sample of the uniform design's probabilities);
- *two-phase* (strata): a uniform pilot of a quarter of the labels, then a Poisson second
  batch by Neyman allocation over strata of labeller grade × rank, from the pilot's
  residuals (see "two-phase design" below; drawn per labeller, since the strata are its).

The rank prior and the labeller design are ``ragtui label --budget N --design
rank-prior|labeller``'s own (``ragtui.judging.label_designs``, imported); the two-phase
design is measured here only.

Reported: coverage of each retriever's 95% interval (lowest and highest of the seven;
goal 0.93–0.97), mean interval width and its ratio to the person's grades alone from the
same sample (mean, and the worst retriever for DCG@10), and for the 21 pairs of retrievers
on P@10: how often the gap's interval lies wholly beyond the near-tie margin (±0.01) on
one side ("ordered"), how often such an order is wrong, and how often a near-tie (true
|gap| < 0.01) was ordered (it should be reported as a tie). Labels saved: 1 − (the
estimates' mean squared error over the draws / the uniform sample's) at the same number
of labels, median over P@10's retrievers / P@10's gaps ≥ 0.01 / DCG@10's retrievers;
"labels saved" against the uniform sample with the same automatic grades (what the design
saves; the rank prior's rows against your grades alone), "saved vs yours alone" against
the uniform sample of your grades alone (design and automatic grades together).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ragtui.experiment.stats.ppi import (  # noqa: E402
    ADJUSTED,
    INTERVALS,
    POISSON,
    UNIFORM,
    HumanSample,
    metric_gains,
    metric_weights,
    pair_differences,
    prediction_powered,
)
from ragtui.judging.label_designs import (  # noqa: E402
    TOP_GRADE,
    correction_spread,
    labeller_inclusion,
    rank_prior,
    rank_prior_inclusion,
)

SPECS = ("bm25", "bm25:okapi", "static", "dense:minilm-int8", "dense", "hybrid", "hybrid:static")
DEPTH = 10
SIZES = (50, 100, 200, 400, 800)
NEAR_TIE = 0.01  # on P@10's scale
DESIGNS = ("uniform", "rank prior", "labeller", "two-phase")
DESIGN_NAMES = {
    "uniform": "uniform",
    "rank prior": "active (rank prior)",
    "labeller": "active (labeller)",
    "two-phase": "two-phase (strata)",
}
PILOT_SHARE = 0.25  # of a two-phase sample's labels: the uniform first batch
# No labeller: the person's grades correct the retrievers' rank prior (label_designs.
# rank_prior), as eval does without --labeller; on the uniform and rank-prior samples.
PRIOR_PREDICTION = "none (rank prior corrected)"
PRIOR_DESIGNS = ("uniform", "rank prior")
MAX_GRADE = 4  # Cranfield's qrels grade 1–4


@dataclass(frozen=True)
class PooledSet:
    """The pool as arrays: each retriever's rank of each (query, document), and its truth."""

    query_ids: list[str]
    pairs: list[tuple[str, str]]
    ranks: np.ndarray  # retrievers × pairs, 0 where not ranked in the top DEPTH
    truth: np.ndarray  # qrels grade of each pair, 0 when unjudged


def build_pool(cranfield: Path, work: Path) -> PooledSet:
    """The depth-10 pool of SPECS, through ragtui's pool code (stored and reused)."""
    from ragtui.corpus import load_corpus
    from ragtui.index.cache import Indexes
    from ragtui.judging.pools import extend_pool
    from ragtui.retrieval import make_retriever

    cache = work / "cache"
    corpus = load_corpus(cranfield, cache_root=cache)
    indexes = Indexes(corpus, cache_root=cache)
    queries = dict(corpus.queries)
    retrievers = {spec: make_retriever(spec, indexes) for spec in SPECS}
    started = time.perf_counter()
    folder = work / "pool"
    folder.mkdir(parents=True, exist_ok=True)
    pool = extend_pool(folder, corpus, "document", queries, retrievers, DEPTH)
    print(f"pool: {time.perf_counter() - started:.1f} s (stored in {folder})", flush=True)
    items = pool.pairs(SPECS, DEPTH)
    ranks = np.array([[item.placed.get(spec, 0) for item in items] for spec in SPECS])
    ranks[ranks > DEPTH] = 0
    truth = np.array(
        [corpus.qrels.get(item.query_id, {}).get(item.judged_id, 0) for item in items],
        dtype=float,
    )
    return PooledSet(
        sorted(queries), [(i.query_id, i.judged_id) for i in items], ranks, np.maximum(truth, 0)
    )


def simulated_labellers(truth: np.ndarray, seed: int) -> dict[str, np.ndarray | None]:
    """Automatic grades of every pool pair; "human only" has none."""
    rng = np.random.default_rng(seed)
    size = len(truth)

    def agreeing(rate: float) -> np.ndarray:
        keep = rng.random(size) < rate
        # one of the other grades, each equally likely
        other = (truth + rng.integers(1, MAX_GRADE + 1, size)) % (MAX_GRADE + 1)
        return np.where(keep, truth, other)

    return {
        "human only": None,
        "agrees 85%": agreeing(0.85),
        "agrees 70%": agreeing(0.70),
        "random grades": rng.integers(0, MAX_GRADE + 1, size).astype(float),
    }


# two-phase design ---------------------------------------------------------------------------
# Where the person's next labels do the most: a second batch drawn by stratified (Neyman)
# allocation from what a first, uniform batch (the pilot) showed. Measured here only:
# ``ragtui label --budget`` offers uniform, rank-prior and labeller designs, not this one.
#
# The second batch draws each remaining pool pair independently (Poisson) with its own
# probability, from strata of pairs that behave alike: the labeller's grade × how many
# retrievers placed the pair in their top k × its best rank. The pilot estimates each
# stratum's mean squared residual σ²_h (the person's grade less λ times the labeller's; the
# grade itself without a labeller), shrunk towards the pilot's overall mean so that a stratum
# where the pilot saw no error still gets labels. A pair's π grows with √(σ²_h Σ_k w_kp² /
# V_k), Neyman's allocation for the sum of the figures' relative variances (V_k: figure k's
# variance under the strata's σ²), and a uniform share keeps every π > 0.
#
# The estimate conditions on the pilot: its pairs are known exactly (π = 1), and the second
# batch is a Poisson sample of the rest with probabilities fixed before it was drawn, so the
# Horvitz–Thompson correction (``POISSON``) is unbiased given the pilot, hence
# unconditionally, however wrong the labeller or the pilot's σ² are; a poor σ² costs
# precision only. Conditioning wastes what the pilot says about the rest of the pool, so
# without a labeller with signal this loses to one uniform sample of the same size.


SECOND_UNIFORM_SHARE = 0.2  # of the second batch spread evenly over the remaining pairs
SHRINK = 2.0  # pseudo-pairs of the pilot's overall mean in each stratum's σ²


def labeller_design(automatic: np.ndarray | None, size: int, expected: float) -> np.ndarray:
    """``label --budget N --design labeller``'s inclusion probabilities for a simulated
    labeller's grades of every pool pair (None: no labeller, every pair as unsure, which is
    the uniform design's π drawn by Poisson).

    The simulated grades are on Cranfield's 0–4 scale and ragtui's labellers grade 0–3, so
    each is read as the expected grade g · 3/4 on ragtui's scale (0 and 4 sure, the middle
    grades unsure), the value ``label`` passes where a labeller gave its expected grade."""
    if automatic is None:
        return labeller_inclusion([correction_spread(None)] * size, expected)
    scaled = np.asarray(automatic, dtype=float) * TOP_GRADE / MAX_GRADE
    return labeller_inclusion((correction_spread(None, float(s)) for s in scaled), expected)


def design_strata(ranks: np.ndarray, automatic: np.ndarray | None) -> np.ndarray:
    """A stratum code per pool pair: labeller grade × placed by one / some / all of the
    retrievers × best rank 1–3 or lower. ``ranks``: R × N, 0 where not ranked."""
    ranks = np.asarray(ranks)
    inside = ranks > 0
    placed = inside.sum(axis=0)
    count = len(ranks)
    share = np.where(placed >= count, 2, np.where(placed > 1, 1, 0))
    best = np.where(inside, ranks, np.iinfo(np.int64).max).min(axis=0)
    top = (best <= 3).astype(int)
    grade = np.zeros(ranks.shape[1], dtype=int)
    if automatic is not None:
        grade = np.rint(np.asarray(automatic, dtype=float)).astype(int) + 1
    return grade * 6 + share * 2 + top


def stratified_inclusion(
    weights: np.ndarray,
    strata: np.ndarray,
    pilot_rows: np.ndarray,
    pilot_gains: np.ndarray,
    automatic: np.ndarray | None,
    expected: float,
) -> np.ndarray:
    """Inclusion probabilities of the second batch (``expected`` pairs on average) over the
    whole pool: 1 for the pilot's pairs (already graded), Neyman's allocation elsewhere.

    ``weights``: K × N, the figures the labels serve (each retriever's metric and the gaps
    between them); ``pilot_gains``: the person's gains of ``pilot_rows``; ``automatic``:
    the labeller's gains of every pair, or None.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    strata = np.asarray(strata)
    pilot_rows = np.asarray(pilot_rows, dtype=np.intp)
    size = weights.shape[1]
    if len(pilot_rows) < 2:
        raise ValueError("a pilot of at least two graded pairs is needed to allocate by")
    residual = np.asarray(pilot_gains, dtype=float)
    if automatic is not None:
        automatic = np.asarray(automatic, dtype=float)
        labelled = automatic[pilot_rows]
        spread = labelled.var()
        # one λ for the allocation (the pooled regression slope, in [0, 1]): it only
        # steers where labels go, the estimate tunes its own
        lam = np.cov(residual, labelled)[0, 1] / spread if spread > 0 else 0.0
        residual = residual - float(np.clip(lam, 0.0, 1.0)) * labelled
    squares = residual**2
    overall = float(squares.mean())
    codes, where = np.unique(strata, return_inverse=True)
    pilot_codes = where[pilot_rows]
    sums = np.bincount(pilot_codes, weights=squares, minlength=len(codes))
    counts = np.bincount(pilot_codes, minlength=len(codes))
    sigma2 = (sums + SHRINK * overall) / (counts + SHRINK)
    per_pair = sigma2[where]
    figure_variance = (weights**2 * per_pair).sum(axis=1)
    usable = figure_variance > 0
    need = (weights[usable] ** 2 / figure_variance[usable, None]).sum(axis=0)
    score = np.sqrt(per_pair * need)
    rest = np.ones(size, dtype=bool)
    rest[pilot_rows] = False
    score[~rest] = 0.0
    remaining = int(rest.sum())
    if remaining == 0 or expected <= 0:
        inclusion = np.zeros(size)
    else:
        total = score.sum()
        share = SECOND_UNIFORM_SHARE if total > 0 else 1.0
        inclusion = expected * share / remaining * rest
        if total > 0:
            inclusion = inclusion + expected * (1 - share) * score / total
        inclusion = _capped(inclusion, rest)
    inclusion[pilot_rows] = 1.0
    return inclusion


def _capped(inclusion: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Cap at 1 and hand the excess to the other pairs of ``rest``, in proportion."""
    inclusion = inclusion.copy()
    for _ in range(50):
        over = inclusion > 1
        if not over.any():
            break
        excess = (inclusion[over] - 1).sum()
        inclusion[over] = 1.0
        free = rest & (inclusion < 1)
        if not free.any():
            break
        inclusion[free] += excess * inclusion[free] / inclusion[free].sum()
    return np.minimum(inclusion, 1.0)


@dataclass
class Tally:
    """Sums over the draws of one (design, size, labeller), by what is counted."""

    draws: int = 0
    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=float)
        self.sums[name] = self.sums[name] + value if name in self.sums else value.copy()

    def mean(self, name: str) -> np.ndarray:
        return self.sums[name] / self.draws


Tallies = dict[tuple[str, int, str], Tally]


def simulate(
    pooled: PooledSet,
    draws: int,
    seed: int,
    interval: str = ADJUSTED,
    sizes: tuple[int, ...] = SIZES,
    designs: tuple[str, ...] = DESIGNS,
) -> tuple[Tallies, np.ndarray]:
    """Every (design, size, labeller) over ``draws`` human samples; and the true P@10 gaps."""
    queries = len(pooled.query_ids)
    p_weights = metric_weights(pooled.ranks, "P@10", queries)
    gap_weights, _ = pair_differences(p_weights)
    dcg_weights = metric_weights(pooled.ranks, "DCG@10", queries)
    by_metric = {"P@10": np.vstack([p_weights, gap_weights]), "DCG@10": dcg_weights}
    gains = {metric: metric_gains(pooled.truth, metric) for metric in by_metric}
    truth = {metric: by_metric[metric] @ gains[metric] for metric in by_metric}
    labellers = simulated_labellers(pooled.truth, seed)
    automatic = {
        (name, metric): None if grades is None else metric_gains(grades, metric)
        for name, grades in labellers.items()
        for metric in by_metric
    }
    # No labeller, the grades correcting the rank prior (what eval does without --labeller).
    for metric in by_metric:
        automatic[PRIOR_PREDICTION, metric] = rank_prior(pooled.ranks)
    count = len(SPECS)
    true_gaps = truth["P@10"][count:]
    size = len(pooled.truth)
    rng = np.random.default_rng(seed + 1)
    tallies: Tallies = {}
    served = np.vstack([by_metric["P@10"], by_metric["DCG@10"]])
    strata = {name: design_strata(pooled.ranks, automatic[name, "DCG@10"]) for name in labellers}
    for design in designs:
        # The labeller and two-phase designs steer by a labeller's grades; the prior is none.
        predictors = [*labellers, *([PRIOR_PREDICTION] if design in PRIOR_DESIGNS else [])]
        kind = UNIFORM if design == "uniform" else POISSON
        for n in sizes:
            if design == "rank prior":
                inclusion = rank_prior_inclusion(pooled.ranks, n)
            else:
                inclusion = np.full(size, n / size)
            # the labeller design steers by each labeller's own grades (drawn per labeller)
            steered = {
                name: labeller_design(grades, size, n)
                for name, grades in labellers.items()
                if design == "labeller"
            }
            for _ in range(draws):
                if design == "uniform":
                    rows = np.sort(rng.choice(size, n, replace=False))
                elif design == "rank prior":
                    rows = np.flatnonzero(rng.random(size) < inclusion)
                elif design == "labeller":
                    uniform_draw = rng.random(size)
                else:
                    pilot = np.sort(rng.choice(size, int(n * PILOT_SHARE), replace=False))
                    uniform_draw = rng.random(size)
                drawn = {}
                for name in predictors:
                    if design == "labeller":
                        # the same random numbers for every labeller, as for two phases
                        inclusion = steered[name]
                        rows = np.flatnonzero(uniform_draw < inclusion)
                    elif design == "two-phase":
                        # the second batch is drawn with the labeller's own strata; the same
                        # random numbers for every labeller, so they differ by design alone
                        inclusion = stratified_inclusion(
                            served,
                            strata[name],
                            pilot,
                            gains["DCG@10"][pilot],
                            automatic[name, "DCG@10"],
                            n - len(pilot),
                        )
                        rows = np.union1d(pilot, np.flatnonzero(uniform_draw < inclusion))
                    drawn[name] = rows, inclusion
                for name in predictors:
                    rows, inclusion = drawn[name]
                    tally = tallies.setdefault((design, n, name), Tally())
                    tally.draws += 1
                    tally.add("labels", np.array(len(rows)))
                    for metric, weights in by_metric.items():
                        sample = HumanSample(rows, gains[metric][rows], inclusion[rows], kind, size)
                        result = prediction_powered(
                            weights, sample, automatic[name, metric], interval=interval
                        )
                        low, high = result.ci_low, result.ci_high
                        target = truth[metric]
                        tally.add(f"covered {metric}", ((low <= target) & (target <= high))[:count])
                        tally.add(f"width {metric}", (high - low)[:count])
                        tally.add(
                            f"human width {metric}",
                            (result.human_only_high - result.human_only_low)[:count],
                        )
                        tally.add(f"squared error {metric}", (result.estimate - target) ** 2)
                        if metric == "P@10":
                            gap_low, gap_high = low[count:], high[count:]
                            ordered = (gap_low > NEAR_TIE) | (gap_high < -NEAR_TIE)
                            sign = np.where(gap_low > NEAR_TIE, 1.0, -1.0)
                            tally.add("ordered", ordered)
                            tally.add("wrong", ordered & (sign * true_gaps < 0))
                            tally.add("excludes zero", (gap_low > 0) | (gap_high < 0))
    return tallies, truth


FOCUSED = (("hybrid", "bm25"), ("dense", "bm25"), ("dense", "dense:minilm-int8"))


def focused(
    pooled: PooledSet, draws: int, seed: int, interval: str = ADJUSTED
) -> list[dict[str, str]]:
    """Two retrievers only, sampling only the pool pairs where their top 10s differ (``label
    --only-differing``): the gap's weights are 0 elsewhere, so that sub-pool is its whole
    population and nothing is lost by leaving the rest out."""
    queries = len(pooled.query_ids)
    weights = metric_weights(pooled.ranks, "P@10", queries)
    gains = metric_gains(pooled.truth, "P@10")
    labellers = simulated_labellers(pooled.truth, seed)
    rng = np.random.default_rng(seed + 2)
    rows_out = []
    for first, second in FOCUSED:
        gap = weights[SPECS.index(first)] - weights[SPECS.index(second)]
        differing = np.flatnonzero(gap != 0)
        sub_weights, sub_gains = gap[differing][None, :], gains[differing]
        true_gap = float(sub_weights[0] @ sub_gains)
        for name in ("human only", "agrees 85%"):
            grades = labellers[name]
            automatic = None if grades is None else metric_gains(grades, "P@10")[differing]
            cells = []
            for n in SIZES:
                if n >= len(differing):
                    cells.append("–")
                    continue
                ordered = wrong = covered = 0
                for _ in range(draws):
                    rows = np.sort(rng.choice(len(differing), n, replace=False))
                    sample = HumanSample(
                        rows,
                        sub_gains[rows],
                        np.full(n, n / len(differing)),
                        UNIFORM,
                        len(differing),
                    )
                    result = prediction_powered(sub_weights, sample, automatic, interval=interval)
                    low, high = float(result.ci_low[0]), float(result.ci_high[0])
                    covered += low <= true_gap <= high
                    if low > NEAR_TIE or high < -NEAR_TIE:
                        ordered += 1
                        wrong += (1 if low > NEAR_TIE else -1) * true_gap < 0
                cells.append(
                    f"{_percent(ordered / draws)} ({_percent(wrong / draws)}; "
                    f"{covered / draws:.2f})"
                )
            rows_out.append(
                {
                    "pair (differing pairs)": f"{first} − {second} ({len(differing)})",
                    "true gap": f"{true_gap:+.3f}",
                    "automatic grades": name,
                    **{f"{n} labels": cell for n, cell in zip(SIZES, cells, strict=True)},
                }
            )
    return rows_out


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def rows_of(tallies: Tallies, truth: dict[str, np.ndarray]) -> list[dict[str, str]]:
    """One table row per (design, size, labeller)."""
    count = len(SPECS)
    gaps = truth["P@10"][count:]
    apart, ties = np.abs(gaps) >= NEAR_TIE, np.abs(gaps) < NEAR_TIE
    rows = []
    for (design, n, name), tally in tallies.items():
        coverage = {m: tally.mean(f"covered {m}") for m in ("P@10", "DCG@10")}
        width = {m: tally.mean(f"width {m}") for m in ("P@10", "DCG@10")}
        ratio = {
            m: tally.sums[f"width {m}"] / tally.sums[f"human width {m}"] for m in ("P@10", "DCG@10")
        }
        ordered, wrong = tally.mean("ordered"), tally.mean("wrong")
        row = {
            "sampling": DESIGN_NAMES[design],
            "labels": f"{n}" if design == "uniform" else f"{tally.mean('labels'):.0f}",
            "automatic grades": name,
            "coverage P@10": f"{coverage['P@10'].min():.3f}–{coverage['P@10'].max():.3f}",
            "coverage DCG@10": f"{coverage['DCG@10'].min():.3f}–{coverage['DCG@10'].max():.3f}",
            "P@10 width (vs yours)": f"{width['P@10'].mean():.3f} ({ratio['P@10'].mean():.2f})",
            "DCG@10 width (vs yours)": (
                f"{width['DCG@10'].mean():.3f} ({ratio['DCG@10'].mean():.2f}; "
                f"max {ratio['DCG@10'].max():.2f})"
            ),
            f"gaps ≥ {NEAR_TIE} ordered": _percent(ordered[apart].mean()) if apart.any() else "–",
            "wrong (max)": _percent(wrong.max()),
            "near-ties ordered (max)": _percent(ordered[ties].max()) if ties.any() else "–",
            "labels saved": "",
            "saved vs yours alone": "",
        }
        # Against the uniform sample with the same automatic grades (what the design saves);
        # the rank prior's rows against the uniform sample of your grades alone (what they
        # replace).
        baseline = "human only" if name == PRIOR_PREDICTION else name
        if (design != "uniform" or baseline != name) and ("uniform", n, baseline) in tallies:
            row["labels saved"] = _saved(tally, tallies[("uniform", n, baseline)], apart)
        # Against the uniform sample of your grades alone: design and automatic grades
        # together, what "half the labels" asks of them.
        yours = tallies.get(("uniform", n, "human only"))
        if yours is not None and (design, name) != ("uniform", "human only"):
            row["saved vs yours alone"] = _saved(tally, yours, apart)
        rows.append(row)
    return rows


def _saved(tally: Tally, uniform: Tally, apart: np.ndarray) -> str:
    """1 − the estimates' mean squared error against ``uniform``'s at the same number of
    labels (both unbiased: their variance over the draws), the median over P@10's
    retrievers / P@10's gaps ≥ the near-tie margin / DCG@10's retrievers.

    The spread of the estimates over the draws, not the variance each interval states: a
    labeller grading at random "saved" 10% by its stated variance (λ tuned to the sample
    fits a little of its noise) and 5% by the estimates' spread (300 draws, 200 labels)."""
    count = len(SPECS)
    share = tally.mean("squared error P@10") / uniform.mean("squared error P@10")
    retriever_saving = 1 - np.median(share[:count])
    gap_saving = 1 - np.median(share[count:][apart]) if apart.any() else float("nan")
    dcg = 1 - np.median(tally.mean("squared error DCG@10") / uniform.mean("squared error DCG@10"))
    return f"{_percent(retriever_saving)} / {_percent(gap_saving)} / {_percent(dcg)}"


def print_table(rows: list[dict[str, str]], markdown: bool) -> None:
    columns = list(rows[0])
    if markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for row in rows:
            print("| " + " | ".join(row[c] for c in columns) + " |")
        return
    widths = [max(len(c), *(len(row[c]) for row in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(row[c].ljust(w) for c, w in zip(columns, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cranfield", type=Path, default=REPO.parent / "shared" / "data" / "cranfield"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/ragtui-bench-ppi"))
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool-only", action="store_true")
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="labels per sample (comma-separated)"
    )
    parser.add_argument("--designs", default=",".join(DESIGNS), help=f"any of {', '.join(DESIGNS)}")
    parser.add_argument("--no-focused", action="store_true", help="skip the two-retriever table")
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    parser.add_argument(
        "--interval",
        choices=INTERVALS,
        default=ADJUSTED,
        help="the interval under test (the normal one is the reference)",
    )
    args = parser.parse_args()
    pooled = build_pool(args.cranfield, args.work)
    count = len(SPECS)
    print(f"{len(pooled.pairs)} pool pairs, {len(pooled.query_ids)} queries, depth {DEPTH}")
    if args.pool_only:
        return
    started = time.perf_counter()
    sizes = tuple(int(size) for size in args.sizes.split(","))
    designs = tuple(name.strip() for name in args.designs.split(","))
    unknown = [name for name in designs if name not in DESIGNS]
    if unknown:
        parser.error(f"--designs {','.join(unknown)}: use any of {', '.join(DESIGNS)}")
    tallies, truth = simulate(pooled, args.draws, args.seed, args.interval, sizes, designs)
    elapsed = time.perf_counter() - started
    print("\ntruth (qrels on the pool):")
    for index, spec in enumerate(SPECS):
        print(f"  {spec:18s} P@10 {truth['P@10'][index]:.4f}  DCG@10 {truth['DCG@10'][index]:.4f}")
    gaps = truth["P@10"][count:]
    print(
        f"  {int((np.abs(gaps) >= NEAR_TIE).sum())} of {len(gaps)} P@10 gaps ≥ {NEAR_TIE}; "
        f"near-ties (|gap| < {NEAR_TIE}): {int((np.abs(gaps) < NEAR_TIE).sum())}"
    )
    print(f"\n{args.draws} draws per row, interval {args.interval!r}, {elapsed:.0f} s:\n")
    print_table(rows_of(tallies, truth), args.markdown)
    if args.no_focused:
        return
    print(
        f"\ntwo retrievers, only their differing pairs, uniform ({args.draws} draws): "
        f"ordered beyond ±{NEAR_TIE} (wrong; coverage of the gap)\n"
    )
    print_table(focused(pooled, args.draws, args.seed, args.interval), args.markdown)


if __name__ == "__main__":
    main()
