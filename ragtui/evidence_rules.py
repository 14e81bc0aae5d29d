"""The rules every figure ragtui prints follows, written down once.

- **No verdict from too little data.** Each kind of claim has a floor (``Floor``): below
  it, or from an interval of zero width, ragtui says "too few queries to tell (n = …)"
  instead of concluding.
- **One unit of resampling: the query.** Intervals resample queries; where one query gives
  several units (a query under each retriever), the query's units are drawn together.
- **Every comparison uses the same queries for each contender** (``shared_queries``,
  ``align``). A failed answer stays in as a failure: it scores ``FAILED_SCORE``, the worst
  value of every 0–1 answer metric, so it can never improve a mean. A query a contender has
  no score for (a judge that abstained) leaves the comparison for every contender, and the
  report says how many left.
- **Every family of claims states its correction** (``Family``).

Pure Python, so the judging package can use it too; scipy is imported inside functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

RESAMPLING_UNIT = "query"
CONFIDENCE = 0.95
# A failed answer is a wrong answer: the worst value of every answer metric (all on 0–1).
FAILED_SCORE = 0.0


@dataclass(frozen=True)
class Floor:
    """The least evidence a kind of claim needs before ragtui states it."""

    claim: str
    minimum: int
    counts: str  # what n counts

    def met(self, n: int, interval: tuple[float, float] | None = None) -> bool:
        """Enough to conclude: at least ``minimum``, and an interval with some width.

        An interval of zero width comes from contenders that score alike on every query (or
        from one query): it is not evidence of agreement, only of too little variation.
        """
        if n < self.minimum:
            return False
        return interval is None or interval[1] - interval[0] > 1e-12

    def words(self) -> str:
        return f"{self.claim}: at least {self.minimum} {self.counts}"


# Ten queries: below that a paired bootstrap interval is mostly the handful of values
# drawn, and the exact permutation test cannot reach p < 0.002.
VERDICT_FLOOR = Floor("good-enough verdicts", 10, "queries scored by both contenders")
THRESHOLD_BIN_FLOOR = Floor("threshold-effect gaps", 10, "queries in the bin")
PAIRWISE_FLOOR = Floor("pairwise tests", 10, "queries scored by both pipelines")
CALIBRATION_FLOOR = Floor(
    "judge calibration sentences", 10, "of your votes with a winner that the judge judged"
)
CORRELATION_FLOOR = Floor("rank correlations", 10, "queries with both figures")
# Prediction-powered and sampled-grade figures (ragtui.experiment.stats.ppi). Measured by
# benchmarks/bench_ppi.py on Cranfield's pool (500 draws per row): below 200 graded pairs
# of a random sample, no interval tried (normal, t, score, skewness-corrected, λ
# cross-fitted) covered 93% for every retriever on DCG@10 (0.88–0.91 at 50–100 labels);
# a figure there rests on a handful of relevant pairs.
SAMPLED_LABELS_FLOOR = Floor("corrected retrieval figures", 200, "graded pairs of the sample")
# A labeller's agreement with the person (ragtui.judging.labeller_agreement): as for the
# judge's calibration, κ from a handful of pairs says nothing, and a query-resampled
# interval needs pairs from several queries to have any width.
AGREEMENT_FLOOR = Floor("labeller agreement (κ)", 10, "pairs graded by you and by the labeller")
# Corrected win rates (ragtui.experiment.stats.vote_correction): votes of the random vote
# queue on one pipeline pair. Measured by simulation (README, "Votes that correct the
# judge"; 500 draws per row, 100 and 300 judged pairs, win rates 0.5 and 0.8, a judge
# agreeing with the person 60% and 80%): at 30 votes the interval covered 0.93–0.97 in
# every case (the unwidened PPI interval: 0.85–0.95).
VOTE_SAMPLE_FLOOR = Floor("corrected win rates", 30, "of your queue votes on the pair")
# Judged correctness scores corrected by the person's grades of drawn answers (the same
# estimator and widened interval as the win rates; the same floor, checked by simulation in
# tests/experiment/test_answer_correction.py on grades 1–5).
GRADE_SAMPLE_FLOOR = Floor(
    "corrected judged scores", 30, "of your grades of the pipeline's answers"
)
# A pipeline's mean quality with its own interval (the bars of the quality × latency
# charts): as for the verdicts, a bootstrap over fewer queries mostly redraws them.
MEAN_INTERVAL_FLOOR = Floor("a mean's interval bars", 10, "queries scored")
FLOORS = (
    VERDICT_FLOOR,
    MEAN_INTERVAL_FLOOR,
    THRESHOLD_BIN_FLOOR,
    PAIRWISE_FLOOR,
    CALIBRATION_FLOOR,
    CORRELATION_FLOOR,
    SAMPLED_LABELS_FLOOR,
    AGREEMENT_FLOOR,
    VOTE_SAMPLE_FLOOR,
    GRADE_SAMPLE_FLOOR,
)

# A retriever whose top k is less judged than this is scored against many passages nobody
# judged, each counted as not relevant: its figures are lower bounds, so the report warns
# and also gives a measure that leaves unjudged passages out (nDCG′, Sakai 2007). TREC
# pools aim at full coverage of the top 10; 90% is the share where the bias is small
# next to differences between retrievers (Buckley & Voorhees 2004 on incomplete judgments).
JUDGED_SHARE_FLOOR = 0.90


def too_few(n: int, unit: str = "queries") -> str:
    """The words printed instead of a conclusion below a floor."""
    return f"too few {unit} to tell (n = {n})"


@dataclass(frozen=True)
class Family:
    """A family of claims made together, and how they are corrected for their number."""

    name: str
    correction: str
    words: str


GOOD_ENOUGH_FAMILY = Family(
    "good-enough verdicts",
    "Bonferroni",
    "all verdicts of one report are one family: with m of them, each interval is at the "
    "1 − 0.05/m level, so all m hold together with 95% confidence",
)
PAIRWISE_FAMILY = Family(
    "pairwise comparisons",
    "Benjamini–Hochberg",
    "p (BH) over the comparisons of one metric in one table",
)
THRESHOLD_FAMILY = Family(
    "threshold-effect gaps",
    "Benjamini–Hochberg",
    "p (BH) over every bin's gaps in the threshold table",
)
FAMILIES = (GOOD_ENOUGH_FAMILY, PAIRWISE_FAMILY, THRESHOLD_FAMILY)


def bonferroni_confidence(claims: int, confidence: float = CONFIDENCE) -> float:
    """Confidence of each of ``claims`` intervals so that all hold at ``confidence``."""
    return 1 - (1 - confidence) / max(claims, 1)


def shared_queries(scores: Iterable[Mapping[str, float | None]]) -> list[str]:
    """The queries every contender has a score for, in the first contender's order."""
    maps = list(scores)
    if not maps:
        return []
    return [
        query
        for query, value in maps[0].items()
        if value is not None and all(other.get(query) is not None for other in maps[1:])
    ]


