"""The grid runner on the sample corpus with real generators: work is done once."""

import json
from pathlib import Path

import pytest

from ragtui.config.settings_file import Settings
from ragtui.corpus.model import Passage
from ragtui.experiment.report.outputs import write_outputs
from ragtui.experiment.run.dataset import load_dataset
from ragtui.experiment.run.grid import GridPlan, run_grid
from ragtui.experiment.run.scoring import summarize
from ragtui.judging.store import JudgmentStore, Label
from tests.conftest import SAMPLE_CORPUS


def test_adding_a_generator_makes_no_generation_calls_for_old_cells(tmp_path: Path) -> None:
    dataset = load_dataset(SAMPLE_CORPUS, limit=3)
    settings = Settings()
    first = GridPlan(("bm25", "dense"), ("extractive", "llamacpp:smollm2"), max_tokens=24)
    run = run_grid(dataset, first, settings, cache_root=tmp_path)
    assert run.generated == {"extractive": 6, "llamacpp:smollm2": 6}
    assert not run.reused
    assert all(cell.error is None and cell.answer.strip() for cell in run.cells)
    before = {(c.retriever, c.generator, c.query_id): c.answer for c in run.cells}

    second = GridPlan(
        ("bm25", "dense"), ("extractive", "llamacpp:smollm2", "llamacpp:gemma3"), max_tokens=24
    )
    rerun = run_grid(dataset, second, settings, cache_root=tmp_path)
    assert rerun.generated == {"llamacpp:gemma3": 6}
    assert rerun.reused == {"extractive": 6, "llamacpp:smollm2": 6}
    for cell in rerun.cells:
        key = (cell.retriever, cell.generator, cell.query_id)
        if key in before:
            assert cell.cached and cell.answer == before[key]
    # Everything that shapes an answer is in its key: a longer limit is new work.
    longer = run_grid(
        dataset,
        GridPlan(("bm25",), ("llamacpp:smollm2",), max_tokens=25),
        settings,
        cache_root=tmp_path,
    )
    assert longer.generated == {"llamacpp:smollm2": 3}

    results = summarize(rerun)
    out = write_outputs(rerun, results, tmp_path / "out")
    written = json.loads((out / "results.json").read_text())
    assert set(written["pipelines"]) == {
        f"{r}+{g}" for r in second.retrievers for g in second.generators
    }
    assert written["generated"] == {"llamacpp:gemma3": 6}
    smollm2 = written["pipelines"]["bm25+llamacpp:smollm2"]
    assert smollm2["prompt_tokens_mean"] > 50 and not smollm2["tokens_estimated"]
    assert smollm2["cost_usd_total"] == 0.0 and smollm2["timing_modes"] == ["fair"]
    assert "f1" in written["attribution"]
    lines = (out / "per_query.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 3 * 3


def test_labels_made_in_the_app_are_the_ground_truth_with_labels(tmp_path: Path) -> None:
    data_root = tmp_path / "data"
    probe = load_dataset(SAMPLE_CORPUS)
    store = JudgmentStore.for_corpus(probe.corpus.root, probe.corpus.source_key, data_root)
    query = "How heavy is the HB-15?"
    heavy = next(p for p in probe.corpus.passages if "kg" in p.text and "HB-15" in p.text)
    chunking = probe.corpus.chunking.key
    store.add_label(Label.for_passage(query, "u-heavy", heavy, 3, chunking))
    other = next(p for p in probe.corpus.passages if p.passage_id != heavy.passage_id)
    store.add_label(Label.for_passage(query, "u-heavy", other, 0, chunking))
    gone = Passage("no/such/passage.md#0", "no/such/passage.md", "gone text", "x", 0, 9)
    store.add_label(Label.for_passage(query, "u-heavy", gone, 2, chunking))

    dataset = load_dataset(SAMPLE_CORPUS, labels_from=data_root)
    assert dataset.judged_unit == "passage"
    assert dataset.queries == {"u-heavy": query}
    assert dataset.qrels == {"u-heavy": {heavy.passage_id: 3, other.passage_id: 0}}
    assert any(
        "1 stale labels not used (1 document no longer in the corpus)" in warning
        for warning in dataset.warnings
    ), dataset.warnings
    run = run_grid(
        dataset, GridPlan(("bm25", "dense"), ("extractive",)), Settings(), cache_root=tmp_path
    )
    results = summarize(run)
    for retriever in ("bm25", "dense"):
        assert results["retrieval"][retriever]["judged_queries"] == 1
        assert results["retrieval"][retriever]["mean"]["Recall@10"] == pytest.approx(1.0)
    out = write_outputs(run, results, tmp_path / "out")
    first_line = (out / "runs" / "bm25.trec").read_text().splitlines()[0]
    assert first_line.split()[2] in {p.passage_id for p in dataset.corpus.passages}


def test_votes_from_the_app_appear_as_win_rates_and_strengths(tmp_path: Path) -> None:
    from ragtui.judging.store import Vote

    dataset = load_dataset(SAMPLE_CORPUS, limit=2)
    run = run_grid(dataset, GridPlan(("bm25",), ("extractive",)), Settings(), cache_root=tmp_path)
    votes = [
        Vote("q", "q1", "bm25+x", "dense+x", choice, "", "", None, None, 0.0)
        for choice in ["b", "b", "b", "a", "tie", "both_bad"]
    ]
    results = summarize(run, votes)
    assert results["votes"]["votes"] == 6
    pair = results["votes"]["pairs"][0]
    assert (pair["first"], pair["first_wins"], pair["second_wins"]) == ("bm25+x", 1, 3)
    strengths = results["votes"]["bradley_terry"]
    assert strengths[0]["name"] == "dense+x" and strengths[0]["log_strength"] > 0
    # Six votes on one query: one unit to resample, below the floor; not stated as a finding.
    assert results["votes"]["bradley_terry_queries"] == 1
    assert results["votes"]["bradley_terry_enough"] is False
    assert strengths[0]["ci_low"] == strengths[0]["ci_high"]
    # None of these was blind: 4 decided sighted votes, the left answer won 1.
    assert results["votes"]["blind_votes"] == 0
    sighted = results["votes"]["position_bias"]["sighted"]
    assert (sighted["left_wins"], sighted["decided"], sighted["share"]) == (1, 4, 0.25)
    assert results["votes"]["position_bias"]["blind"]["decided"] == 0


def test_every_family_of_comparisons_is_corrected_for_multiplicity(tmp_path: Path) -> None:
    from statsmodels.stats.multitest import multipletests

    from tests.cli_runner import ragtui

    out = tmp_path / "out"
    done = ragtui(
        "eval", str(SAMPLE_CORPUS), "--retrievers", "bm25,bm25:okapi,hybrid",
        "--generators", "extractive", "--out", str(out), cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    tested = 0
    for all_rows in results["pairwise"].values():
        # Pipelines that score alike on every query give an interval of zero width: no test
        # (evidence_rules), so no p to correct.
        rows = [row for row in all_rows if "p_value" in row]
        assert all(row["too_few"] for row in all_rows if row not in rows)
        tested += len(rows)
        raw = [row["p_value"] for row in rows]
        _, expected, _, _ = multipletests(raw, method="fdr_bh")
        assert [row["p_adjusted"] for row in rows] == pytest.approx(list(expected))
    assert tested
    report = (out / "report.md").read_text()
    assert "| p | p (BH) |" in report and "Benjamini–Hochberg" in report
