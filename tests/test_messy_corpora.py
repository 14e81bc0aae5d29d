"""Random messy folders (hypothesis): whatever is in them, reading never crashes or hangs,
each bad file is skipped with one warning naming it, every good file's text is covered by
its passages, and ids survive the trip through TREC runs and qrels."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.corpus.loading import load_qrels
from ragtui.errors import CorpusError
from ragtui.judging.trec_ids import from_trec_id, trec_id

GOOD = ("text", "utf16", "huge", "long-line")
MIXED = "<read in a detected encoding, or skipped>"
BAD = ("binary", "bad-utf8", "empty", "blank", "fifo", "dangling-link", "unreadable")
RUNS_AS_ROOT = os.geteuid() == 0

# Names as people make them: spaces, non-ASCII, a newline or tab now and then.
name_text = st.text(
    alphabet=st.sampled_from("abcxyz019 -_éßλ中\n\t()'"), min_size=1, max_size=12
).filter(lambda name: not name.startswith(".") and name.strip() == name and name.strip())
words = st.lists(
    st.text(alphabet="abcdefghij", min_size=1, max_size=9), min_size=1, max_size=60
).map(" ".join)
paragraphs = st.lists(words, min_size=1, max_size=8).map("\n\n".join)


@dataclass(frozen=True)
class Entry:
    folders: tuple[str, ...]
    name: str
    suffix: str
    kind: str
    text: str


entries = st.builds(
    Entry,
    folders=st.lists(name_text, max_size=6).map(tuple),
    name=name_text,
    suffix=st.sampled_from([".txt", ".md", ".rst"]),
    kind=st.sampled_from(GOOD + BAD),
    text=paragraphs,
)


def write(root: Path, entry: Entry) -> tuple[str, str | None] | None:
    """Create the entry; (doc id, the text a reader should get, or None for a bad file).

    None when an earlier entry already took the path."""
    folder = root.joinpath(*entry.folders)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry.name}{entry.suffix}"
    if path.exists() or path.is_symlink():
        return None
    relative = path.relative_to(root).as_posix()
    text = entry.text
    if entry.kind == "text":
        path.write_text(text.replace("\n", "\r\n"), encoding="utf-8")  # Windows line ends
    elif entry.kind == "utf16":
        path.write_bytes(text.encode("utf-16"))  # with its byte-order mark
    elif entry.kind == "huge":
        text = "\n\n".join([text] * 2_000)[:200_000].rstrip()
        path.write_text(text, encoding="utf-8")
    elif entry.kind == "long-line":
        text = ("w" * 99 + " ") * 1_000 + text  # a 100k-character line
        path.write_text(text, encoding="utf-8")
    elif entry.kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0" + os.urandom(64))
    elif entry.kind == "bad-utf8":
        path.write_bytes(b"caf\xe9 " + text.encode() + b" \xc3\x28")
    elif entry.kind == "empty":
        path.write_bytes(b"")
    elif entry.kind == "blank":
        path.write_text(" \n\n\t\n")
    elif entry.kind == "fifo":
        os.mkfifo(path)
    elif entry.kind == "dangling-link":
        path.symlink_to(root.parent / "outside" / "no-such-target.txt")
    elif entry.kind == "unreadable":
        path.write_text(text)
        path.chmod(0)
        if RUNS_AS_ROOT:  # root reads it anyway: then it is a good file
            return relative, text
    return relative, (text if entry.kind in GOOD else MIXED if entry.kind == "bad-utf8" else None)


def shown(relative: str) -> str:
    return relative if relative.isprintable() else repr(relative)


def check_tree(tree: list[Entry], loop: bool, chunking: ChunkingSettings) -> None:
    with tempfile.TemporaryDirectory(prefix="ragtui-messy-") as scratch:
        root = Path(scratch) / "corpus"
        root.mkdir()
        expected: dict[str, str | None] = {}
        utf16: set[str] = set()  # read, with a note naming the encoding
        for entry in tree:
            written = write(root, entry)
            if written is not None:
                expected[written[0]] = written[1]
                if entry.kind == "utf16":
                    utf16.add(written[0])
        if loop:
            (root / "back to top").symlink_to(root)
        try:
            corpus = load_corpus(root, chunking, cache_root=Path(scratch) / "cache")
        except CorpusError as error:
            assert not any(text is not None for text in expected.values()), error
            assert "no readable documents" in str(error)
            return
        good = {rel: text for rel, text in expected.items() if text not in (None, MIXED)}
        # A file of mixed encodings is either read in the encoding detected for it or
        # skipped; either way one warning names it.
        bad = [rel for rel, text in expected.items() if text in (None, MIXED)]
        mixed = {rel for rel, text in expected.items() if text == MIXED}
        documents = {document.doc_id: document for document in corpus.documents}
        assert set(good) <= set(documents) <= set(good) | mixed
        for relative, text in good.items():
            assert documents[relative].text.strip() == text.strip()
        assert len(corpus.warnings) == len(bad) + len(utf16)
        for relative in [*bad, *utf16]:
            assert sum(shown(relative) in warning for warning in corpus.warnings) >= 1
        assert all("\n" not in warning for warning in corpus.warnings)

        ids = [passage.passage_id for passage in corpus.passages]
        assert len(ids) == len(set(ids))
        for document in corpus.documents:
            spans = [p for p in corpus.passages if p.doc_id == document.doc_id]
            reach = 0  # how far the passages so far cover the text
            for passage in spans:
                assert passage.text == document.text[passage.start : passage.end]
                if chunking.overlap_tokens == 0:
                    assert passage.start >= reach  # nothing twice
                gap = document.text[reach : passage.start]
                assert not gap.strip(), (document.doc_id, gap[:40])  # nothing lost
                reach = max(reach, passage.end)
            assert not document.text[reach:].strip(), document.doc_id

        # TREC runs and qrels: one whitespace-free column per id, decoded back exactly.
        lines = [
            f"{trec_id('q 1')} Q0 {trec_id(pid)} {rank} 1.0 run" for rank, pid in enumerate(ids, 1)
        ]
        for line in lines:
            columns = line.split()
            assert len(columns) == 6
        assert [from_trec_id(line.split()[2]) for line in lines] == ids
        qrels_file = Path(scratch) / "qrels.tsv"
        qrels_file.write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"q1\t{trec_id(pid)}\t1\n" for pid in ids)
        )
        assert {from_trec_id(pid) for pid in load_qrels(qrels_file).get("q1", {})} == set(ids)


trees = st.lists(entries, min_size=1, max_size=12)
common = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(common, max_examples=60)
@given(tree=trees, loop=st.booleans(), overlap=st.sampled_from([0, 30]))
def test_messy_folders(tree: list[Entry], loop: bool, overlap: int) -> None:
    check_tree(tree, loop, ChunkingSettings(180, overlap))


@pytest.mark.slow
@settings(common, max_examples=600)
@given(tree=trees, loop=st.booleans(), overlap=st.sampled_from([0, 30]))
def test_messy_folders_at_length(tree: list[Entry], loop: bool, overlap: int) -> None:
    check_tree(tree, loop, ChunkingSettings(180, overlap))
