"""Attribution on synthetic grids with known effects, and against statsmodels' ANOVA."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from ragtui.experiment.stats.attribution import attribute, describe

RETRIEVERS = ("bm25", "dense", "hybrid")
GENERATORS = ("extractive", "small", "large")


def grid(
    retriever_effect=(0.0, 0.0, 0.0),
    generator_effect=(0.0, 0.0, 0.0),
    interaction=None,
    queries: int = 40,
    noise: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.5, 0.15, size=(queries, 1, 1))
    return (
        difficulty
        + np.asarray(retriever_effect)[None, :, None]
        + np.asarray(generator_effect)[None, None, :]
        + (np.zeros((3, 3)) if interaction is None else np.asarray(interaction))[None, :, :]
        + rng.normal(0, noise, size=(queries, 3, 3))
    )


def test_the_table_equals_statsmodels_two_way_anova_with_query_blocks() -> None:
    y = grid((0.0, 0.05, 0.02), (0.0, 0.01, 0.03), np.diag([0.02, -0.02, 0.0]), queries=25)
    rows = [
        {"y": y[q, r, g], "query": f"q{q}", "retriever": RETRIEVERS[r], "generator": GENERATORS[g]}
        for q in range(y.shape[0])
        for r in range(3)
        for g in range(3)
    ]
    model = smf.ols("y ~ C(query) + C(retriever) * C(generator)", data=pd.DataFrame(rows)).fit()
    reference = sm.stats.anova_lm(model, typ=2)
    names = {
        "query": "C(query)",
        "retriever": "C(retriever)",
        "generator": "C(generator)",
        "interaction": "C(retriever):C(generator)",
        "residual": "Residual",
    }
    result = attribute("f1", y, RETRIEVERS, GENERATORS)
    for term in result.terms:
        row = reference.loc[names[term.name]]
        assert term.sum_sq == pytest.approx(row["sum_sq"], rel=1e-9, abs=1e-12)
        assert term.df == int(row["df"])
        if term.f_value is not None:
            assert term.f_value == pytest.approx(row["F"], rel=1e-9)
            assert term.p_value == pytest.approx(row["PR(>F)"], rel=1e-6, abs=1e-15)


def test_a_strong_retriever_effect_and_no_generator_effect() -> None:
    y = grid(retriever_effect=(0.0, 0.15, 0.05))
    result = attribute("f1", y, RETRIEVERS, GENERATORS)
    assert result.retriever is not None and result.generator is not None
    assert result.retriever.size == pytest.approx(0.15, abs=0.02)
    assert result.retriever.p_value < 1e-6
    assert result.retriever.ci_low > 0.1
    assert result.generator.p_value > 0.01
    assert result.generator.size < 0.03
    assert result.generator.ci_low < 0.01  # the generator contrast does not hold up
    assert result.interaction is not None and result.interaction.p_value > 0.01
    assert result.retriever.share > 0.9
    words = describe(result, "answer F1")
    assert words[0].startswith("Changing the retriever (bm25 → dense) moved answer F1 by 1")
    assert "not significant" in words[1]
    assert "each can be tuned on its own" in words[2]


def test_a_generator_effect_alone() -> None:
    y = grid(generator_effect=(0.0, 0.1, 0.2), seed=1)
    result = attribute("f1", y, RETRIEVERS, GENERATORS)
    assert result.generator.size == pytest.approx(0.2, abs=0.02)
    assert result.generator.p_value < 1e-6
    assert result.retriever.p_value > 0.01


def test_an_interaction_is_found_and_called_tuning_as_a_unit() -> None:
    # dense helps the large generator a lot and hurts the extractive one: no main effect.
    interaction = np.array([[0.0, 0.0, 0.0], [-0.1, 0.0, 0.1], [0.0, 0.0, 0.0]])
    y = grid(interaction=interaction, seed=2)
    result = attribute("f1", y, RETRIEVERS, GENERATORS)
    assert result.interaction is not None
    assert result.interaction.p_value < 1e-6
    assert result.interaction.size == pytest.approx(0.2, abs=0.03)
    assert result.interaction_cells is not None
    assert set(result.interaction_cells[2:]) == {"extractive", "large"}
    assert "dense" in result.interaction_cells[:2]
    assert result.retriever.p_value > 0.01
    assert "tune them as a unit" in describe(result, "answer F1")[-1]


def test_one_generator_leaves_only_the_retriever_term() -> None:
    y = grid(retriever_effect=(0.0, 0.1, 0.0))[:, :, :1]
    result = attribute("f1", y, RETRIEVERS, GENERATORS[:1])
    assert result.generator is None and result.interaction is None
    assert [term.name for term in result.terms] == ["query", "retriever", "residual"]
    assert result.retriever.p_value < 1e-6


def test_identical_pipelines_give_no_effect_and_no_crash() -> None:
    y = np.repeat(np.linspace(0, 1, 10)[:, None, None], 3, axis=1).repeat(3, axis=2)
    result = attribute("f1", y, RETRIEVERS, GENERATORS)
    assert result.retriever.size == 0.0
    assert result.retriever.p_value is None  # no residual variation: no test possible
    assert "no test possible" in describe(result, "answer F1")[0]