def align(
    scores: Mapping[str, Mapping[str, float | None]],
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Every contender's scores on the shared queries only, and the queries left out."""
    shared = shared_queries(scores.values())
    every = dict.fromkeys(query for one in scores.values() for query in one)
    kept = set(shared)
    aligned = {
        name: {query: float(one[query]) for query in shared}  # type: ignore[arg-type]
        for name, one in scores.items()
    }
    return aligned, [query for query in every if query not in kept]


def score_or_failure(value: float | None, failed: bool) -> float | None:
    """A cell's score under the rules: a failed answer counts ``FAILED_SCORE``."""
    return FAILED_SCORE if failed else value


def failure_outcome(first_failed: bool, second_failed: bool) -> str | None:
    """A pairwise comparison where an answer failed, decided without a judge: the answer
    given beats the failure ("a" or "b"), two failures tie; None when both answered."""
    if first_failed and second_failed:
        return "tie"
    if first_failed or second_failed:
        return "b" if first_failed else "a"
    return None


def describe_rules(floors: Sequence[Floor] = FLOORS) -> list[str]:
    """The rules as sentences, for a report's method section."""
    return [
        f"Intervals resample the {RESAMPLING_UNIT} (a query's units under several retrievers "
        "are drawn together); every comparison uses the same queries for each contender; a "
        "failed answer counts as a wrong one (0), never left out.",
        "No conclusion below a floor or from an interval of zero width (printed as "
        "“too few queries to tell (n = …)”): " + "; ".join(floor.words() for floor in floors) + ".",
        f"Coverage: a retriever whose top k holds judgments for less than "
        f"{JUDGED_SHARE_FLOOR:.0%} of its passages (judged@k) is flagged, and its nDCG′@k "
        "(unjudged passages left out of the ranking) is shown beside its nDCG@k.",
        "Corrections for many claims: "
        + "; ".join(f"{family.name}, {family.correction} ({family.words})" for family in FAMILIES)
        + ".",
    ]
