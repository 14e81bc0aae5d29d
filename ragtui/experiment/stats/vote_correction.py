"""Answer judging, corrected: the judge's pairwise verdicts on every judged pair, corrected
by the person's votes on a random sample of those pairs.

**The figure.** For a pipeline pair (A, B), the win rate of A over B on the eval's queries:
the mean over the pairs judged of the person's verdict y (1: A better, 0: B better, ½: a
tie or "both bad", as the app's vote tables count them). The judge's verdict f (1, 0, ½; ½
where it abstained) is known on every judged pair; the person's on the pairs they voted on.
The corrected rate is prediction-powered (``ragtui.experiment.stats.ppi``, the one
estimator of the package): λ·mean(f) over all pairs + the mean of (y − λ f) over the
voted ones, λ tuned by PPI++; unbiased however wrong the judge is. Pairs where an answer
failed are decided by ``evidence_rules`` (the answer given wins) and enter with that
outcome, known without a vote. Like the corrected retrieval figures, the interval covers
the rate the person's votes on *every judged pair of these queries* would give.

**Which votes count.** Only votes of the random vote queue (``ragtui.judging.vote_queue``):
items drawn with a seed from the very pairs the judge scored, each with its inclusion
probability recorded, and voted blind. The queue draws uniformly over all pairs or in equal
shares per pipeline pair; in both designs the votes on one pipeline pair are, given their
number, a uniform sample without replacement of that pair's judged pairs (the asking order
is random, so a queue left half done is still such a sample), and that is how they are
read. The votes of one draw are used (the latest draw voted on); votes of other draws or
of another run's answers are counted and left out.

Votes from the compare screen are refused for correction, each with its reason:

- **Sighted votes** (the panes named their pipelines): the person knew which pipeline
  gave which answer, and chose the pair to vote on knowing it.
- **Blind votes** hide which pane is which pipeline, and nothing more: the person chose
  the query, the two pipelines compared and whether to vote at all. No inclusion
  probability exists, so no weight can undo that choice.

Both are used for agreement only (``ragtui judge calibrate``), never for correction, and the
report says so (ARES PR #51 shows an interval from a non-random sample missing the truth).

**Bradley–Terry strengths from the corrected data** (``corrected_strengths``): the
strengths are fitted to the corrected pairwise rates (each pair weighted by its number of
judged pairs), and their intervals come from a bootstrap over *queries*: each round draws
queries with replacement, recomputes every pair's corrected rate from the judge's verdicts
and the votes on the drawn queries (λ fixed at each pair's tuned value), and refits. The
query is ragtui's unit of resampling (``evidence_rules``): the pairs of one query share its
difficulty, and the votes sit inside queries, so this one bootstrap carries both the
spread of queries and the sampling of votes. PPI for the BT M-estimator (a rectified
logistic loss, as ``ppi_py.ppi_logistic`` does for GLMs) would treat every pair as an
independent draw and give intervals too narrow for clustered pairs; it was not chosen.
Unlike the win rates' intervals (these queries' pairs), the strengths' intervals also
cover drawing other queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ragtui.evidence_rules import (
    CONFIDENCE,
    GRADE_SAMPLE_FLOOR,
    PAIRWISE_FLOOR,
    VOTE_SAMPLE_FLOOR,
    too_few,
)

SIGHTED = "sighted"
CHOSEN = "chosen by you"
BT_ROUNDS = 1000
BT_METHOD = (
    "Bradley-Terry fitted to the corrected pairwise rates; 95% percentile intervals from "
    "a bootstrap over queries (1,000 rounds)"
)
SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5, "abstain": 0.5}


def refusal_reason(vote: Any) -> str | None:
    """Why a vote cannot be part of a correction sample (``SIGHTED`` or ``CHOSEN``), or None
    for a vote of the random vote queue (drawn at random, with its inclusion probability)."""
    if getattr(vote, "from_queue", False) is True:
        return None
    return CHOSEN if getattr(vote, "blind", False) is True else SIGHTED


@dataclass(frozen=True)
class PairCorrection:
    """One pipeline pair's corrected win rate (of ``first`` over ``second``)."""

    first: str
    second: str
    estimate: float
    ci_low: float
    ci_high: float
    n_human: int  # queue votes on the pair
    n_automatic: int  # pairs the judge judged (its verdict is on all of them)
    failed_pairs: int  # decided without the judge: an answer failed
    lam: float
    method: str
    interval: str
    judge_only: float
    votes_only: dict[str, float]  # estimate, ci_low, ci_high: the votes alone
    enough: bool

    def words(self) -> str:
        if not self.enough:
            return too_few(self.n_human, "votes")
        return f"{self.estimate:.2f} [{self.ci_low:.2f}, {self.ci_high:.2f}]"

    def sentence(self) -> str:
        if not self.enough:
            return (
                f"{self.first} over {self.second}: {self.words()}; needs "
                f"{VOTE_SAMPLE_FLOOR.minimum} queue votes on the pair (judge alone "
                f"{self.judge_only:.2f}, uncorrected)"
            )
        votes = self.votes_only
        return (
            f"{self.first} over {self.second}: corrected win rate {self.words()} "
            f"(the judge on {self.n_automatic} pairs, corrected by your {self.n_human} "
            f"random votes; judge alone {self.judge_only:.2f}, your votes alone "
            f"{votes['estimate']:.2f} [{votes['ci_low']:.2f}, {votes['ci_high']:.2f}])"
        )


