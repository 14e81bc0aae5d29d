from hypothesis import given
from hypothesis import strategies as st

from ragtui.safe_text import printable


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
