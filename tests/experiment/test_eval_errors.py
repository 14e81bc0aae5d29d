"""Bad datasets and arguments: one clear line naming the file (and line), nothing half-written."""

import json
from pathlib import Path

import pytest

from ragtui.config.settings_file import Settings
from ragtui.errors import RagtuiError
from ragtui.experiment.report import outputs as report
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from ragtui.experiment.run.scoring import summarize
from tests.test_cli import ragtui


def make_dataset(root: Path, queries: str | None, qrels: str | None, answers: str | None = None):
    root.mkdir(parents=True, exist_ok=True)
    documents = [
        {"_id": "d1", "title": "Pumps", "text": "A centrifugal pump moves water with an impeller."},
        {"_id": "d2", "title": "Valves", "text": "A check valve stops water flowing backwards."},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in documents) + "\n")
    if queries is not None:
        (root / "queries.jsonl").write_text(queries)
    if qrels is not None:
        (root / "qrels").mkdir(exist_ok=True)
        (root / "qrels" / "test.tsv").write_text(qrels)
    if answers is not None:
        (root / "answers.jsonl").write_text(answers)
    return root


GOOD_QUERIES = '{"_id": "q1", "text": "what moves water"}\n{"_id": "q2", "text": "backflow"}\n'
GOOD_QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\n"


