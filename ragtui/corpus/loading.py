"""Load a corpus: a folder of text files, or a dataset in BEIR layout (detected by corpus.jsonl).

Unreadable files are skipped with one warning each; malformed dataset lines are errors
that name the file and line, because silently dropping judged documents skews metrics.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from ragtui.config import paths
from ragtui.corpus.chunking import ChunkingSettings, chunk_document
from ragtui.corpus.decoding import NotText, decode_text
from ragtui.corpus.model import Corpus, Document, Passage
from ragtui.corpus.snapshot import (
    beir_files,
    load_snapshot,
    save_snapshot,
    signature,
    snapshot_path,
)
from ragtui.errors import CorpusError

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".rst", ".html", ".htm"})
_HTML_SUFFIXES = frozenset({".html", ".htm"})


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML page, one block element per paragraph."""

    _BLOCK_TAGS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr"})
    _HIDDEN_TAGS = frozenset({"script", "style", "head", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in self._BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN_TAGS and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)

    def text(self) -> str:
        joined = "".join(self.parts)
        paragraphs = [" ".join(chunk.split()) for chunk in joined.split("\n\n")]
        return "\n\n".join(p for p in paragraphs if p)


def _walk_text_files(root: Path) -> Iterator[Path]:
    """Text files under root in a stable order; follows links but never loops."""
    seen_dirs: set[tuple[int, int]] = set()
    for directory, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            info = os.stat(directory)
        except OSError:
            dirnames[:] = []
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add(identity)
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in sorted(filenames):
            path = Path(directory) / name
            if path.suffix.lower() in TEXT_SUFFIXES and not name.startswith("."):
                yield path


def _read_text_file(path: Path) -> tuple[str | None, str | None, str | None]:
    """(text, None, encoding note) or (None, reason it was skipped, None).

    The note names the encoding when it was not UTF-8 (``"iso8859-1 (declared)"``).
    """
    try:
        # A FIFO or device would block or never end: only regular files are read.
        if not stat.S_ISREG(path.stat().st_mode):
            return None, "is not a regular file", None
        raw = path.read_bytes()
    except OSError as error:
        return None, f"cannot be read ({error.strerror or error})", None
    is_html = path.suffix.lower() in _HTML_SUFFIXES
    try:
        decoded = decode_text(raw, markup=is_html)
    except NotText as reason:
        return None, str(reason), None
    text = decoded.text
    if is_html:
        parser = _HtmlText()
        parser.feed(text)
        text = parser.text()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, "is empty", None
    return text, None, decoded.note


def _read_folder(root: Path) -> tuple[list[Document], list[str]]:
    documents: list[Document] = []
    warnings: list[str] = []
    for path in _walk_text_files(root):
        relative = path.relative_to(root).as_posix()
        text, reason, encoding_note = _read_text_file(path)
        # A name with a newline or escape is shown quoted, so the warning stays one line.
        shown = relative if relative.isprintable() else repr(relative)
        if text is None:
            warnings.append(f"skipped {shown}: it {reason}")
            continue
        if encoding_note is not None:
            warnings.append(f"read {shown} as {encoding_note}: it is not UTF-8")
        documents.append(Document(doc_id=relative, text=text, source=relative))
    return documents, warnings


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; a bad line is an error naming it."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror or error})") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise CorpusError(
                        f"{path}:{number}: not valid JSON ({error.msg}); fix or remove the line"
                    ) from None
                if not isinstance(record, dict):
                    raise CorpusError(f"{path}:{number}: expected a JSON object")
                yield number, record
        except UnicodeDecodeError:
            raise CorpusError(f"{path}: is not UTF-8 text") from None


def _read_beir_corpus(path: Path) -> list[Document]:
    documents: list[Document] = []
    seen: set[str] = set()
    for number, record in _jsonl_records(path):
        doc_id = record.get("_id")
        if doc_id is None or str(doc_id) == "":
            raise CorpusError(f"{path}:{number}: document has no '_id'")
        doc_id = str(doc_id)
        if doc_id in seen:
            raise CorpusError(f"{path}:{number}: duplicate document id {doc_id!r}")
        seen.add(doc_id)
        title = str(record.get("title") or "").strip()
        body = str(record.get("text") or "").strip()
        text = f"{title}\n\n{body}" if title and body else (title or body)
        if not text:
            continue
        documents.append(
            Document(doc_id=doc_id, text=text, source=f"{path.name}:{number}", title=title)
        )
    return documents


