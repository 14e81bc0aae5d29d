"""Named test sets on disk, beside the corpus's labels:
``<data dir>/corpora/<corpus>/testsets/<name>/``.

- ``testset.json``: how the set was made (generator and model identity, checker, prompt
  templates, sampling settings, seed, filters) and its funnel;
- ``provenance.jsonl``: one record per sampled passage (appended as each one is done, so
  an interrupted run resumes): passage id, document, span, text and its hash, the makers'
  identities, the raw replies, the question and answer, and every filter's verdict. A
  passage whose call failed is asked again by a later run, which appends its new record:
  the latest record of a passage is the one that counts;
- ``queries.jsonl``, ``qrels/test.tsv``, ``answers.jsonl``: the kept questions in BEIR
  layout (qrels name documents for BEIR corpora and passages for folders, as eval scores
  them), rewritten whole at the end of each run;
- ``review.jsonl``: accept/reject verdicts given in the app (the latest per question wins).

The corpus's own ``queries.jsonl`` and qrels are never touched.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtui.corpus.model import Corpus
from ragtui.display.safe_text import json_line
from ragtui.errors import RagtuiError
from ragtui.index.store import write_file_atomic
from ragtui.judged_unit import id_in_unit
from ragtui.judging.store import JsonlLog, JudgmentStore
from ragtui.judging.trec_ids import trec_id
from ragtui.testsets.anchoring import anchor_questions

META = "testset.json"
IMPORTED = "imported"  # an imported set's kind and each of its questions' verdict
PROVENANCE = "provenance.jsonl"
REVIEW = "review.jsonl"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TestsetError(RagtuiError):
    """A test set that cannot be made, found or read, with what to do."""

    __test__ = False  # a pytest-style name, not a test class


def check_name(name: str) -> str:
    if not name:
        raise TestsetError("test set name '' is empty: give a name, or leave --name out")
    if not _NAME.match(name):
        raise TestsetError(
            f"test set name {name!r}: use letters, digits, '.', '_' or '-' (up to 64)"
        )
    return name


def judged_unit_of(corpus: Corpus) -> str:
    """What a generated question is judged by: its source document in a BEIR corpus (as
    the corpus's own qrels judge), its source passage in a folder."""
    return "document" if corpus.kind == "beir" else "passage"


def record_judged_id(record: dict[str, Any], unit: str) -> str:
    """The id a record's judgment names in that unit."""
    return id_in_unit(str(record["doc_id"]), str(record["passage_id"]), unit)


def latest_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each passage's latest record, in sample order: a passage whose call failed is asked
    about again by a later run, which appends its new record."""
    latest: dict[int, dict[str, Any]] = {}
    for record in records:
        latest[int(record["index"])] = record
    return [latest[index] for index in sorted(latest)]


def testsets_root(corpus_root: Path, source_key: str, data_root: Path | None = None) -> Path:
    return JudgmentStore.for_corpus(corpus_root, source_key, data_root).folder / "testsets"


@dataclass(frozen=True)
class StoredTestset:
    """A test set read back: its questions, what they were made from, and the review."""

    folder: Path
    meta: dict[str, Any]
    records: tuple[dict[str, Any], ...]  # provenance, in sample order
    review: dict[str, str]  # query id → "accepted" | "rejected"

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.folder.name)

    @property
    def kept(self) -> list[dict[str, Any]]:
        return [record for record in self.records if record.get("verdict") == "kept"]

    def scored(self) -> list[dict[str, Any]]:
        """Kept questions a reviewer did not reject."""
        return [r for r in self.kept if self.review.get(r["query_id"]) != "rejected"]


def is_imported(testset: StoredTestset) -> bool:
    return testset.meta.get("kind") == IMPORTED


def set_queries(testset: StoredTestset) -> dict[str, str]:
    """Query id → text of any set: an imported one's questions, a generated one's scored."""
    records = testset.records if is_imported(testset) else testset.scored()
    return {str(record["query_id"]): str(record["question"]) for record in records}


class TestsetFolder:
    """Writes one test set: appends provenance, rewrites the BEIR files and the metadata."""

    __test__ = False  # a pytest-style name, not a test class

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.provenance = JsonlLog(folder / PROVENANCE)
        self.review_log = JsonlLog(folder / REVIEW)

    def meta(self) -> dict[str, Any] | None:
        path = self.folder / META
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TestsetError(f"{path} cannot be read ({error}); remove the folder") from None

    def write_meta(self, meta: dict[str, Any]) -> None:
        _write_atomic(self.folder / META, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    def records(self) -> list[dict[str, Any]]:
        return list(self.provenance.records()) if self.provenance.path.exists() else []

    def add(self, record: dict[str, Any]) -> None:
        self.provenance.append(record)

    def review(self, query_id: str, verdict: str) -> None:
        if verdict not in {"accepted", "rejected"}:
            raise TestsetError(f"review verdict {verdict!r}: use accepted or rejected")
        self.review_log.append({"query_id": query_id, "verdict": verdict})

    def write_beir(self, kept: list[dict[str, Any]], unit: str) -> None:
        """queries.jsonl, qrels/test.tsv and answers.jsonl of the kept questions."""
        queries = "".join(
            json_line({"_id": r["query_id"], "text": r["question"]}) + "\n" for r in kept
        )
        answers = "".join(
            json_line({"_id": r["query_id"], "answers": [r["answer"]]}) + "\n"
            for r in kept
            if r.get("answer")
        )
        # Ids are TREC columns (whitespace and control characters percent-encoded, as
        # eval's own qrels and runs are), so a shared set's file keeps its columns.
        qrels = "query-id\tcorpus-id\tscore\n" + "".join(
            f"{trec_id(str(r['query_id']))}\t{trec_id(record_judged_id(r, unit))}\t1\n"
            for r in kept
        )
        (self.folder / "qrels").mkdir(parents=True, exist_ok=True)
        _write_atomic(self.folder / "queries.jsonl", queries)
        _write_atomic(self.folder / "answers.jsonl", answers)
        _write_atomic(self.folder / "qrels" / "test.tsv", qrels)


def _write_atomic(path: Path, text: str) -> None:
    write_file_atomic(path, text.encode("utf-8"))


def read_testset(folder: Path) -> StoredTestset:
    writer = TestsetFolder(folder)
    meta = writer.meta()
    if meta is None:
        raise TestsetError(
            f"{folder} holds no test set (no {META}); make one with 'ragtui testset'"
        )
    review: dict[str, str] = {}
    if writer.review_log.path.exists():
        for record in writer.review_log.records():
            review[str(record.get("query_id"))] = str(record.get("verdict"))
    return StoredTestset(folder, meta, tuple(latest_records(writer.records())), review)


def find_testset(name_or_dir: str, corpus_root: Path, source_key: str) -> StoredTestset:
    """A set by name (among the corpus's) or by folder (an exported copy)."""
    as_path = Path(name_or_dir).expanduser()
    if as_path.is_dir():
        return read_testset(as_path)
    root = testsets_root(corpus_root, source_key)
    folder = root / check_name(name_or_dir)
    if not (folder / META).exists():
        known = ", ".join(list_names(root)) or "none yet"
        raise TestsetError(
            f"no test set {name_or_dir!r} for {corpus_root} (known: {known}); "
            f"make one with 'ragtui testset {corpus_root} --generator SPEC --name {name_or_dir}'"
        )
    return read_testset(folder)


def list_names(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(path.name for path in root.iterdir() if (path / META).exists())


def export(testset: StoredTestset, out: Path) -> Path:
    """A copy of the set's folder at ``out`` (which must not hold other files)."""
    out = out.expanduser()
    if out.exists() and any(out.iterdir()):
        raise TestsetError(f"--out {out} is not empty: choose a new or empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.rmdir()
    shutil.copytree(testset.folder, out)
    return out


@dataclass(frozen=True)
class GeneratedQuestion:
    """A kept question of a stored set, as the compare screen offers it."""

    testset: str
    folder: Path
    query_id: str
    text: str
    unit: str  # what its judgment names: "passage" or "document"
    judged_id: str  # the source passage (or its document)
    review: str  # "", "accepted" or "rejected"
    answer: str = ""  # its reference answer
    # What it is judged by in the corpus as it is now: the passages (or document) that
    # hold its source text; empty when read without the corpus.
    judged_ids: tuple[str, ...] = ()


def generated_questions(
    corpus_root: Path, source_key: str, data_root: Path | None = None, corpus: Corpus | None = None
) -> dict[str, GeneratedQuestion]:
    """Every kept question of every set of the corpus, by query id. A set that cannot be
    read is left out (the app must open whatever a folder holds). Given the corpus, each
    question is judged by its source text as the corpus holds it now, and a question
    whose source text is gone is left out (see ``anchoring``)."""
    root = testsets_root(corpus_root, source_key, data_root)
    found: dict[str, GeneratedQuestion] = {}
    for name in list_names(root):
        try:
            testset = read_testset(root / name)
        except RagtuiError:
            continue
        unit = str(testset.meta.get("judged_unit") or "passage")
        anchored = None if corpus is None else anchor_questions(testset.kept, unit, corpus)
        for record in testset.kept:
            query_id = str(record["query_id"])
            if anchored is not None and query_id not in anchored.qrels:
                continue
            found[query_id] = GeneratedQuestion(
                testset.name,
                testset.folder,
                query_id,
                str(record["question"]),
                unit,
                record_judged_id(record, unit),
                testset.review.get(query_id, ""),
                str(record.get("answer") or ""),
                () if anchored is None else tuple(anchored.qrels[query_id]),
            )
    return found