@pytest.mark.parametrize(
    ("queries", "qrels", "answers", "message"),
    [
        (None, GOOD_QRELS, None, "no queries.jsonl"),
        (
            '{"_id": "q1", "text": "ok"}\n{"_id": "q2", "te',
            GOOD_QRELS,
            None,
            "queries.jsonl:2: not valid JSON",
        ),
        (
            '{"_id": "q1", "text": "   "}\n',
            GOOD_QRELS,
            None,
            "queries.jsonl:1: query 'q1' is empty",
        ),
        (GOOD_QUERIES, "q1\td1\n", None, "test.tsv:1: expected 'query-id corpus-id score'"),
        (GOOD_QUERIES, "q1\td1\thigh\n", None, "test.tsv:1: score 'high' is not a number"),
        (GOOD_QUERIES, None, None, "nothing to score"),
        (GOOD_QUERIES, GOOD_QRELS, '{"_id": "q1"}\n', "answers.jsonl:1: needs '_id'"),
    ],
)
def test_bad_datasets_are_one_line_errors(
    tmp_path: Path, queries, qrels, answers, message: str
) -> None:
    dataset = make_dataset(tmp_path / "ds", queries, qrels, answers)
    out = tmp_path / "out"
    done = ragtui("eval", str(dataset), "--retrievers", "bm25", "--out", str(out))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("ragtui: error:") and message in lines[-1], done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_judgments_naming_nothing_are_skipped_with_a_warning(tmp_path: Path) -> None:
    qrels = GOOD_QRELS + "q1\td9\t1\nq7\td1\t1\n"
    dataset = make_dataset(tmp_path / "ds", GOOD_QUERIES, qrels)
    out = tmp_path / "out"
    done = ragtui("eval", str(dataset), "--retrievers", "bm25", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 judgments name no document of the corpus, or an empty one (e.g. 'd9')" in done.stderr
    assert "1 judged query ids are not in the query set (e.g. 'q7')" in done.stderr
    assert (out / "qrels.tsv").read_text() == GOOD_QRELS
    assert "d9" in (out / "report.md").read_text()  # the warning is in the report too


def test_missing_qrels_with_answers_scores_answers_only(tmp_path: Path) -> None:
    answers = '{"_id": "q1", "answers": ["an impeller"]}\n'
    dataset = make_dataset(tmp_path / "ds", GOOD_QUERIES, None, answers)
    out = tmp_path / "out"
    done = ragtui("eval", str(dataset), "--retrievers", "bm25,dense", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "retrieval metrics are skipped" in done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["retrieval"]["bm25"]["mean"] == {}
    assert results["pipelines"]["bm25+extractive"]["mean"]["answer_recall"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retrievers", "splade"], "unknown retriever 'splade'"),
        (["--generators", "extractive,:x"], "generator ':x'"),
        (["-k", "0"], "-k 0: use at least 1"),
        (["--generators", " , "], "name at least one retriever and one generator"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    dataset = make_dataset(tmp_path / "ds", GOOD_QUERIES, GOOD_QRELS)
    done = ragtui("eval", str(dataset), *args, "--out", str(tmp_path / "out"))
    assert done.returncode != 0
    assert message in done.stderr.strip().splitlines()[-1], done.stderr
    assert not (tmp_path / "out").exists()


def test_an_out_folder_that_is_not_an_eval_is_left_alone(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "ds", GOOD_QUERIES, GOOD_QRELS)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    done = ragtui("eval", str(dataset), "--retrievers", "bm25", "--out", str(precious))
    assert done.returncode == 1
    assert "holds files ragtui did not write there" in done.stderr
    assert "retrieving" not in done.stderr  # refused before any work
    assert [path.name for path in precious.iterdir()] == ["notes.txt"]


def test_a_failed_write_leaves_the_previous_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = load_dataset(make_dataset(tmp_path / "ds", GOOD_QUERIES, GOOD_QRELS))
    cache = tmp_path / "cache"
    run = run_grid(dataset, GridPlan(("bm25",), ("extractive",)), Settings(), cache_root=cache)
    results = summarize(run)
    out = report.write_outputs(run, results, tmp_path / "out")
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}

    def disk_full(results):  # fault injection: the write fails half-way through
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "render_markdown", disk_full)
    with pytest.raises(RagtuiError, match=rf"cannot write the report to {tmp_path} \(No space"):
        report.write_outputs(run, results, out)
    after = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    assert after == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cache", "ds", "out"]


def test_a_full_disk_at_the_end_of_eval_is_one_line(tmp_path: Path) -> None:
    """The report goes to a folder on a real 1 MB filesystem that is full: one line, exit 1."""
    from tests.test_cache_write_errors import mount_tiny_disk

    dataset = make_dataset(tmp_path / "ds", GOOD_QUERIES, GOOD_QRELS)
    with mount_tiny_disk(tmp_path / "disk") as disk:
        fill(disk)
        done = ragtui(
            "eval", str(dataset), "--retrievers", "bm25", "--generators", "extractive",
            "--out", str(disk / "report"), cache=tmp_path / "cache",
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    *progress, line = done.stderr.strip().splitlines()
    # Before the one error line: log lines and plain progress lines only.
    assert all(earlier.startswith(("ragtui: info:", "answering ")) for earlier in progress)
    assert line.startswith(f"ragtui: error: cannot write the report to {disk}")


def fill(folder: Path) -> None:
    import errno

    try:
        with (folder / "filler").open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC


def test_a_generation_cache_that_cannot_be_written_warns_once_and_the_run_goes_on(
    tmp_path: Path, caplog
) -> None:
    import logging
    import sqlite3

    from ragtui.experiment.run import generation_cache

    class FullDatabase:
        """A connection whose writes fail as SQLite's do on a full disk (injected)."""

        def __init__(self, real: sqlite3.Connection) -> None:
            self.real = real

        def execute(self, sql: str, *args):
            if sql.startswith("INSERT"):
                raise sqlite3.OperationalError("database or disk is full")
            return self.real.execute(sql, *args)

        def __getattr__(self, name: str):
            return getattr(self.real, name)

    real_init = generation_cache.GenerationCache.__init__

    def full_disk_init(self, path: Path) -> None:
        real_init(self, path)
        self._db = FullDatabase(self._db)

    dataset = load_dataset(make_dataset(tmp_path / "ds", GOOD_QUERIES, GOOD_QRELS))
    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.WARNING, "ragtui"):
        patch.setattr(generation_cache.GenerationCache, "__init__", full_disk_init)
        run = run_grid(
            dataset, GridPlan(("bm25",), ("extractive",)), Settings(), cache_root=tmp_path / "c"
        )
    assert len(run.cells) == 2 and all(cell.answer for cell in run.cells)
    warnings = [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(warnings) == 1 and str(tmp_path / "c") in warnings[0]