# A vote's range (0 to 1) over two: the spread of the two pseudo-residuals (see below).
PSEUDO_RESIDUAL = 0.5


def corrected_win_rate(
    judge: np.ndarray,
    voted_rows: np.ndarray,
    human: np.ndarray,
    known: Sequence[float] = (),
    lam: float | None = None,
    interval: str | None = None,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """The corrected rate over the judged pairs (``judge``: f of each) and the pairs decided
    without the judge (``known``: their outcomes), from votes ``human`` on ``voted_rows``
    (a uniform sample without replacement of the judged pairs).

    ``ppi.prediction_powered`` does the estimating (``interval`` passed on to it when
    given); the known outcomes only shift and scale it. By default (``interval`` None) its
    interval is widened where needed: a judge that agrees with the person on most pairs
    leaves residuals y − λf that are mostly 0, and their variance, estimated from the few
    that are not, is too small exactly when the sample drew few disagreements (the rare
    event problem of a proportion). As Agresti and Coull do for a proportion, two
    pseudo-residuals at the mean ± ½ (half a vote's range) join the variance estimate; the
    interval is the wider of ppi's and this normal one. By simulation (README) it lifted
    the coverage at 30–50 votes from 0.85–0.93 to 0.92–0.96.
    """
    from ragtui.experiment.stats.ppi import ADJUSTED, HumanSample, prediction_powered

    judge = np.asarray(judge, dtype=float)
    human = np.asarray(human, dtype=float)
    voted_rows = np.asarray(voted_rows)
    judged, decided = len(judge), len(known)
    total = judged + decided
    sample = HumanSample.uniform(voted_rows, human, judged)
    weights = np.full((1, judged), 1.0 / total)
    figures = prediction_powered(
        weights,
        sample,
        judge,
        lam=lam,
        confidence=confidence,
        interval=interval or ADJUSTED,
        # the widening below was validated (coverage 0.93-0.98) on the tuned λ's estimate
        cross_fit=False,
    ).entry()
    low, high = figures.ci_low, figures.ci_high
    votes_low, votes_high = figures.human_only.ci_low, figures.human_only.ci_high
    if interval is None and len(voted_rows) < judged:
        from scipy.stats import norm

        z = float(norm.ppf(0.5 + confidence / 2)) * judged / total

        def padded_half_width(residual: np.ndarray) -> float:
            centre = residual.mean()
            padded = np.concatenate(
                [residual, [centre + PSEUDO_RESIDUAL, centre - PSEUDO_RESIDUAL]]
            )
            n = len(residual)
            return float(z * np.sqrt((1 - n / judged) * padded.var(ddof=1) / n))

        half = padded_half_width(human - figures.lam * judge[voted_rows])
        centre = figures.estimate
        low, high = min(low, centre - half), max(high, centre + half)
        half = padded_half_width(human)
        centre = figures.human_only.estimate
        votes_low, votes_high = min(votes_low, centre - half), max(votes_high, centre + half)
    shift = float(np.sum(known)) / total

    def moved(value: float) -> float:
        return float(value + shift)

    return {
        "estimate": moved(figures.estimate),
        "ci_low": moved(low),
        "ci_high": moved(high),
        "std_error": figures.std_error,
        "lam": figures.lam,
        "method": figures.method,
        "interval": figures.interval
        if interval
        else f"{figures.interval}, widened (pseudo-residuals)",
        "judge_only": moved(float(figures.automatic_only or 0.0)),
        "votes_only": {
            "estimate": moved(figures.human_only.estimate),
            "ci_low": moved(votes_low),
            "ci_high": moved(votes_high),
        },
    }


@dataclass
class _PairData:
    """One pipeline pair's items, for the estimate and the bootstrap."""

    first: str
    second: str
    queries: list[str]  # each judged pair's query
    judge: list[float]
    voted: list[int]  # rows of ``judge`` with a vote
    human: list[float]
    known_queries: list[str]
    known: list[float]


def _human_score(vote: Any, first: str) -> float:
    if vote.choice in ("tie", "both_bad"):
        return 0.5
    winner = vote.pipeline_a if vote.choice == "a" else vote.pipeline_b
    return 1.0 if winner == first else 0.0


def _pair_data(
    items: Sequence[Any],
    votes: Mapping[str, Any],
    failures: Sequence[tuple[str, str, str, str]],
) -> dict[tuple[str, str], _PairData]:
    pairs: dict[tuple[str, str], _PairData] = {}
    for item in items:
        first, second = sorted((item.first, item.second))
        data = pairs.setdefault((first, second), _PairData(first, second, [], [], [], [], [], []))
        score = SCORES[item.judge_outcome]
        data.queries.append(item.query_id)
        data.judge.append(score if item.first == first else 1.0 - score)
        vote = votes.get(item.item_id)
        if vote is not None:
            data.voted.append(len(data.judge) - 1)
            data.human.append(_human_score(vote, first))
    for query_id, one, other, outcome in failures:
        first, second = sorted((one, other))
        data = pairs.setdefault((first, second), _PairData(first, second, [], [], [], [], [], []))
        score = SCORES[outcome]
        data.known_queries.append(query_id)
        data.known.append(score if one == first else 1.0 - score)
    return pairs


def _pair_correction(data: _PairData) -> PairCorrection:
    n_human = len(data.voted)
    base = {
        "first": data.first,
        "second": data.second,
        "n_human": n_human,
        "n_automatic": len(data.judge),
        "failed_pairs": len(data.known),
    }
    total = len(data.judge) + len(data.known)
    judge_only = (sum(data.judge) + sum(data.known)) / max(total, 1)
    if n_human == 0 or not data.judge:
        return PairCorrection(
            **base,
            estimate=judge_only,
            ci_low=float("nan"),
            ci_high=float("nan"),
            lam=1.0,
            method="the judge alone: no queue votes",
            interval="",
            judge_only=judge_only,
            votes_only={},
            enough=False,
        )
    figures = corrected_win_rate(
        np.array(data.judge), np.array(data.voted), np.array(data.human), data.known
    )
    figures.pop("std_error")
    return PairCorrection(**base, **figures, enough=VOTE_SAMPLE_FLOOR.met(n_human))


def corrected_strengths(
    pairs: Sequence[_PairData],
    lams: Mapping[tuple[str, str], float],
    rounds: int = BT_ROUNDS,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Bradley–Terry strengths from the corrected pairwise rates, with intervals from a
    bootstrap over queries (see the module's docstring). Strongest first."""
    from ragtui.experiment.stats.comparisons import bradley_terry_counts

    queries = sorted({q for data in pairs for q in (*data.queries, *data.known_queries)})
    index = {query: position for position, query in enumerate(queries)}
    prepared = []
    for data in pairs:
        lam = lams[(data.first, data.second)]
        judge = np.array(data.judge)
        residual = np.array(data.human) - lam * judge[data.voted]
        prepared.append(
            (
                data,
                np.array([index[q] for q in data.queries], dtype=int),
                lam * judge,
                np.array([index[data.queries[row]] for row in data.voted], dtype=int),
                residual,
                np.array([index[q] for q in data.known_queries], dtype=int),
                np.array(data.known),
            )
        )

    def rates(counts: np.ndarray) -> list[tuple[str, str, float, float]]:
        records = []
        for data, rows, judged, voted_rows, residual, known_rows, known in prepared:
            weight, vote_weight = counts[rows], counts[voted_rows]
            judged_count, known_count = weight.sum(), counts[known_rows].sum()
            total = judged_count + known_count
            if total == 0:
                continue
            # The residuals' mean over the drawn votes (all votes' when none was drawn).
            mean_residual = (
                (vote_weight * residual).sum() / vote_weight.sum()
                if vote_weight.sum()
                else residual.mean()
            )
            wins = (weight * judged).sum() + judged_count * mean_residual
            wins += (counts[known_rows] * known).sum()
            rate = float(np.clip(wins / total, 0.0, 1.0))
            records.append((data.first, data.second, rate * total, float(total)))
        return records

    point = bradley_terry_counts(rates(np.ones(len(queries))))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in point}
    for _ in range(rounds):
        counts = np.bincount(rng.integers(0, len(queries), len(queries)), minlength=len(queries))
        fitted = bradley_terry_counts(rates(counts.astype(float)), iterations=200)
        for name in point:
            if name in fitted:
                draws[name].append(fitted[name])
    strengths = []
    for name, value in point.items():
        low, high = np.percentile(draws[name], [2.5, 97.5]) if draws[name] else (value, value)
        strengths.append(
            {
                "name": name,
                "log_strength": value,
                "ci_low": float(low),
                "ci_high": float(high),
                "p_beats_average": float(1 / (1 + np.exp(-value))),
            }
        )
    return sorted(strengths, key=lambda row: -row["log_strength"])


def corrected_scores(
    items: Sequence[Any],
    grades: Mapping[str, Mapping[str, Any]],
    failed_answers: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Each pipeline's judged scores (0–1) corrected by the person's grades (1–5, read as
    (grade − 1)/4 like the judge's) of the answers the grade queue drew, one entry per
    (metric, pipeline): ``items`` are ``grade_queue.GradeItem``s of any kinds, each naming
    its metric (``judge_correctness``, ``judge_faithfulness``); ``grades``: item id → grade
    record. A grade corrects only its own item's metric (an item's id differs by kind). The
    same estimator as the win rates (``corrected_win_rate``): the grades of one pipeline's
    answers are, given their number, a uniform sample of its answers judged for that metric.
    A failed answer counts ``FAILED_SCORE`` (0) without a grade; an answer the judge
    abstained on enters its automatic figure at 0.5 (the correction keeps the estimate
    unbiased; a missing verdict costs width, not bias). A metric with no grade at all is
    left out: its figures stay the judge's own, reported as such elsewhere."""
    groups: dict[tuple[str, str], tuple[list[float], list[int], list[float]]] = {}
    for item in items:
        judge, rows, human = groups.setdefault((item.metric, item.pipeline), ([], [], []))
        judge.append(0.5 if item.judge_score is None else float(item.judge_score))
        record = grades.get(item.item_id)
        if record is not None:
            rows.append(len(judge) - 1)
            human.append((int(record["grade"]) - 1) / 4)
    graded = {metric for (metric, _), (_, rows, _) in groups.items() if rows}
    return [
        _corrected_score(metric, pipeline, *group, (failed_answers or {}).get(pipeline, 0))
        for (metric, pipeline), group in sorted(groups.items())
        if metric in graded
    ]


def _corrected_score(
    metric: str,
    pipeline: str,
    judge: list[float],
    rows: list[int],
    human: list[float],
    failed: int,
) -> dict[str, Any]:
    """One (metric, pipeline) entry of ``corrected_scores``."""
    from ragtui.evidence_rules import FAILED_SCORE

    base = {
        "pipeline": pipeline,
        "metric": metric,
        "n_human": len(rows),
        "n_automatic": len(judge),
        "failed_answers": failed,
    }
    judge_only = (sum(judge) + failed * FAILED_SCORE) / (len(judge) + failed)
    if not rows:
        return {
            **base,
            "estimate": judge_only,
            "judge_only": judge_only,
            "enough": False,
            "words": too_few(0, "grades"),
        }
    figures = corrected_win_rate(
        np.array(judge), np.array(rows), np.array(human), [FAILED_SCORE] * failed
    )
    figures.pop("std_error")
    figures["grades_only"] = figures.pop("votes_only")
    enough = GRADE_SAMPLE_FLOOR.met(len(rows))
    words = (
        f"{figures['estimate']:.2f} [{figures['ci_low']:.2f}, {figures['ci_high']:.2f}]"
        if enough
        else too_few(len(rows), "grades")
    )
    return {**base, **figures, "enough": enough, "words": words}


def score_label(metric: str) -> str:
    """ "judge_faithfulness" → "judged faithfulness"."""
    return metric.replace("judge_", "judged ", 1)


def _score_line(entry: Mapping[str, Any]) -> str:
    """The figures of one pipeline's corrected score, after its name."""
    if not entry["enough"]:
        return (
            f"{entry['words']}; needs {GRADE_SAMPLE_FLOOR.minimum} of your "
            f"grades (judge alone {entry['judge_only']:.2f}, uncorrected)"
        )
    grades = entry["grades_only"]
    return (
        f"{entry['words']} (the judge on {entry['n_automatic']} answers, corrected by your "
        f"{entry['n_human']} random grades; judge alone {entry['judge_only']:.2f}, your "
        f"grades alone {grades['estimate']:.2f} [{grades['ci_low']:.2f}, {grades['ci_high']:.2f}])"
    )


def score_lines(scores: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per metric graded: a head line with the number of grades, then one line per
    pipeline (correctness first, faithfulness beside it)."""
    out = []
    for metric in dict.fromkeys(entry["metric"] for entry in scores):
        mine = [entry for entry in scores if entry["metric"] == metric]
        total = sum(entry["n_human"] for entry in mine)
        if not total:
            continue
        label = score_label(metric)
        out.append(f"{label.capitalize()}, corrected by {total} random grades of answers")
        out += [f"Corrected {label} of {entry['pipeline']}: {_score_line(entry)}" for entry in mine]
    return out


@dataclass(frozen=True)
class VoteCorrection:
    """What the person's votes do for the judge's answer figures."""

    votes: int
    sighted: int
    blind: int
    used_for_correction: int  # queue votes of this run's draw
    judge_pairwise: bool  # the eval has pairwise verdicts a correction would apply to
    queue_other: int = 0  # queue votes of another run's answers or another draw
    run_id: str | None = None
    draw: dict[str, Any] | None = None
    pairs: tuple[PairCorrection, ...] = ()
    bradley_terry: tuple[dict[str, Any], ...] = ()
    bradley_terry_note: str = ""
    # Judged correctness and faithfulness corrected by the grade queue's grades
    # (``corrected_scores``).
    scores: tuple[dict[str, Any], ...] = ()

    @property
    def refused(self) -> int:
        return self.sighted + self.blind

    def refusal_sentence(self) -> str:
        if not self.refused:
            return ""
        noun = "vote was" if self.refused == 1 else "votes were"
        return (
            f"your {self.refused} compare-screen {noun} not drawn at "
            "random: used for agreement only, never for correction "
            f"({self.sighted} sighted: you saw which pipeline gave which answer; "
            f"{self.blind} blind: the pipelines were hidden, but you chose the query and the "
            "pair, so no vote has a known chance of having been asked)"
        )

    def sentence(self) -> str:
        refusal = self.refusal_sentence()
        if self.used_for_correction:
            head = (
                f"Answer judging, corrected by {self.used_for_correction} random queue votes "
                f"({self.draw_words()})"
            )
            return f"{head}; {refusal}" if refusal else head
        if not self.judge_pairwise:
            return f"Answer judging, corrected: not computed; {refusal}" if refusal else ""
        if not self.votes:
            return (
                "Answer judging, corrected: not computed; you have no votes, so the judge's "
                "win rates are its own, uncorrected (vote on a random sample: 'ragtui vote "
                "RUN_FOLDER --budget N')"
            )
        if not refusal:
            return (
                f"Answer judging, corrected: not computed; your {self.queue_other} queue votes "
                "are on other answers or another draw"
            )
        return f"Answer judging, corrected: not computed; {refusal}"

    def draw_words(self) -> str:
        draw = self.draw or {}
        return (
            f"a {draw.get('design', '?')} draw of {draw.get('budget', '?')} of "
            f"{draw.get('population', '?')} judged pairs, seed {draw.get('seed', '?')}"
        )

    def lines(self) -> list[str]:
        """The sentence, then one line per pair and the strengths (findings and report)."""
        out = [self.sentence()] if self.sentence() else []
        if self.used_for_correction:
            out += [f"Corrected win rate: {pair.sentence()}" for pair in self.pairs]
            if self.bradley_terry:
                shown = ", ".join(
                    f"{row['name']} {row['log_strength']:+.2f} "
                    f"[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
                    for row in self.bradley_terry
                )
                out.append(f"Corrected Bradley-Terry log-strengths: {shown}")
            elif self.bradley_terry_note:
                out.append(f"Corrected Bradley-Terry strengths: {self.bradley_terry_note}")
        return out + score_lines(self.scores)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pairs"] = [
            {**asdict(pair), "words": pair.words(), "sentence": pair.sentence()}
            for pair in self.pairs
        ]
        data["bradley_terry"] = list(self.bradley_terry)
        data["scores"] = [_finite(entry) for entry in self.scores]
        data["pairs"] = [_finite(pair) for pair in data["pairs"]]
        data["bradley_terry_method"] = BT_METHOD
        return {**data, "sentence": self.sentence(), "lines": self.lines()}


def _finite(value: Any) -> Any:
    """results.json is strict JSON: an interval that does not exist (one vote, none) is
    null, not NaN or Infinity."""
    if isinstance(value, dict):
        return {name: _finite(item) for name, item in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _latest_draw(queue_votes: Sequence[Any]) -> tuple[str, dict[str, Any]] | None:
    latest = max(queue_votes, key=lambda vote: vote.time, default=None)
    if latest is None:
        return None
    draw = latest.queue_draw or {}
    return f"{draw.get('design')}:{draw.get('seed')}", draw


def vote_correction(
    votes: Sequence[Any],
    judge: Mapping[str, Any] | None,
    items: Sequence[Any] = (),
    failures: Sequence[tuple[str, str, str, str]] = (),
    run_id: str | None = None,
    scores: Sequence[dict[str, Any]] = (),
) -> VoteCorrection:
    """The judge's pairwise verdicts on ``items`` (``vote_queue.VoteItem``s of run
    ``run_id``; ``failures``: pairs decided without the judge) corrected by the queue votes
    of that run's latest draw; every other vote refused with its reason."""
    reasons = [refusal_reason(vote) for vote in votes]
    queued = [vote for vote in votes if refusal_reason(vote) is None]
    mine = [vote for vote in queued if run_id is not None and vote.queue_run == run_id]
    latest = _latest_draw(mine)
    used: dict[str, Any] = {}
    draw: dict[str, Any] | None = None
    if latest is not None:
        key, draw = latest
        for vote in mine:  # the latest vote on an item wins
            vote_draw = vote.queue_draw or {}
            if f"{vote_draw.get('design')}:{vote_draw.get('seed')}" == key:
                used[vote.queue_item] = vote
        # The largest budget voted on of this draw (a larger budget extends a smaller one).
        budgets = [
            (vote.queue_draw or {}).get("budget", 0) for vote in used.values() if vote.queue_draw
        ]
        draw = {**draw, "budget": max(budgets, default=draw.get("budget"))}
        draw = {name: draw.get(name) for name in ("design", "seed", "budget", "population")}
    item_ids = {item.item_id for item in items}
    used = {item_id: vote for item_id, vote in used.items() if item_id in item_ids}
    pairs: tuple[PairCorrection, ...] = ()
    strengths: tuple[dict[str, Any], ...] = ()
    note = ""
    if used:
        data = _pair_data(items, used, failures)
        pairs = tuple(_pair_correction(one) for one in data.values())
        queries = {q for one in data.values() for q in one.queries}
        if not all(pair.enough for pair in pairs):
            note = (
                f"too few votes to tell: every pair needs {VOTE_SAMPLE_FLOOR.minimum} queue votes"
            )
        elif not PAIRWISE_FLOOR.met(len(queries)):
            note = too_few(len(queries))
        else:
            lams = {(pair.first, pair.second): pair.lam for pair in pairs}
            strengths = tuple(corrected_strengths(list(data.values()), lams))
    return VoteCorrection(
        votes=len(reasons),
        sighted=reasons.count(SIGHTED),
        blind=reasons.count(CHOSEN),
        used_for_correction=len(used),
        judge_pairwise=bool(judge) and "pairwise" in (judge or {}).get("kinds", []),
        queue_other=len(queued) - len(used),
        run_id=run_id,
        draw=draw if used else None,
        pairs=pairs,
        bradley_terry=strengths,
        bradley_terry_note=note,
        scores=tuple(scores),
    )
