import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragtui.config.specs import (
    GeneratorSpec,
    RetrieverSpec,
    parse_generator_spec,
    parse_pipeline_spec,
    parse_retriever_spec,
)
from ragtui.errors import SpecError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bm25", RetrieverSpec("bm25")),
        ("dense", RetrieverSpec("dense")),
        ("dense:all-MiniLM-L6-v2", RetrieverSpec("dense", "all-MiniLM-L6-v2")),
        ("dense:/models/my encoder", RetrieverSpec("dense", "/models/my encoder")),
        ("hybrid", RetrieverSpec("hybrid")),
    ],
)
def test_retriever_specs_parse(text: str, expected: RetrieverSpec) -> None:
    assert parse_retriever_spec(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["", "bm26", "bm25:x", "dense:", "BM25 dense"])
def test_bad_retriever_specs_name_the_spec(text: str) -> None:
    with pytest.raises(SpecError, match="retriever"):
        parse_retriever_spec(text)


def test_generator_model_keeps_its_own_colons() -> None:
    pipeline = parse_pipeline_spec("dense:all-MiniLM-L6-v2+ollama:llama3.2:1b")
    assert pipeline.retriever == RetrieverSpec("dense", "all-MiniLM-L6-v2")
    assert pipeline.generator == GeneratorSpec("ollama", "llama3.2:1b")
    assert str(pipeline) == "dense:all-MiniLM-L6-v2+ollama:llama3.2:1b"


@pytest.mark.parametrize("text", ["bm25", "+extractive", "bm25+", "bm25+:x"])
def test_bad_pipeline_specs(text: str) -> None:
    with pytest.raises(SpecError):
        parse_pipeline_spec(text)


model_names = st.text(
    alphabet=st.characters(blacklist_characters="+", blacklist_categories=("Cs", "Cc")),
    min_size=1,
).filter(lambda name: name.strip() == name)


@given(kind=st.sampled_from(["dense", "hybrid"]), model=model_names, generator=model_names)
def test_pipeline_specs_round_trip(kind: str, model: str, generator: str) -> None:
    spec_text = f"{kind}:{model}+openai:{generator}"
    parsed = parse_pipeline_spec(spec_text)
    assert str(parsed) == spec_text
    assert parse_generator_spec(str(parsed.generator)) == parsed.generator


@pytest.mark.parametrize(
    "text", ["bm25:okapi", "static", "dense:minilm-int8", "hybrid:static", "dense:static"]
)
def test_new_retriever_specs_round_trip(text: str) -> None:
    assert str(parse_retriever_spec(text)) == text


@pytest.mark.parametrize("text", ["bm25:lucene", "static:minilm"])
def test_bad_variants_say_what_to_write(text: str) -> None:
    with pytest.raises(SpecError, match="write"):
        parse_retriever_spec(text)
