import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragtui.corpus import ChunkingSettings, Document, chunk_document
from ragtui.errors import CorpusError


def words(count: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{number}" for number in range(count))


def test_short_document_is_one_passage_with_stable_id() -> None:
    document = Document("notes/a.md", "# Title\n\nShort body.", "notes/a.md")
    passages = chunk_document(document, ChunkingSettings())
    assert [p.passage_id for p in passages] == ["notes/a.md#0"]
    assert passages[0].text == document.text


def test_paragraphs_pack_up_to_budget_with_overlap() -> None:
    paragraphs = [words(40, f"p{n}_") for n in range(6)]
    document = Document("d", "\n\n".join(paragraphs), "d")
    passages = chunk_document(document, ChunkingSettings(max_tokens=100, overlap_tokens=45))
    assert len(passages) > 1
    for passage in passages:
        assert len(passage.text.split()) <= 100
        assert document.text[passage.start : passage.end] == passage.text
    # Each later passage starts with the last paragraph of the one before (overlap).
    for before, after in itertools.pairwise(passages):
        assert after.start < before.end


def test_long_paragraph_is_cut_into_overlapping_windows() -> None:
    document = Document("d", words(500), "d")
    passages = chunk_document(document, ChunkingSettings(max_tokens=100, overlap_tokens=20))
    assert all(len(p.text.split()) <= 100 for p in passages)
    assert passages[0].text.split()[-20:] == passages[1].text.split()[:20]
    assert passages[-1].text.split()[-1] == "w499"


def test_heading_starts_a_new_passage_once_half_full() -> None:
    text = words(60, "a") + "\n## Next section\n" + words(20, "b")
    passages = chunk_document(Document("d", text, "d"), ChunkingSettings(100, 10))
    assert len(passages) == 2
    assert passages[1].text.startswith("## Next section")


@pytest.mark.parametrize(("max_tokens", "overlap"), [(4, 0), (100, 50), (100, -1)])
def test_bad_settings_are_rejected(max_tokens: int, overlap: int) -> None:
    with pytest.raises(CorpusError, match="chunking"):
        ChunkingSettings(max_tokens, overlap)


paragraph = st.lists(
    st.from_regex(r"[A-Za-z0-9#=\-]{1,12}", fullmatch=True), min_size=1, max_size=60
)


@settings(max_examples=60, deadline=None)
@given(
    paragraphs=st.lists(paragraph, min_size=1, max_size=12),
    max_tokens=st.integers(8, 80),
    separator=st.sampled_from(["\n\n", "\n \n", "\n\n\n", "\n"]),
)
def test_passages_cover_every_word_within_budget(
    paragraphs: list[list[str]], max_tokens: int, separator: str
) -> None:
    text = separator.join(" ".join(p) for p in paragraphs)
    chunking = ChunkingSettings(max_tokens, max_tokens // 4)
    passages = chunk_document(Document("d", text, "d"), chunking)
    covered = set()
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert len(passage.text.split()) <= max_tokens
        covered.update(
            m.start()
            for m in re.finditer(r"\S+", text[: passage.end])
            if m.start() >= passage.start
        )
    assert covered == {m.start() for m in re.finditer(r"\S+", text)}
    # Same input, same ids: labels keep pointing at the same text.
    again = chunk_document(Document("d", text, "d"), chunking)
    assert [(p.passage_id, p.start, p.end) for p in again] == [
        (p.passage_id, p.start, p.end) for p in passages
    ]
