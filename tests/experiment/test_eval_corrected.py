"""``eval --testset`` corrects each retriever's P@k and DCG@k by the person's recorded
random sample (prediction-powered), says which retrievers the data can order, warns about a
circular labeller, and scores a question only the round trip dropped by the person's
grades alone.

The sample corpus's 34 questions are imported as a set; its pool of bm25 and bm25:okapi at
depth 10 holds 377 passages, and ``label queue --budget`` draws the person's sample from
it (above the 200-label floor). The person's grades come from the corpus's qrels (a
passage is as relevant as its document), through ``label import`` as a user's would; a
labeller's grades are appended to the set's ``relevance_grades.jsonl`` as ``judge
relevance`` writes them. The expected figures are computed here from the eval's own run
files and the estimator in ``ragtui.experiment.stats.ppi``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.evidence_rules import SAMPLED_LABELS_FLOOR
from ragtui.experiment.report.outputs import run_file_name
from ragtui.experiment.run.corrected_estimates import METHOD_PRIOR, effective_labels
from ragtui.experiment.stats.ppi import (
    METHOD_CORRECTED,
    POISSON,
    UNIFORM,
    HumanSample,
    metric_gains,
    metric_weights,
    prediction_powered,
)
from ragtui.judging.automatic_grades import AutomaticGrade, AutomaticGrades, LabellerSource
from ragtui.judging.label_designs import rank_prior
from ragtui.judging.trec_ids import from_trec_id
from ragtui.testsets.store import find_testset

RETRIEVERS = ("bm25", "bm25:okapi")
PLANTED = LabellerSource("openai:planted@sha1", "pointwise", "a" * 64)
QUERIES = 34


@pytest.fixture
def imported(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    argv = ["testset", "import", str(corpus_copy), str(corpus_copy / "queries.jsonl")]
    assert main([*argv, "--name", "own"]) == 0
    return corpus_copy


def _truth(corpus: Path) -> dict[tuple[str, str], int]:
    rows = (corpus / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {(row.split("\t")[0], row.split("\t")[1]): int(row.split("\t")[2]) for row in rows}


def _queue(corpus: Path, out: Path, *extra: str, retrievers=RETRIEVERS) -> list[dict]:
    argv = ["label", "queue", str(corpus), "--testset", "own", "--retrievers", ",".join(retrievers)]
    assert main([*argv, "--depth", "10", "--out", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _import(corpus: Path, lines: list[dict], file: Path) -> None:
    file.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert main(["label", "import", str(corpus), str(file), "--testset", "own"]) == 0


def _folder(corpus: Path) -> Path:
    loaded = load_corpus(corpus)
    return find_testset("own", loaded.root, loaded.source_key).folder


def _key(line: dict) -> tuple[str, str]:
    return line["query_id"], line["passage_id"]


def _planted(folder: Path, lines: list[dict], truth, source=PLANTED) -> dict:
    """A labeller that agrees with the truth on four pairs in five (the fifth gets 3 − the
    truth); it leaves every seventh pair ungraded and abstains on every eleventh."""
    grades = {}
    store = AutomaticGrades(folder)
    for number, line in enumerate(lines):
        if number % 7 == 3:
            continue
        grade = truth.get((line["query_id"], line["doc_id"]), 0)
        grade = 3 - grade if number % 5 == 0 else grade
        grade = None if number % 11 == 2 else grade
        store.add(
            AutomaticGrade(
                line["query_id"],
                line["doc_id"],
                line["passage_id"],
                line["start"],
                line["end"],
                line["text_sha256"],
                grade,
                source,
            )
        )
        if grade is not None:
            grades[_key(line)] = grade
    return grades


def _graded_sample(corpus: Path, tmp_path: Path, budget: int, **queue) -> list[dict]:
    sample = _queue(corpus, tmp_path / "sample.jsonl", "--budget", str(budget), "--seed", "3")
    truth = _truth(corpus)
    for line in sample:
        line["grade"] = truth.get((line["query_id"], line["doc_id"]), 0)
    _import(corpus, sample, tmp_path / "graded.jsonl")
    return sample


def _eval(corpus: Path, out: Path, capsys, *extra: str, retrievers=RETRIEVERS):
    capsys.readouterr()
    argv = ["eval", str(corpus), "--testset", "own", "--retrievers", ",".join(retrievers)]
    assert main([*argv, "--generators", "extractive", "--out", str(out), *extra]) == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return results, printed, (out / "report.md").read_text(encoding="utf-8")


def _ranks(out: Path, population: list[tuple[str, str]], k: int = 10) -> np.ndarray:
    """Each retriever's rank of each population pair, read from eval's own run files."""
    column = {pair: index for index, pair in enumerate(population)}
    ranks = np.zeros((len(RETRIEVERS), len(population)), dtype=int)
    for row, retriever in enumerate(RETRIEVERS):
        for line in (out / "runs" / run_file_name(retriever)).read_text().splitlines():
            query_id, _, judged_id, rank, _score, _tag = line.split()
            if int(rank) <= k:
                ranks[row, column[(from_trec_id(query_id), from_trec_id(judged_id))]] = int(rank)
    return ranks


def _expected(out: Path, pool: list[dict], sample: list[dict], automatic: dict | None):
    population = sorted(_key(line) for line in pool)
    grades = {_key(line): line["grade"] for line in sample}
    rows = np.array([i for i, pair in enumerate(population) if pair in grades])
    figures = {}
    for metric in ("P@10", "DCG@10"):
        human = HumanSample(
            rows,
            metric_gains([grades[population[row]] for row in rows], metric),
            np.full(len(rows), len(rows) / len(population)),
            UNIFORM,
            len(population),
        )
        ranks = _ranks(out, population)
        # Without a labeller, the grades correct the retrievers' rank prior.
        machine = (
            rank_prior(ranks)
            if automatic is None
            else metric_gains([automatic.get(pair, 0) for pair in population], metric)
        )
        weights = metric_weights(ranks, metric, QUERIES)
        figures[metric] = (prediction_powered(weights, human, machine), weights, human, machine)
    return figures


def _by(results: dict) -> dict[tuple[str, str], dict]:
    return {(entry["retriever"], entry["metric"]): entry for entry in results["corrected"]}


def test_corrected_entries_are_the_estimator_on_the_samples_arrays(
    imported: Path, tmp_path: Path, capsys
) -> None:
    pool = _queue(imported, tmp_path / "pool.jsonl")
    assert len(pool) > 300
    planted = _planted(_folder(imported), pool, _truth(imported))
    sample = _graded_sample(imported, tmp_path, 250)
    out = tmp_path / "report"
    results, printed, report = _eval(imported, out, capsys)
    expected = _expected(out, pool, sample, planted)
    entries = _by(results)
    assert len(results["corrected"]) == 4
    for metric, (totals, _weights, _human, _machine) in expected.items():
        for index, retriever in enumerate(RETRIEVERS):
            entry, figure = entries[(retriever, metric)], totals.entry(index)
            assert entry["status"] == "corrected" and entry["enough"] is True
            for name in ("estimate", "ci_low", "ci_high", "lam", "automatic_only"):
                assert entry[name] == pytest.approx(getattr(figure, name), abs=1e-12)
            assert entry["human_only"] == pytest.approx(
                {
                    "estimate": figure.human_only.estimate,
                    "ci_low": figure.human_only.ci_low,
                    "ci_high": figure.human_only.ci_high,
                },
                abs=1e-12,
            )
            assert (entry["n_human"], entry["n_automatic"]) == (250, len(pool))
            assert entry["method"].startswith(METHOD_CORRECTED) and "λ" in entry["method"]
            assert entry["effective_labels"] > 250  # the planted labeller carries signal
            assert entry["words"] in report and entry["words"] in printed
    # The P@10 gap of the two is estimated the same way, and reported as ordered or not.
    _totals, weights, human, machine = expected["P@10"]
    gap = prediction_powered(weights[0] - weights[1], human, machine).entry(0)
    (ordering,) = results["corrected_summary"]["orderings"]
    assert (ordering["a"], ordering["b"]) == RETRIEVERS
    assert ordering["gap"] == pytest.approx(gap.estimate, abs=1e-12)
    assert (ordering["ci_low"], ordering["ci_high"]) == pytest.approx((gap.ci_low, gap.ci_high))
    ordered = gap.ci_low > 0.01 or gap.ci_high < -0.01
    assert ordering["status"] == ("ordered" if ordered else "cannot order")
    words = "above" if ordered else "cannot order bm25 and bm25:okapi on corrected P@10"
    assert words in printed and words in report
    # The one picture: automatic only, yours only and corrected, in the terminal and report.
    for text in (printed, report):
        assert "corrected" in text and "├" in text and "○" in text
    assert "## Corrected estimates" in report
    assert "never correction" in report and "count 0 as its grade" in report
    assert "nDCG@10 is not corrected" in report
    assert "Corrected P@10: automatic grades alone" in (out / "report.html").read_text()


def test_without_a_labeller_your_weighted_grades_correct_the_rank_prior(
    imported: Path, tmp_path: Path, capsys
) -> None:
    pool = _queue(imported, tmp_path / "pool.jsonl")
    sample = _graded_sample(imported, tmp_path, 220)
    out = tmp_path / "report"
    results, printed, _report = _eval(imported, out, capsys)
    expected = _expected(out, pool, sample, None)
    for metric, (totals, weights, human, _prior) in expected.items():
        for index, retriever in enumerate(RETRIEVERS):
            entry, figure = _by(results)[(retriever, metric)], totals.entry(index)
            assert (entry["n_human"], entry["n_automatic"]) == (220, 0)
            assert entry["method"].startswith(METHOD_PRIOR) and "λ" in entry["method"]
            assert entry["automatic_only"] is None  # the prior is a score, not a grade
            for name in ("estimate", "ci_low", "ci_high", "lam"):
                assert entry[name] == pytest.approx(getattr(figure, name), abs=1e-12)
            # Beside it, your weighted grades alone: the plain estimate the prior corrects.
            alone = prediction_powered(weights, human, None).entry(index)
            assert entry["human_only"]["estimate"] == pytest.approx(alone.estimate, abs=1e-12)
            assert entry["effective_labels"] == pytest.approx(
                effective_labels(220, len(pool), figure.effective_labels)
            )
    assert results["corrected_summary"]["prediction"] == "rank prior"
    assert "your grades only (no labeller), correcting the retrievers' rank prior" in printed


def test_the_whole_pool_graded_gives_exact_figures_with_nothing_to_correct(
    imported: Path, tmp_path: Path, capsys
) -> None:
    """Every pair of the sample's pool graded: the figures are the grades' own, exact (no
    sampling error), and neither a labeller nor the rank prior has anything to correct."""
    pool = _queue(imported, tmp_path / "pool.jsonl")
    sample = _graded_sample(imported, tmp_path, len(pool))
    assert len(sample) == len(pool)
    out = tmp_path / "report"
    results, _printed, _report = _eval(imported, out, capsys)
    summary = results["corrected_summary"]
    assert summary["prediction"] == "none" and summary["sample"]["graded"] == len(pool)
    population = sorted(_key(line) for line in pool)
    grades = {_key(line): line["grade"] for line in sample}
    for metric in ("P@10", "DCG@10"):
        exact = metric_weights(_ranks(out, population), metric, QUERIES) @ metric_gains(
            [grades[pair] for pair in population], metric
        )
        for index, retriever in enumerate(RETRIEVERS):
            entry = _by(results)[(retriever, metric)]
            assert entry["method"].startswith("Horvitz-Thompson (your grades only)")
            assert entry["automatic_only"] is None and entry["n_automatic"] == 0
            assert entry["estimate"] == pytest.approx(exact[index], abs=1e-12)
            assert entry["ci_low"] == pytest.approx(entry["ci_high"], abs=1e-12)


def test_below_the_floor_the_figures_say_too_few(imported: Path, tmp_path: Path, capsys) -> None:
    budget = SAMPLED_LABELS_FLOOR.minimum - 50
    _graded_sample(imported, tmp_path, budget)
    results, printed, report = _eval(imported, tmp_path / "report", capsys)
    words = f"too few labels to tell (n = {budget})"
    for entry in results["corrected"]:
        assert entry["status"] == "too few" and entry["words"] == words
        assert entry["estimate"] is None and entry["ci_low"] is None
    (ordering,) = results["corrected_summary"]["orderings"]
    assert ordering["status"] == "too few" and ordering["order"] is None
    for text in (printed, report):
        assert f"bm25 {words}" in text
        assert f"cannot order bm25 and bm25:okapi: {words}" in text


def test_grades_outside_the_sample_or_made_in_sight_do_not_correct(
    imported: Path, tmp_path: Path, capsys
) -> None:
    pool = _queue(imported, tmp_path / "pool.jsonl")
    _planted(_folder(imported), pool, _truth(imported))
    sample = _graded_sample(imported, tmp_path, 240)
    before, _printed, _report = _eval(imported, tmp_path / "before", capsys)
    # Half the pool pairs outside the sample graded "highly relevant": eval's qrels take
    # them, the correction must not.
    drawn = {_key(line) for line in sample}
    outside = [{**line, "grade": 3} for line in pool if _key(line) not in drawn][::2]
    assert outside
    _import(imported, outside, tmp_path / "outside.jsonl")
    after, _printed, _report = _eval(imported, tmp_path / "after", capsys)
    assert after["dataset"]["judgment_counts"]["human"] == len(sample) + len(outside)
    assert after["corrected"] == before["corrected"]
    assert after["retrieval"]["bm25"]["mean"] != before["retrieval"]["bm25"]["mean"]

    # A sampled pair graded again on the compare screen (no source: retrievers in sight)
    # leaves the correction sample, and the report says why.
    from ragtui.judging.label_queue import QueuePair
    from ragtui.judging.pools import UnitTexts
    from ragtui.judging.store import JudgmentStore

    loaded = load_corpus(imported)
    first = sample[0]
    judged = UnitTexts(loaded, "passage").get(first["passage_id"])
    sighted = QueuePair(first["query_id"], first["query"], judged, 1.0).label(
        3, loaded.chunking.key, "compare"
    )
    store = JudgmentStore.for_corpus(loaded.root, loaded.source_key)
    store.add_label(sighted.__class__(**{**sighted.__dict__, "source": None}))
    results, _printed, report = _eval(imported, tmp_path / "sighted", capsys)
    assert {entry["n_human"] for entry in results["corrected"]} == {239}
    assert results["corrected_summary"]["sample"]["graded_on_compare_screen"] == 1
    assert "1 sampled pairs hold only a compare-screen grade" in report


def test_figures_beyond_the_samples_pool_are_not_corrected(
    imported: Path, tmp_path: Path, capsys
) -> None:
    # The sample is drawn from bm25's pool alone; eval also runs bm25:okapi, whose top 10
    # holds passages bm25's does not.
    _queue(imported, tmp_path / "bm25.jsonl", retrievers=("bm25",))
    sample = _queue(
        imported, tmp_path / "sample.jsonl", "--budget", "210", "--seed", "1", retrievers=("bm25",)
    )
    truth = _truth(imported)
    for line in sample:
        line["grade"] = truth.get((line["query_id"], line["doc_id"]), 0)
    _import(imported, sample, tmp_path / "graded.jsonl")
    results, printed, report = _eval(imported, tmp_path / "report", capsys)
    entries = _by(results)
    assert entries[("bm25", "P@10")]["status"] == "corrected"
    okapi = entries[("bm25:okapi", "P@10")]
    words = "not corrected: the sample was drawn from the pool of bm25 at depth 10"
    assert okapi["status"] == "not corrected" and okapi["words"] == words
    assert okapi["estimate"] is None and okapi["outside_pairs"] > 0
    (ordering,) = results["corrected_summary"]["orderings"]
    assert ordering["status"] == "not corrected"
    for text in (printed, report):
        assert f"bm25:okapi {words}" in text
        assert "cannot order bm25 and bm25:okapi: their gap is not corrected" in text
    # A deeper cut than the sample's depth reaches beyond it too.
    deeper, _printed, _report = _eval(
        imported, tmp_path / "deeper", capsys, "-k", "20", retrievers=("bm25",)
    )
    assert _by(deeper)[("bm25", "P@20")]["status"] == "not corrected"


def test_a_labeller_sharing_a_retrievers_model_is_flagged(
    imported: Path, tmp_path: Path, capsys
) -> None:
    pool = _queue(imported, tmp_path / "pool.jsonl", retrievers=("bm25",))
    circular = LabellerSource("openai:planted@sha1", "pointwise", "c" * 64, "all-MiniLM-L6-v2")
    _planted(_folder(imported), pool[:20], _truth(imported), source=circular)
    results, printed, report = _eval(imported, tmp_path / "report", capsys, retrievers=("dense",))
    (line,) = results["circularity"]
    assert line.startswith("circularity: labeller") and "retriever dense" in line
    assert line in printed and line in report
    # The same labeller on BM25 alone shares no model: no line.
    plain, printed, _report = _eval(imported, tmp_path / "bm25", capsys, retrievers=("bm25",))
    assert plain["circularity"] == [] and "circularity" not in printed


# --- a generated set: a question only the round trip dropped -------------------------------

CASES = ["valve", "pump", "generic", "french", "unanswerable"]


@pytest.fixture
def generated(scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tests.test_testsets import make_corpus

    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    return make_corpus(tmp_path / "corpus", CASES)


def test_a_dropped_question_you_graded_is_scored_by_your_grades_alone(
    generated: Path, tmp_path: Path, capsys
) -> None:
    from ragtui.experiment.run.dataset import load_dataset
    from ragtui.experiment.run.pooled_judgments import HUMAN
    from ragtui.testsets.for_labeling import labeling_only
    from tests.test_testsets import make_set

    assert make_set(generated, "s", len(CASES)) == 0
    loaded = load_corpus(generated)
    testset = find_testset("s", loaded.root, loaded.source_key)
    (dropped,) = labeling_only(testset)
    source = next(r for r in testset.records if r["query_id"] == dropped)
    before = load_dataset(generated, testset="s")
    assert dropped not in before.queries  # not graded yet: not scored

    queue = tmp_path / "queue.jsonl"
    label = ["label", "queue", str(generated), "--testset", "s", "--retrievers", "bm25"]
    assert main([*label, "--depth", "3", "--out", str(queue)]) == 0
    lines = [json.loads(line) for line in queue.read_text().splitlines()]
    mine = [line for line in lines if line["query_id"] == dropped]
    # The person grades the dropped question's own source passage 0 and another one 2; a
    # labeller grades a third, which must not count.
    by_passage = {line["passage_id"]: line for line in mine}
    own = by_passage[source["passage_id"]]
    others = [line for line in mine if line["passage_id"] != source["passage_id"]]
    assert len(others) >= 2
    graded = [{**others[0], "grade": 2}, {**own, "grade": 0}]
    graded_file = tmp_path / "graded.jsonl"
    graded_file.write_text("".join(json.dumps(line) + "\n" for line in graded))
    assert main(["label", "import", str(generated), str(graded_file), "--testset", "s"]) == 0
    third = others[1]
    AutomaticGrades(testset.folder).add(
        AutomaticGrade(
            dropped,
            third["doc_id"],
            third["passage_id"],
            third["start"],
            third["end"],
            third["text_sha256"],
            3,
            PLANTED,
        )
    )

    dataset = load_dataset(generated, testset="s")
    assert dropped in dataset.queries and dropped not in dataset.answers
    judged = dataset.pooled.judgments[dropped]
    assert {judgment.source for judgment in judged.values()} == {HUMAN}
    assert {pid: j.grade for pid, j in judged.items()} == {
        line["passage_id"]: line["grade"] for line in graded
    }
    assert dataset.qrels[dropped].get(source["passage_id"], 0) == 0
    assert "1 more that only the round trip dropped, judged by your grades" in dataset.source
    out = tmp_path / "report"
    argv = ["eval", str(generated), "--testset", "s", "--retrievers", "bm25", "--out", str(out)]
    capsys.readouterr()
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["queries"] == len(before.queries) + 1
    assert dropped in results["retrieval_per_query"]["bm25"]
    assert "only the round trip dropped" in (out / "report.md").read_text()


# --- an active (rank-prior) sample ------------------------------------------------------------


def test_a_rank_prior_samples_figures_are_the_poisson_estimate(
    imported: Path, tmp_path: Path, capsys
) -> None:
    """``label queue --budget 260 --design rank-prior``: each graded pair weighs by its own
    recorded probability. Eval's corrected entries equal the estimator on a
    ``HumanSample(POISSON)`` with those probabilities (with the labeller and without),
    and differ from reading the same grades as a uniform sample; the report names the
    design; ``label plan`` reads the sample the same way."""
    pool = _queue(imported, tmp_path / "pool.jsonl")
    sample = _queue(
        imported,
        tmp_path / "sample.jsonl",
        "--budget",
        "260",
        "--seed",
        "5",
        "--design",
        "rank-prior",
    )
    assert SAMPLED_LABELS_FLOOR.met(len(sample)) and len(sample) != 260
    # The file for whoever grades holds no chance; the set's sample record does, per pair.
    assert not any("inclusion_probability" in line for line in sample)
    record = [
        json.loads(text)
        for text in (_folder(imported) / "label_samples.jsonl").read_text().splitlines()
    ][-1]
    recorded = {
        (query_id, judged_id): chance
        for (query_id, judged_id, _sha), chance in zip(
            record["pairs"], record["inclusion_probabilities"], strict=True
        )
    }
    assert len(set(recorded.values())) > 1
    truth = _truth(imported)
    for line in sample:
        line["grade"] = truth.get((line["query_id"], line["doc_id"]), 0)
    _import(imported, sample, tmp_path / "graded.jsonl")
    population = sorted(_key(line) for line in pool)
    grades = {_key(line): line["grade"] for line in sample}
    chance = {_key(line): recorded[_key(line)] for line in sample}
    rows = np.array([i for i, pair in enumerate(population) if pair in grades])
    inclusion = np.array([chance[population[row]] for row in rows])

    def expected(out: Path, automatic: dict | None, metric: str, design: str = POISSON):
        gains = metric_gains([grades[population[row]] for row in rows], metric)
        human = (
            HumanSample(rows, gains, inclusion, POISSON, len(population))
            if design == POISSON
            else HumanSample.uniform(rows, gains, len(population))
        )
        ranks = _ranks(out, population)
        machine = (
            None
            if automatic is None
            else rank_prior(ranks)
            if automatic == "prior"
            else metric_gains([automatic.get(pair, 0) for pair in population], metric)
        )
        weights = metric_weights(ranks, metric, QUERIES)
        return prediction_powered(weights, human, machine)

    out = tmp_path / "alone"
    results, printed, report = _eval(imported, out, capsys)
    assert results["corrected_summary"]["sample"]["sampling"] == "rank-prior"
    assert results["corrected_summary"]["sample"]["design"] == POISSON
    for metric in ("P@10", "DCG@10"):
        totals = expected(out, "prior", metric)
        alone = expected(out, None, metric)
        uniform = expected(out, None, metric, UNIFORM)
        for index, retriever in enumerate(RETRIEVERS):
            entry, figure = _by(results)[(retriever, metric)], totals.entry(index)
            assert entry["status"] == "corrected" and entry["n_human"] == len(sample)
            # Without a labeller the weighted grades correct the rank prior.
            assert (entry["estimate"], entry["ci_low"], entry["ci_high"]) == pytest.approx(
                (figure.estimate, figure.ci_low, figure.ci_high), abs=1e-12
            )
            yours = entry["human_only"]
            assert (yours["estimate"], yours["ci_low"], yours["ci_high"]) == pytest.approx(
                (
                    alone.entry(index).estimate,
                    alone.entry(index).ci_low,
                    alone.entry(index).ci_high,
                ),
                abs=1e-12,
            )
            # Yours alone is the direct Horvitz–Thompson sum, not the grades read as uniform.
            assert yours["estimate"] == pytest.approx(
                float(
                    metric_weights(_ranks(out, population), metric, QUERIES)[index, rows]
                    @ (metric_gains([grades[population[r]] for r in rows], metric) / inclusion)
                ),
                abs=1e-12,
            )
            assert yours["estimate"] != pytest.approx(uniform.entry(index).estimate, abs=1e-6)
    for text in (printed, report):
        assert "on a rank-prior random sample (Poisson, each grade weighted by the inverse" in text

    planted = _planted(_folder(imported), pool, truth)
    out = tmp_path / "corrected"
    results, _printed, _report = _eval(imported, out, capsys)
    for metric in ("P@10", "DCG@10"):
        totals = expected(out, planted, metric)
        for index, retriever in enumerate(RETRIEVERS):
            entry, figure = _by(results)[(retriever, metric)], totals.entry(index)
            assert entry["n_automatic"] == len(pool)
            for name in ("estimate", "ci_low", "ci_high", "lam"):
                assert entry[name] == pytest.approx(getattr(figure, name), abs=1e-12)

    # label plan reads the same weighted sample: its widths now are the estimator's.
    capsys.readouterr()
    argv = ["label", "plan", str(imported), "--testset", "own", "--width", "0.05"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"from {len(sample)} of your grades on a rank-prior random sample" in printed
    totals = expected(out, planted, "P@10")
    width = float(totals.ci_high[0] - totals.ci_low[0])
    assert f"  bm25: interval {width:.3f} wide now" in printed
