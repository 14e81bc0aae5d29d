"""Query sets a user brings: their own questions (and reference answers), no judgments.

``ragtui testset import CORPUS FILE --name NAME`` reads either a BEIR ``queries.jsonl``
(``{"_id", "text"}`` per line; the ids are kept) or a text file with one question per line
(the question on line 7 gets the id ``NAME-q7``). Reference answers come from an optional
``answers.jsonl`` (``{"_id", "answers": [...]}``, or ``"answer"``/``"text"`` as one string).

The set is stored like a generated one (``ragtui.testsets.store``): ``testset.json`` with
``"kind": "imported"``, one provenance record per question (verdict ``imported``, its file
and line), and ``queries.jsonl``/``answers.jsonl`` in BEIR layout. It has no source
passages: its judgments are the pool grades a person (or an imported qrels file) gives.

A bad line is reported with its number and what is wrong, and every other line is kept. Ids
name labels across the corpus (one label store per corpus), so an id that already names
another question there (the corpus's queries, another set, graded queries) is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus
from ragtui.display.safe_text import json_line
from ragtui.errors import RagtuiError
from ragtui.index.store import write_file_atomic
from ragtui.judging.store import JudgmentStore, normalize_query
from ragtui.testsets.funnel import PASSED_CHEAP_FILTERS
from ragtui.testsets.store import (
    IMPORTED,
    META,
    PROVENANCE,
    StoredTestset,
    TestsetError,
    check_name,
    is_imported,
    judged_unit_of,
    list_names,
    read_testset,
    set_queries,
    testsets_root,
)


@dataclass(frozen=True)
class ImportOutcome:
    folder: Path
    questions: int
    answered: int
    file_format: str  # "jsonl" or "text"
    problems: tuple[str, ...]  # "FILE:LINE: what is wrong", one per bad line


def _lines(path: Path) -> list[tuple[int, str | None]]:
    """(line number, text) per line; None where the bytes are not UTF-8."""
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise TestsetError(f"{path} does not exist: give a queries.jsonl or a text file") from None
    except OSError as error:
        raise TestsetError(f"cannot read {path} ({error.strerror})") from None
    numbered: list[tuple[int, str | None]] = []
    for number, raw in enumerate(payload.split(b"\n"), start=1):
        try:
            numbered.append((number, raw.decode("utf-8-sig" if number == 1 else "utf-8")))
        except UnicodeDecodeError:
            numbered.append((number, None))
    return numbered


def _is_jsonl(path: Path, lines: list[tuple[int, str | None]]) -> bool:
    if path.suffix.lower() in {".jsonl", ".json"}:
        return True
    first = next((text.strip() for _, text in lines if text and text.strip()), "")
    return first.startswith("{")


def _json_object(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg} at column {error.colno})"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    return record, ""


def _read_questions(path: Path, name: str) -> tuple[list[tuple[str, str, int]], str, list[str]]:
    """(query id, question, line) of the good lines, the format, and one problem per bad line."""
    lines = _lines(path)
    jsonl = _is_jsonl(path, lines)
    questions: list[tuple[str, str, int]] = []
    problems: list[str] = []
    id_line: dict[str, int] = {}
    text_line: dict[str, int] = {}
    for number, text in lines:
        if text is None:
            problems.append(f"{path}:{number}: not UTF-8 text")
            continue
        if not text.strip():
            continue
        if jsonl:
            record, problem = _json_object(text)
            if record is None:
                problems.append(f"{path}:{number}: {problem}")
                continue
            query_id, question = record.get("_id"), record.get("text")
            if not isinstance(query_id, (str, int)) or isinstance(query_id, bool):
                problems.append(f'{path}:{number}: no "_id" (a string or a number)')
                continue
            query_id = str(query_id).strip()
            if not query_id:
                problems.append(f'{path}:{number}: empty "_id"')
                continue
            if not isinstance(question, str) or not question.strip():
                problems.append(f'{path}:{number}: no question in "text"')
                continue
        else:
            query_id, question = f"{name}-q{number}", text
        question = " ".join(question.split())
        if query_id in id_line:
            problems.append(
                f"{path}:{number}: id {query_id!r} is already on line {id_line[query_id]}"
            )
            continue
        key = normalize_query(question).casefold()
        if key in text_line:
            problems.append(f"{path}:{number}: the same question as line {text_line[key]}")
            continue
        id_line[query_id] = number
        text_line[key] = number
        questions.append((query_id, question, number))
    return questions, "jsonl" if jsonl else "text", problems


def _read_answers(path: Path, known: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    answers: dict[str, list[str]] = {}
    problems: list[str] = []
    for number, text in _lines(path):
        if text is None:
            problems.append(f"{path}:{number}: not UTF-8 text")
            continue
        if not text.strip():
            continue
        record, problem = _json_object(text)
        if record is None:
            problems.append(f"{path}:{number}: {problem}")
            continue
        query_id = record.get("_id")
        query_id = "" if query_id is None or isinstance(query_id, bool) else str(query_id)
        if query_id not in known:
            problems.append(f"{path}:{number}: id {query_id!r} is not a question of the file")
            continue
        given = record.get("answers", record.get("answer", record.get("text")))
        found = [given] if isinstance(given, str) else given
        if not isinstance(found, list) or not all(isinstance(item, str) for item in found):
            problems.append(f'{path}:{number}: no answer ("answers": [...] or "answer": "...")')
            continue
        cleaned = [item.strip() for item in found if item.strip()]
        if not cleaned:
            problems.append(f"{path}:{number}: the answer is empty")
            continue
        answers.setdefault(query_id, []).extend(cleaned)
    return answers, problems


def _ids_in_use(corpus: Corpus, root: Path, data_root: Path | None) -> dict[str, tuple[str, str]]:
    """Query id → (normalized text, where) of every question the corpus already knows."""
    used: dict[str, tuple[str, str]] = {}
    for query_id, text in corpus.queries.items():
        used[query_id] = (normalize_query(text), f"the corpus's queries.jsonl ({text!r})")
    for name in list_names(root):
        try:
            other = read_testset(root / name)
        except RagtuiError:
            continue
        # A generated set's questions that the round trip dropped are graded too (they are
        # offered for labeling), so their ids name labels as the kept ones' do.
        records = (
            other.records
            if is_imported(other)
            else [r for r in other.records if r.get("verdict") in PASSED_CHEAP_FILTERS]
        )
        for record in records:
            if record.get("query_id") is None:
                continue  # a damaged record names no question
            text = normalize_query(str(record.get("question") or ""))
            used.setdefault(str(record["query_id"]), (text, f"test set {name!r}"))
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, data_root)
    for query_id, text in store.labelled_queries().items():
        used.setdefault(query_id, (normalize_query(text), "graded queries of this corpus"))
    return used


def import_testset(
    corpus: Corpus,
    path: Path,
    name: str,
    answers_path: Path | None = None,
    *,
    data_root: Path | None = None,
) -> ImportOutcome:
    """Make the named set from a user's questions; refuses a name already taken."""
    check_name(name)
    root = testsets_root(corpus.root, corpus.source_key, data_root)
    folder = root / name
    if folder.exists():
        raise TestsetError(
            f"test set {name!r} already exists for {corpus.root} ({folder}): choose another --name"
        )
    questions, file_format, problems = _read_questions(path, name)
    used = _ids_in_use(corpus, root, data_root)
    kept: list[tuple[str, str, int]] = []
    for query_id, question, number in questions:
        earlier = used.get(query_id)
        if earlier is not None and earlier[0] != normalize_query(question):
            problems.append(
                f"{path}:{number}: id {query_id!r} already names another question in "
                f"{earlier[1]}; give this one another id"
            )
            continue
        kept.append((query_id, question, number))
    answers: dict[str, list[str]] = {}
    if answers_path is not None:
        answers, more = _read_answers(answers_path, {query_id for query_id, _, _ in kept})
        problems.extend(more)
    if not kept:
        raise TestsetError(
            f"{path}: no question could be read ({len(problems)} bad lines; first: "
            f"{problems[0] if problems else 'the file is empty'})"
        )
    records = [
        {
            "index": index,
            "query_id": query_id,
            "question": question,
            "answer": answers.get(query_id, [""])[0],
            "answers": answers.get(query_id, []),
            "line": number,
            "verdict": IMPORTED,
        }
        for index, (query_id, question, number) in enumerate(kept)
    ]
    meta = {
        "name": name,
        "kind": IMPORTED,
        "corpus": str(corpus.root),
        "corpus_key": corpus.source_key,
        "judged_unit": judged_unit_of(corpus),  # eval's unit, as generated sets
        "source_file": str(path.resolve()),
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "source_format": file_format,
        "answers_file": str(answers_path.resolve()) if answers_path else None,
        "count": len(records),
        "answered": sum(1 for record in records if record["answers"]),
        "bad_lines": len(problems),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "complete": True,
    }
    _write_folder(root, folder, meta, records)
    return ImportOutcome(folder, len(records), meta["answered"], file_format, tuple(problems))


