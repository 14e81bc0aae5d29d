"""Files that are not UTF-8 are read in the encoding they declare or that fits them.

Seen in a real folder of 1,494 documentation files: HTML pages declaring
``charset=iso-8859-1`` and old Latin-1 text, all skipped before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.corpus import load_corpus
from ragtui.corpus.decoding import NotText, decode_text

FRENCH = (
    "Le café de la gare est très fréquenté à l'heure du déjeuner. Les habitués "
    "commandent un crème et une tartine, puis repartent vers le théâtre."
)


def write(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


def test_declared_detected_and_bom_encodings_are_read_with_a_note(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        "<title>Grüße</title></head><body><p>Schöne Grüße aus Köln und Zürich.</p></body></html>"
    )
    write(tmp_path, "page.html", page.encode("latin-1"))
    write(tmp_path, "old.txt", FRENCH.encode("latin-1"))
    write(tmp_path, "quotes.txt", "He said \u201cjust wait\u201d \u2013 and left.".encode("cp1252"))
    write(tmp_path, "wide.txt", "UTF-32 text with a mark: naïve".encode("utf-32"))
    write(tmp_path, "plain.md", "Ordinary UTF-8: naïve café.".encode())
    corpus = load_corpus(tmp_path)
    texts = {document.doc_id: document.text for document in corpus.documents}
    assert "Schöne Grüße aus Köln und Zürich." in texts["page.html"]
    assert texts["old.txt"] == FRENCH
    assert "\u201cjust wait\u201d" in texts["quotes.txt"]
    assert texts["wide.txt"] == "UTF-32 text with a mark: naïve"
    notes = "\n".join(corpus.warnings)
    assert "read page.html as iso8859-1 (declared)" in notes
    assert "read old.txt as" in notes and "(detected)" in notes
    assert "read wide.txt as utf-32 (byte-order mark)" in notes
    assert "plain.md" not in notes  # UTF-8 needs no note
    # Offsets refer to the decoded text.
    for passage in corpus.passages:
        document = next(d for d in corpus.documents if d.doc_id == passage.doc_id)
        assert document.text[passage.start : passage.end] == passage.text


def test_a_wrong_declaration_falls_back_to_detection() -> None:
    raw = ('<meta charset="utf-8"><p>' + FRENCH + "</p>").encode("latin-1")
    decoded = decode_text(raw, markup=True)
    assert FRENCH in decoded.text and decoded.how == "detected"


def test_binary_is_still_skipped(tmp_path: Path) -> None:
    write(tmp_path, "blob.txt", bytes(range(256)) * 8)
    write(tmp_path, "good.txt", b"Readable.")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good.txt"]
    assert any(w.startswith("skipped blob.txt") for w in corpus.warnings)
    try:
        decode_text(bytes(range(256)) * 8)
    except NotText as reason:
        assert "binary" in str(reason)
    else:
        raise AssertionError("binary bytes were taken for text")


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("café", "latin-1"),  # too short for a language guess: windows-1252 wins
        ("Schöne Grüße", "latin-1"),
        ("Привет мир, как дела? Это обычный текст.", "cp1251"),
        ("Zażółć gęślą jaźń, to jest polski tekst.", "cp1250"),
        ("Ελληνικά κείμενο εδώ και εκεί.", "iso8859-7"),
    ],
)
def test_undeclared_single_byte_text_is_detected(text: str, codec: str) -> None:
    assert decode_text(text.encode(codec)).text == text
