from hypothesis import given
from hypothesis import strategies as st

from ragtui.display.safe_text import printable


def test_escape_sequences_and_controls_are_removed() -> None:
    hostile = "ok\x1b[31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07 bell\x07 nul\x00 end\r\n"
    assert printable(hostile) == "okred link bell nul end\n"


def test_markup_is_left_as_text() -> None:
    assert printable("[bold]x[/] [link=http://a]y[/link]") == "[bold]x[/] [link=http://a]y[/link]"


@given(st.text())
def test_output_never_contains_control_characters(text: str) -> None:
    cleaned = printable(text)
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned)
    assert not any(0x7F <= ord(ch) <= 0x9F for ch in cleaned)


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@given(st.text())
def test_bidi_controls_are_removed(text: str) -> None:
    assert not any(ch in BIDI for ch in printable(text + "\u202eevil\u2066"))


@given(st.dictionaries(st.text(), st.text()))
def test_json_lines_carry_the_data_and_nothing_a_terminal_acts_on(record: dict) -> None:
    import json

    from ragtui.display.safe_text import json_line

    line = json_line(record)
    assert json.loads(line) == record
    assert "\n" not in line
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in BIDI for ch in line)