def load_queries(path: Path) -> dict[str, str]:
    """BEIR queries.jsonl: ``{"_id", "text"}`` per line."""
    queries: dict[str, str] = {}
    for number, record in _jsonl_records(path):
        query_id, text = record.get("_id"), record.get("text")
        if query_id is None or not isinstance(text, str):
            raise CorpusError(f"{path}:{number}: a query needs '_id' and 'text'")
        if not text.strip():
            raise CorpusError(f"{path}:{number}: query {query_id!r} is empty")
        queries[str(query_id)] = text.strip()
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV (optional header ``query-id corpus-id score``), or TREC 4-column qrels."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"{path}: cannot be read as text ({error})") from None
    for number, line in enumerate(lines, start=1):
        # BEIR's TSV splits on tabs (an id may hold spaces); TREC qrels on any whitespace.
        fields = [field.strip() for field in line.split("\t")] if "\t" in line else line.split()
        if not any(fields):
            continue
        if number == 1 and fields[0] in {"query-id", "query_id", "qid"}:
            continue
        if len(fields) == 4:  # TREC: qid iteration docid relevance
            fields = [fields[0], fields[2], fields[3]]
        if len(fields) != 3:
            raise CorpusError(f"{path}:{number}: expected 'query-id corpus-id score', got {line!r}")
        try:
            grade = int(float(fields[2]))
        except ValueError:
            raise CorpusError(f"{path}:{number}: score {fields[2]!r} is not a number") from None
        qrels.setdefault(fields[0], {})[fields[1]] = grade
    return qrels


def load_answers(path: Path) -> dict[str, list[str]]:
    """answers.jsonl: ``{"_id": QUERY_ID, "answers": ["…", …]}`` per line."""
    answers: dict[str, list[str]] = {}
    for number, record in _jsonl_records(path):
        query_id, texts = record.get("_id"), record.get("answers")
        if query_id is None or not isinstance(texts, list) or not texts:
            raise CorpusError(f"{path}:{number}: needs '_id' and a non-empty 'answers' list")
        answers[str(query_id)] = [str(text) for text in texts]
    return answers


def _qrels_file(root: Path) -> Path | None:
    qrels_dir = root / "qrels"
    if not qrels_dir.is_dir():
        return None
    preferred = qrels_dir / "test.tsv"
    if preferred.is_file():
        return preferred
    candidates = sorted(qrels_dir.glob("*.tsv"))
    return candidates[0] if candidates else None


def is_beir_dataset(root: Path) -> bool:
    return (root / "corpus.jsonl").is_file()


def load_corpus(
    path: str | Path,
    settings: ChunkingSettings | None = None,
    cache_root: Path | None = None,
) -> Corpus:
    """Read a folder or BEIR dataset and split it into passages.

    When no file has changed since the last read (sizes, mtimes, inodes), the corpus comes
    from a snapshot in the cache instead (``ragtui.corpus.snapshot``).
    """
    settings = settings or ChunkingSettings()
    root = Path(path).expanduser()
    if not root.exists():
        raise CorpusError(f"corpus {str(path)!r} does not exist: give a folder or a BEIR dataset")
    if not root.is_dir():
        raise CorpusError(f"corpus {str(path)!r} is a file: give the folder that holds it")
    root = root.resolve()
    beir = is_beir_dataset(root)
    # A folder may carry queries, answers and qrels like a BEIR dataset does.
    files = beir_files(root) if beir else [*_walk_text_files(root), *beir_files(root)]
    files_signature = signature(files)
    snapshot = snapshot_path(cache_root or paths.cache_dir(), root, settings.key)
    cached = load_snapshot(snapshot, files_signature)
    if cached is not None:
        return cached
    corpus = _read_corpus(root, beir, settings)
    save_snapshot(snapshot, corpus, files_signature)
    return corpus


def _read_corpus(root: Path, beir: bool, settings: ChunkingSettings) -> Corpus:
    warnings: list[str] = []
    if beir:
        kind = "beir"
        documents = _read_beir_corpus(root / "corpus.jsonl")
    else:
        kind = "folder"
        documents, warnings = _read_folder(root)
    if not documents:
        skipped = ""
        if warnings:
            more = f", and {len(warnings) - 1} more" if len(warnings) > 1 else ""
            skipped = f"; {len(warnings)} skipped ({warnings[0].removeprefix('skipped ')}{more})"
        raise CorpusError(
            f"corpus {str(root)!r} has no readable documents "
            f"(looked for {', '.join(sorted(TEXT_SUFFIXES))} files or corpus.jsonl){skipped}"
        )
    passages: list[Passage] = []
    for document in documents:
        passages.extend(chunk_document(document, settings))
    queries_path = root / "queries.jsonl"
    answers_path = root / "answers.jsonl"
    qrels_path = _qrels_file(root)
    return Corpus(
        root=root,
        kind=kind,
        chunking=settings,
        documents=tuple(documents),
        passages=tuple(passages),
        queries=load_queries(queries_path) if queries_path.is_file() else {},
        qrels=load_qrels(qrels_path) if qrels_path else {},
        answers=load_answers(answers_path) if answers_path.is_file() else {},
        warnings=tuple(warnings),
    )
