"""Which component drives the outcome: a two-way analysis of the grid with queries as blocks.

For one metric, ``y[q, r, g]`` is query q's score under retriever r and generator g. The
model is ``y = mean + query_q + retriever_r + generator_g + (retriever×generator)_rg + e``:
every query is a block that sees every pipeline, so differences between queries (some
are just harder) are taken out before the components are compared. In a complete grid
the sums of squares split exactly (it is the same table statsmodels' ``anova_lm`` gives
for ``y ~ C(query) + C(retriever) * C(generator)``), and each component gets an F test
against the query × pipeline residual.

Effects are reported in the metric's own units, which is what a user can act on:
the *retriever effect* is the best minus the worst retriever's mean over all generators
and queries, the *generator effect* likewise, and the *interaction* is the largest
difference of differences in any 2×2 sub-grid (how much more a retriever change gains
under one generator than under another). The levels compared are chosen on the full
data; their 95% intervals come from resampling queries (whole blocks) with replacement,
so an effect that does not hold up shows an interval reaching zero or below. Choosing the
largest contrast favours it a little; the F test of each term is the guard against that.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class Term:
    name: str  # "query", "retriever", "generator", "interaction", "residual"
    sum_sq: float
    df: int
    f_value: float | None
    p_value: float | None
    partial_eta_sq: float | None


@dataclass(frozen=True)
class Effect:
    """A component's effect in the metric's units with a 95% interval over queries."""

    size: float
    ci_low: float
    ci_high: float
    p_value: float | None
    share: float  # of the variance the components (not the queries) explain


@dataclass(frozen=True)
class Attribution:
    metric: str
    queries: int
    retrievers: tuple[str, ...]
    generators: tuple[str, ...]
    terms: tuple[Term, ...]
    retriever: Effect | None
    generator: Effect | None
    interaction: Effect | None
    cell_means: np.ndarray  # [retriever, generator]
    # The 2×2 sub-grid with the largest interaction: (r1, r2, g1, g2), r1 → r2 gains more
    # under g2 than under g1.
    interaction_cells: tuple[str, str, str, str] | None = None

    def term(self, name: str) -> Term | None:
        return next((term for term in self.terms if term.name == name), None)


def _sums_of_squares(y: np.ndarray) -> dict[str, float]:
    grand = y.mean()
    query_means = y.mean(axis=(1, 2))
    retriever_means = y.mean(axis=(0, 2))
    generator_means = y.mean(axis=(0, 1))
    cell_means = y.mean(axis=0)
    n_queries, n_retrievers, n_generators = y.shape
    interaction = cell_means - retriever_means[:, None] - generator_means[None, :] + grand
    parts = {
        "query": n_retrievers * n_generators * float(np.sum((query_means - grand) ** 2)),
        "retriever": n_queries * n_generators * float(np.sum((retriever_means - grand) ** 2)),
        "generator": n_queries * n_retrievers * float(np.sum((generator_means - grand) ** 2)),
        "interaction": n_queries * float(np.sum(interaction**2)),
    }
    parts["residual"] = max(0.0, float(np.sum((y - grand) ** 2)) - sum(parts.values()))
    return parts


@dataclass(frozen=True)
class _Contrasts:
    """Which levels the effects compare, chosen once on the full data."""

    retriever: tuple[int, int] | None  # (worst, best)
    generator: tuple[int, int] | None
    interaction: tuple[int, int, int, int] | None  # r1, r2, g1, g2


def _choose_contrasts(y: np.ndarray) -> _Contrasts:
    retriever_means = y.mean(axis=(0, 2))
    generator_means = y.mean(axis=(0, 1))
    cells = y.mean(axis=0)
    n_retrievers, n_generators = cells.shape
    interaction = None
    if n_retrievers > 1 and n_generators > 1:
        best = 0.0
        for r1, r2 in itertools.combinations(range(n_retrievers), 2):
            for g1, g2 in itertools.combinations(range(n_generators), 2):
                value = (cells[r2, g2] - cells[r1, g2]) - (cells[r2, g1] - cells[r1, g1])
                if interaction is None or abs(value) > best:
                    best = abs(value)
                    # Orient it so the contrast is positive on the full data.
                    interaction = (r1, r2, g1, g2) if value >= 0 else (r2, r1, g1, g2)
    return _Contrasts(
        retriever=(int(np.argmin(retriever_means)), int(np.argmax(retriever_means)))
        if n_retrievers > 1
        else None,
        generator=(int(np.argmin(generator_means)), int(np.argmax(generator_means)))
        if n_generators > 1
        else None,
        interaction=interaction,
    )


def _contrast_values(y: np.ndarray, chosen: _Contrasts) -> tuple[float, float, float]:
    """best − worst retriever, best − worst generator, and the 2×2 difference of differences.

    The levels are fixed, so under resampling a contrast can shrink or change sign: its
    interval says honestly whether the difference holds up.
    """
    retriever_means = y.mean(axis=(0, 2))
    generator_means = y.mean(axis=(0, 1))
    cells = y.mean(axis=0)
    values = [float("nan")] * 3
    if chosen.retriever:
        worst, best = chosen.retriever
        values[0] = float(retriever_means[best] - retriever_means[worst])
    if chosen.generator:
        worst, best = chosen.generator
        values[1] = float(generator_means[best] - generator_means[worst])
    if chosen.interaction:
        r1, r2, g1, g2 = chosen.interaction
        values[2] = float((cells[r2, g2] - cells[r1, g2]) - (cells[r2, g1] - cells[r1, g1]))
    return values[0], values[1], values[2]


def anova_terms(y: np.ndarray) -> tuple[Term, ...]:
    """The blocked two-way table; terms with no degrees of freedom are left out."""
    n_queries, n_retrievers, n_generators = y.shape
    sums = _sums_of_squares(y)
    dfs = {
        "query": n_queries - 1,
        "retriever": n_retrievers - 1,
        "generator": n_generators - 1,
        "interaction": (n_retrievers - 1) * (n_generators - 1),
    }
    dfs["residual"] = (n_queries - 1) * (n_retrievers * n_generators - 1)
    residual_ms = sums["residual"] / dfs["residual"] if dfs["residual"] else 0.0
    terms = []
    for name in ("query", "retriever", "generator", "interaction"):
        if dfs[name] == 0:
            continue
        f_value = p_value = eta = None
        if dfs["residual"] and residual_ms > 0:
            f_value = (sums[name] / dfs[name]) / residual_ms
            p_value = float(stats.f.sf(f_value, dfs[name], dfs["residual"]))
        if sums[name] + sums["residual"] > 0:
            eta = sums[name] / (sums[name] + sums["residual"])
        terms.append(Term(name, sums[name], dfs[name], f_value, p_value, eta))
    terms.append(Term("residual", sums["residual"], dfs["residual"], None, None, None))
    return tuple(terms)


def attribute(
    metric: str,
    y: np.ndarray,
    retrievers: Sequence[str],
    generators: Sequence[str],
    seed: int = 0,
    samples: int = BOOTSTRAP_SAMPLES,
) -> Attribution:
    """Attribution for one metric; ``y`` has shape [queries, retrievers, generators]."""
    if y.ndim != 3 or y.shape[1:] != (len(retrievers), len(generators)):
        raise ValueError(f"scores of shape {y.shape} do not match the grid")
    terms = anova_terms(y)
    chosen = _choose_contrasts(y)
    sizes = _contrast_values(y, chosen)
    rng = np.random.default_rng(seed)
    boot = np.array(
        [
            _contrast_values(y[rng.integers(0, y.shape[0], size=y.shape[0])], chosen)
            for _ in range(samples)
        ]
    )
    component_ss = sum(term.sum_sq for term in terms if term.name not in {"query", "residual"})
    effects: list[Effect | None] = []
    for position, name in enumerate(("retriever", "generator", "interaction")):
        term = next((term for term in terms if term.name == name), None)
        if term is None:
            effects.append(None)
            continue
        low, high = np.percentile(boot[:, position], [2.5, 97.5])
        effects.append(
            Effect(
                size=sizes[position],
                ci_low=float(low),
                ci_high=float(high),
                p_value=term.p_value,
                share=term.sum_sq / component_ss if component_ss > 0 else 0.0,
            )
        )
    return Attribution(
        metric=metric,
        queries=y.shape[0],
        retrievers=tuple(retrievers),
        generators=tuple(generators),
        terms=terms,
        retriever=effects[0],
        generator=effects[1],
        interaction=effects[2],
        cell_means=y.mean(axis=0),
        interaction_cells=None
        if chosen.interaction is None
        else (
            retrievers[chosen.interaction[0]],
            retrievers[chosen.interaction[1]],
            generators[chosen.interaction[2]],
            generators[chosen.interaction[3]],
        ),
    )


def _points(value: float, scale: float) -> str:
    return f"{value * scale:.1f}"


def describe(attribution: Attribution, label: str, scale: float = 100.0) -> list[str]:
    """Findings in plain words, in the metric's points (×100 for 0–1 metrics)."""
    lines = []
    for name, effect, what in (
        ("retriever", attribution.retriever, "changing the retriever"),
        ("generator", attribution.generator, "changing the generator"),
    ):
        if effect is None:
            continue
        means = attribution.cell_means.mean(axis=1 if name == "retriever" else 0)
        names = attribution.retrievers if name == "retriever" else attribution.generators
        if np.ptp(means) == 0:  # every level scores the same: there is no best or worst
            lines.append(
                f"{what.capitalize()} left {label} unchanged: each of the {len(names)} "
                f"{name}s averages {_points(float(means[0]), scale)} points "
                f"({_significance(effect.p_value, name)})."
            )
            continue
        best, worst = names[int(np.argmax(means))], names[int(np.argmin(means))]
        both_vary = attribution.retriever is not None and attribution.generator is not None
        share = f"; {effect.share:.0%} of the variation the components explain" if both_vary else ""
        lines.append(
            f"{what.capitalize()} ({worst} → {best}) moved {label} by "
            f"{_points(effect.size, scale)} points (95% CI {_points(effect.ci_low, scale)} to "
            f"{_points(effect.ci_high, scale)}; {_significance(effect.p_value, name)}{share})."
        )
    if attribution.interaction is not None and attribution.interaction_cells is not None:
        effect = attribution.interaction
        r1, r2, g1, g2 = attribution.interaction_cells
        cells = attribution.cell_means
        index_r = {name: i for i, name in enumerate(attribution.retrievers)}
        index_g = {name: i for i, name in enumerate(attribution.generators)}
        gain_g1 = cells[index_r[r2], index_g[g1]] - cells[index_r[r1], index_g[g1]]
        gain_g2 = cells[index_r[r2], index_g[g2]] - cells[index_r[r1], index_g[g2]]
        verdict = (
            "the components do not act independently, so tune them as a unit"
            if effect.p_value is not None and effect.p_value < 0.05
            else "no evidence that the components interact: each can be tuned on its own"
        )
        contrasts = (len(attribution.retrievers) * (len(attribution.retrievers) - 1) // 2) * (
            len(attribution.generators) * (len(attribution.generators) - 1) // 2
        )
        picked = (
            f"the largest of {contrasts} 2×2 contrasts, so its interval is optimistic; "
            if contrasts > 1
            else ""
        )
        lines.append(
            f"Interaction: going from {r1} to {r2} changes {label} by "
            f"{_points(gain_g1, scale)} points with {g1} but {_points(gain_g2, scale)} with "
            f"{g2} (difference {_points(effect.size, scale)}, {picked}95% CI "
            f"{_points(effect.ci_low, scale)} to {_points(effect.ci_high, scale)}; "
            f"{_significance(effect.p_value, 'interaction')}) — {verdict}."
        )
    return lines


def _significance(p_value: float | None, term: str) -> str:
    if p_value is None:
        return "no test possible"
    shown = "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
    return f"F test for the {term} {shown}" + ("" if p_value < 0.05 else ", not significant")
