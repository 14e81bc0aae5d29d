"""Bytes of a text file to text: UTF-8, a byte-order mark, a declared charset, or detected.

Real folders hold HTML pages that declare ``charset=iso-8859-1`` and old Latin-1 or
Windows-1252 text; people expect those read, not skipped. Passage offsets refer to the
decoded text, so whichever encoding is used, spans stay true.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# Where a page or an XML file says its encoding: <meta charset=…>, the http-equiv form
# (content="text/html; charset=…") and <?xml … encoding="…"?>. Only the start is read,
# as browsers do.
_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_DECLARATION_BYTES = 4096
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class NotText(ValueError):
    """The bytes are not text ragtui can read; the message says why, for a warning."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec's name, e.g. "utf-8", "iso8859-1", "cp1252"
    how: str  # "", "byte-order mark", "declared", "detected"

    @property
    def note(self) -> str | None:
        """What to tell the user when the file was not plain UTF-8, else None."""
        if self.encoding in ("utf-8", "utf-8-sig"):
            return None
        return f"{self.encoding} ({self.how})"


def _codec(name: bytes | str) -> str | None:
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_encoding(raw: bytes) -> str | None:
    """The encoding an HTML or XML file declares near its start, if a known one."""
    match = _DECLARED.search(raw[:_DECLARATION_BYTES])
    if match is None:
        return None
    return _codec(match.group(1) or match.group(2))


def decode_text(raw: bytes, markup: bool = False) -> Decoded:
    """Decode a file's bytes; ``markup`` allows an HTML/XML charset declaration to count.

    Order: a byte-order mark, then UTF-8, then the declared charset, then
    charset-normalizer's detection. Raises NotText when none fits.
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return Decoded(raw.decode(codec), _codec(codec) or codec, "byte-order mark")
            except UnicodeDecodeError as error:
                raise NotText(
                    f"is not valid {codec.upper()} text (bad bytes at offset {error.start})"
                ) from None
    if b"\0" in raw[:8192]:
        raise NotText("looks binary (contains NUL bytes)")
    try:
        return Decoded(raw.decode("utf-8"), "utf-8", "")
    except UnicodeDecodeError as error:
        first_bad = error.start
    if markup:
        declared = declared_encoding(raw)
        if declared is not None and declared != "utf-8":
            try:
                return Decoded(raw.decode(declared), declared, "declared")
            except UnicodeDecodeError:
                pass  # the declaration is wrong: detect instead
    from charset_normalizer import from_bytes

    # UTF-16 and UTF-32 without a byte-order mark are left out: short Latin-1 or binary
    # snippets "fit" them as strings of CJK characters, and such files are rare in practice.
    matches = from_bytes(
        raw, cp_exclusion=["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"]
    )
    best = matches.best()
    if best is not None and best.encoding:
        # Single-byte text fits several code pages equally well (cp1250 and cp1252 read
        # French Latin-1 with the same score; a short snippet "fits" Urdu's cp1006 better
        # by language). Among the cleanest fits prefer windows-1252, which is what browsers
        # take undeclared Western text and ISO-8859-1 to be.
        # (A match lists the code pages that decode the bytes to the same text.)
        cleanest = {
            name
            for match in matches
            if match.chaos <= best.chaos
            for name in (match.encoding, *match.could_be_from_charset)
        }
        chosen = "cp1252" if "cp1252" in cleanest else best.encoding
        codec = _codec(chosen) or chosen
        try:
            return Decoded(raw.decode(codec), codec, "detected")
        except (UnicodeDecodeError, LookupError):
            pass
    raise NotText(f"is not UTF-8 text (bad byte at offset {first_bad}) and no other encoding fits")
