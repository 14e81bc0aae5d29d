"""`ragtui eval --out` replaces only folders ragtui wrote, and never loses the earlier one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.config.settings_file import Settings
from ragtui.errors import RagtuiError
from ragtui.experiment.report.outputs import run_file_name, write_outputs
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from ragtui.experiment.run.scoring import summarize
from ragtui.judging.trec_ids import from_trec_id, trec_id
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("cache")
    run = run_grid(
        load_dataset(SAMPLE_CORPUS, limit=2),
        GridPlan(("bm25",), ("extractive",)),
        Settings(),
        cache_root=cache,
    )
    return run, summarize(run)


def test_a_folder_with_its_own_results_json_is_never_touched(tmp_path: Path, finished) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "results.json").write_text("{}")  # the user's own file, not an eval's
    (project / "main.py").write_text("print('mine')\n")
    with pytest.raises(RagtuiError, match="ragtui only replaces its own eval folders"):
        write_outputs(*finished, project)
    assert sorted(p.name for p in project.iterdir()) == ["main.py", "results.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["project"]  # no staging left behind


def test_an_earlier_eval_is_replaced_but_not_one_the_user_added_to(
    tmp_path: Path, finished
) -> None:
    out = tmp_path / "eval"
    write_outputs(*finished, out)
    write_outputs(*finished, out)  # ragtui's own folder: replaced
    assert (out / "report.md").is_file() and (out / ".ragtui-eval").is_file()
    (out / "notes.txt").write_text("my notes on this run")
    with pytest.raises(RagtuiError, match="choose a new or empty folder"):
        write_outputs(*finished, out)
    assert (out / "notes.txt").read_text() == "my notes on this run"


def test_a_failed_swap_leaves_the_earlier_eval_in_place(
    tmp_path: Path, finished, monkeypatch
) -> None:
    out = tmp_path / "eval"
    write_outputs(*finished, out)
    before = (out / "report.md").read_text()
    real_rename = Path.rename

    def rename(self: Path, target):
        if Path(target) == out and self.name.startswith(".eval.") and "old" not in self.name:
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(RagtuiError, match=r"cannot write .*No space left"):
        write_outputs(*finished, out)
    assert (out / "report.md").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["eval"]  # nothing hidden left over


@pytest.mark.parametrize(
    "identifier", ["manuals/battery guide.md#0", "tab\there", "100% sure", "line\nbreak", "plain"]
)
def test_ids_round_trip_through_trec_columns(identifier: str) -> None:
    column = trec_id(identifier)
    assert len(column.split()) == 1
    assert from_trec_id(column) == identifier


def test_run_file_names_do_not_clash() -> None:
    names = {run_file_name(spec) for spec in ("dense:a/b", "dense:a_b", "dense_a_b", "bm25")}
    assert len(names) == 4
    assert run_file_name("bm25") == "bm25.trec"


def test_a_run_file_with_spaces_in_ids_parses(tmp_path: Path, corpus_copy: Path) -> None:
    spaced = corpus_copy / "battery guide.md"
    spaced.write_text("# Battery guide\n\nThe HB-15 weighs 142 kg and needs a floor stand.\n")
    run = run_grid(
        load_dataset(corpus_copy, limit=3),
        GridPlan(("bm25",), ("extractive",)),
        Settings(),
        cache_root=tmp_path / "cache",
    )
    out = write_outputs(run, summarize(run), tmp_path / "eval")
    documents = set()
    for line in (out / "runs" / "bm25.trec").read_text().splitlines():
        columns = line.split()
        assert len(columns) == 6
        documents.add(from_trec_id(columns[2]))
    assert "battery guide.md" in documents
