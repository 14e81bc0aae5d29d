"""report.md and report.html are meant to be sent to someone: they name the corpus by its
folder's name and content hash, never by a local path; results.json keeps the full paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ragtui.cli import main
from tests.conftest import SAMPLE_CORPUS


def test_the_report_names_the_corpus_not_its_local_path(tmp_path: Path) -> None:
    corpus = tmp_path / "where" / "my" / "corpora" / "live" / "sample_corpus_of_mine"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    (corpus / "qrels" / "test.tsv").unlink()  # a warning that names the corpus folder
    out = tmp_path / "eval"
    code = main(
        [
            "eval",
            str(corpus),
            "--retrievers",
            "bm25",
            "--generators",
            "extractive",
            "--limit",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    dataset = results["dataset"]
    assert dataset["path"] == str(corpus)  # the full path stays in results.json
    assert dataset["name"] == "sample_corpus_of_mine"
    assert len(dataset["content_sha256"]) == 64
    markdown = (out / "report.md").read_text(encoding="utf-8")
    page = (out / "report.html").read_text(encoding="utf-8")
    for shared in (markdown, page):
        assert str(tmp_path) not in shared
    assert (
        f"Dataset `sample_corpus_of_mine` (content sha256 {dataset['content_sha256'][:12]})"
        in markdown
    )
    assert "- sample_corpus_of_mine: no qrels/*.tsv" in markdown  # the warning, shareable
    assert "<title>ragtui eval: sample_corpus_of_mine (content sha256" in page


def test_the_same_corpus_elsewhere_has_the_same_content_hash(tmp_path: Path) -> None:
    from ragtui.corpus import load_corpus

    copies = [tmp_path / "one" / "corpus", tmp_path / "two" / "corpus"]
    for copy in copies:
        shutil.copytree(SAMPLE_CORPUS, copy)
    keys = {load_corpus(copy, cache_root=tmp_path / "cache").content_key for copy in copies}
    assert len(keys) == 1


def test_other_paths_in_the_home_folder_are_written_with_a_tilde(monkeypatch) -> None:
    from ragtui.experiment.report.formatting import shareable

    monkeypatch.setenv("HOME", "/home/someone")
    dataset = {"path": "/home/someone/work/corpus", "name": "corpus"}
    text = "labels made in the app (/home/someone/.local/share/ragtui/labels.jsonl)"
    assert shareable(text, dataset) == "labels made in the app (~/.local/share/ragtui/labels.jsonl)"
    assert shareable("/home/someone/work/corpus/qrels", dataset) == "corpus/qrels"
