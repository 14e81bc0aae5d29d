"""TREC id columns: any id comes back exactly, and none splits a line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ragtui.judging.trec_ids import from_trec_id, trec_id


@given(st.text(max_size=40))
def test_any_id_round_trips_as_one_column(identifier: str) -> None:
    column = trec_id(identifier)
    assert column.split() == ([column] if column else [])
    assert from_trec_id(column) == identifier


def test_whitespace_beyond_latin1_round_trips() -> None:
    # U+2028 and U+3000 are whitespace above U+00FF: two hex digits cannot hold them.
    for identifier in ("q\u20281", "doc\u3000a", "a%b c\u00a0d"):
        assert from_trec_id(trec_id(identifier)) == identifier


def test_columns_written_before_utf8_encoding_still_read() -> None:
    # The earlier writer put one %XX per character below U+0100.
    assert from_trec_id("a%A0b%25c%85%A0") == "a\u00a0b%c\u0085\u00a0"