def _write_folder(
    root: Path, folder: Path, meta: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    """Everything in a scratch folder renamed into place: a set is whole or absent."""
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=f".{folder.name}."))
    try:
        lines = "".join(json_line(record, sort_keys=True) + "\n" for record in records)
        write_file_atomic(scratch / PROVENANCE, lines.encode("utf-8"))
        queries = "".join(
            json_line({"_id": r["query_id"], "text": r["question"]}) + "\n" for r in records
        )
        write_file_atomic(scratch / "queries.jsonl", queries.encode("utf-8"))
        answers = "".join(
            json_line({"_id": r["query_id"], "answers": r["answers"]}) + "\n"
            for r in records
            if r["answers"]
        )
        write_file_atomic(scratch / "answers.jsonl", answers.encode("utf-8"))
        text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
        write_file_atomic(scratch / META, text.encode("utf-8"))
        os.rename(scratch, folder)
    except OSError as error:
        shutil.rmtree(scratch, ignore_errors=True)
        if folder.exists():
            raise TestsetError(
                f"test set {folder.name!r} already exists ({folder}): choose another --name"
            ) from None
        raise TestsetError(f"cannot write {folder} ({error.strerror or error})") from None


def describe(testset: StoredTestset) -> str:
    """One line for ``testset list``."""
    meta = testset.meta
    answered = meta.get("answered", 0)
    return (
        f"{testset.name}: {len(testset.records)} imported questions "
        f"({answered} with reference answers) from {Path(str(meta.get('source_file'))).name}"
    )


