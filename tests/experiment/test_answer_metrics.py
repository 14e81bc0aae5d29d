"""Answer metrics: SQuAD's normalization, EM/F1, answer recall, groundedness, citations."""

import pytest

from ragtui.experiment.run.answer_metrics import (
    answer_figures,
    contains_reference,
    exact_match,
    grounding,
    normalize_answer,
    token_f1,
)

PASSAGES = [
    "The HB-15 battery module weighs 118 kg and mounts on a wall bracket.",
    "Error E-412 means the inverter lost contact with the grid meter.",
]


def test_normalization_drops_case_punctuation_and_articles() -> None:
    assert normalize_answer("The  HB-15, an Inverter!") == "hb15 inverter"


@pytest.mark.parametrize(
    ("answer", "references", "em", "f1"),
    [
        ("118 kg", ["118 kg"], 1.0, 1.0),
        ("It weighs 118 kg.", ["118 kg"], 0.0, 2 * (2 / 4) * 1.0 / (2 / 4 + 1.0)),
        ("heavy", ["118 kg", "about 118 kilograms"], 0.0, 0.0),
        ("about 118 kilograms", ["118 kg", "about 118 kilograms"], 1.0, 1.0),
        ("the", ["a"], 1.0, 1.0),  # both normalize to nothing, as SQuAD scores it
    ],
)
def test_exact_match_and_f1(answer: str, references: list[str], em: float, f1: float) -> None:
    assert exact_match(answer, references) == em
    assert token_f1(answer, references) == pytest.approx(f1)


def test_answer_recall_needs_the_whole_reference_on_word_boundaries() -> None:
    assert contains_reference("The module weighs 118 kg in total.", ["118 kg"]) == 1.0
    assert contains_reference("The module weighs 1118 kg.", ["118 kg"]) == 0.0


def test_groundedness_counts_supported_sentences() -> None:
    answer = "The HB-15 weighs 118 kg [1]. It was designed on the moon by penguins [2]."
    result = grounding(answer, PASSAGES)
    assert result.sentences == 2
    assert result.groundedness == 0.5
    # [1] supports its sentence; [2] exists but does not support the invented claim.
    assert result.citations == 2 and result.citation_validity == 0.5


def test_citations_to_missing_passages_are_invalid() -> None:
    result = grounding("Error E-412 means the inverter lost the grid meter [2, 7].", PASSAGES)
    assert result.citations == 2 and result.citation_validity == 0.5
    assert result.groundedness == 1.0


def test_figures_without_references_leave_reference_metrics_empty() -> None:
    figures = answer_figures("The HB-15 weighs 118 kg.", None, PASSAGES)
    assert figures["f1"] is None and figures["exact_match"] is None
    assert figures["groundedness"] == 1.0 and figures["citation_validity"] is None
    with_reference = answer_figures("The HB-15 weighs 118 kg.", ["118 kg"], PASSAGES)
    assert with_reference["answer_recall"] == 1.0
    assert with_reference["context_has_answer"] == 1.0