def show_lines(testset: StoredTestset, shown: int) -> list[str]:
    """What ``testset show`` prints about an imported set."""
    meta = testset.meta
    lines = [
        f"{testset.name} ({testset.folder})",
        f"imported from {meta.get('source_file')} ({meta.get('source_format')}, "
        f"sha256 {str(meta.get('source_sha256'))[:12]})",
        f"{len(testset.records)} questions, {meta.get('answered', 0)} with reference answers"
        + (f" (from {meta['answers_file']})" if meta.get("answers_file") else ""),
        f"no judgments of its own: each is judged by {meta.get('judged_unit')} grades "
        "('ragtui label')",
    ]
    for record in testset.records[:shown]:
        lines.append("")
        lines.append(f"{record['query_id']}: {record['question']}")
        if record.get("answer"):
            lines.append(f"  answer: {record['answer']}")
    return lines


def for_eval(testset: StoredTestset):
    """What ``eval --testset`` scores an imported set by: its questions and answers; no
    retrieval judgments of its own (retrieval metrics are skipped, with a warning)."""
    queries = set_queries(testset)
    answers = {
        str(r["query_id"]): [str(a) for a in r["answers"]]
        for r in testset.records
        if r.get("answers")
    }
    unit = str(testset.meta.get("judged_unit") or "passage")
    source = (
        f"imported questions: test set {testset.name!r} from "
        f"{Path(str(testset.meta.get('source_file'))).name}"
    )
    warnings = [
        f"test set {testset.name!r} holds no relevance judgments: retrieval metrics are "
        "skipped (grade its pool with 'ragtui label')"
    ]
    return queries, {}, answers, unit, source, warnings
