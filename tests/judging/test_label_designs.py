"""``label --budget N --design rank-prior|labeller``: an active (Poisson) sample whose every
drawn pair carries its own recorded inclusion probability, read back per row; and, over
many seeded draws of each design on a fixed pool, an estimate weighted by those
probabilities that is unbiased where the unweighted mean is not.

The CLI tests use the sample corpus's 34 questions imported as a set and the depth-10 pool
of bm25 and bm25:okapi (real indexes); the simulation uses a fixed synthetic pool.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragtui.cli import main
from ragtui.corpus import load_corpus
from ragtui.experiment.stats.ppi import POISSON, HumanSample, prediction_powered
from ragtui.judging.automatic_grades import AutomaticGrade, AutomaticGrades, LabellerSource
from ragtui.judging.label_designs import (
    LABELLER_UNIFORM_SHARE,
    correction_spread,
    labeller_inclusion,
    poisson_draw,
    rank_prior_inclusion,
)
from ragtui.judging.label_samples import latest_sample, sampled_pool
from ragtui.judging.pools import pool_key, read_pool
from ragtui.judging.store import JudgmentStore
from ragtui.testsets.for_labeling import labeling_queries
from ragtui.testsets.store import find_testset

RETRIEVERS = ("bm25", "bm25:okapi")
LABELLER = LabellerSource("openai:planted@sha1", "pointwise", "b" * 64)


@pytest.fixture
def imported(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(tmp_path / "data"))
    argv = ["testset", "import", str(corpus_copy), str(corpus_copy / "queries.jsonl")]
    assert main([*argv, "--name", "own"]) == 0
    return corpus_copy


def _queue(corpus: Path, out: Path, *extra: str) -> list[dict]:
    argv = ["label", "queue", str(corpus), "--testset", "own", "--retrievers", ",".join(RETRIEVERS)]
    assert main([*argv, "--depth", "10", "--out", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _key(line: dict) -> tuple[str, str]:
    return line["query_id"], line["passage_id"]


def _set(corpus: Path):
    loaded = load_corpus(corpus)
    return loaded, find_testset("own", loaded.root, loaded.source_key)


def _population(corpus: Path):
    """The pool's pairs in (query id, judged id) order, as the queue builds it."""
    loaded, testset = _set(corpus)
    pool = read_pool(testset.folder, "passage", pool_key(loaded))
    return pool.pairs(RETRIEVERS, 10)


def _read_back(corpus: Path):
    loaded, testset = _set(corpus)
    record = latest_sample(testset.folder)
    assert record is not None
    store = JudgmentStore.for_corpus(loaded.root, loaded.source_key)
    queries = labeling_queries(testset, kept_only=False)
    return record, sampled_pool(testset.folder, loaded, "passage", queries, store, record)


def test_a_rank_prior_sample_records_each_pairs_probability(imported: Path, tmp_path: Path) -> None:
    everything = _queue(imported, tmp_path / "all.jsonl")
    lines = _queue(
        imported, tmp_path / "rp.jsonl", "--budget", "60", "--seed", "2", "--design", "rank-prior"
    )
    items = _population(imported)
    assert len(items) == len(everything) > 300
    ranks = np.array([[item.placed.get(name, 0) for item in items] for name in RETRIEVERS])
    ranks[ranks > 10] = 0
    expected = rank_prior_inclusion(ranks, 60)
    assert expected.sum() == pytest.approx(60)
    assert np.all(expected > 0) and expected.min() < expected.max()
    # Each drawn pair is one of the pool, with its own probability from the ranks, and the
    # draw is the exact Bernoulli draw with those probabilities under the seed.
    column = {(item.query_id, item.judged_id): row for row, item in enumerate(items)}
    drawn = sorted(column[_key(line)] for line in lines)
    assert drawn == list(poisson_draw(expected, 2))
    # The file for whoever grades holds no chance (it would say how the pair was ranked);
    # the set's sample record holds each drawn pair's, in the order of its pairs.
    assert not any("inclusion_probability" in line for line in lines)
    first, _sampled = _read_back(imported)
    chances = dict(zip(map(tuple, first["pairs"]), first["inclusion_probabilities"], strict=True))
    for line in lines:
        key = (line["query_id"], line["passage_id"], line["text_sha256"])
        assert chances[key] == pytest.approx(expected[column[_key(line)]])
    assert len(set(chances.values())) > 1
    # Seeded: the same seed draws the same queue, another seed another one.
    again = _queue(
        imported, tmp_path / "rp2.jsonl", "--budget", "60", "--seed", "2", "--design", "rank-prior"
    )
    assert again == lines
    other = _queue(
        imported, tmp_path / "rp3.jsonl", "--budget", "60", "--seed", "3", "--design", "rank-prior"
    )
    assert {_key(line) for line in other} != {_key(line) for line in lines}
    # Kept with the set: the design's name and every pair's probability, read back per row
    # (the latest sample: seed 3's).
    record, sampled = _read_back(imported)
    assert record["design"]["sampling"] == "rank-prior" and record["design"]["seed"] == 3
    assert record["inclusion_probability"] is None  # no single probability: not uniform
    assert sampled.sampling == "rank-prior" and sampled.design.poisson
    assert list(sampled.sampled) == sorted(column[_key(line)] for line in other)
    assert list(sampled.sampled) == list(poisson_draw(expected, 3))
    for row in sampled.sampled:
        assert sampled.inclusion[row] == pytest.approx(expected[row])


def test_an_older_uniform_record_still_reads_as_uniform(imported: Path, tmp_path: Path) -> None:
    lines = _queue(imported, tmp_path / "u.jsonl", "--budget", "40", "--seed", "1")
    _loaded, testset = _set(imported)
    samples = testset.folder / "label_samples.jsonl"
    (record,) = [json.loads(line) for line in samples.read_text().splitlines()]
    assert record["design"]["sampling"] == "uniform"
    assert set(record["inclusion_probabilities"]) == {record["inclusion_probability"]}
    # As written before designs existed: no design name, one probability for all pairs.
    del record["design"]["sampling"], record["inclusion_probabilities"]
    samples.write_text(json.dumps(record) + "\n")
    _record, sampled = _read_back(imported)
    assert sampled.sampling == "uniform" and not sampled.design.poisson
    assert len(sampled.sampled) == len(lines) == 40
    assert set(sampled.inclusion.values()) == {40 / len(sampled.population)}
    # A design this version does not know is not read as any design.
    record["design"]["sampling"] = "from-the-future"
    samples.write_text(json.dumps(record) + "\n")
    assert latest_sample(testset.folder) is None


def test_the_labeller_design_without_labeller_grades_says_what_to_do(
    imported: Path, tmp_path: Path, capsys
) -> None:
    capsys.readouterr()
    argv = ["label", "queue", str(imported), "--testset", "own", "--retrievers", "bm25"]
    argv += ["--budget", "30", "--design", "labeller", "--out", str(tmp_path / "q.jsonl")]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "--design labeller: test set 'own' has no labeller grades" in error
    assert "ragtui judge relevance" in error and "--design uniform or rank-prior" in error
    assert not (tmp_path / "q.jsonl").exists()


def test_the_labeller_design_draws_where_the_correction_has_most_to_fix(
    imported: Path, tmp_path: Path
) -> None:
    everything = _queue(imported, tmp_path / "all.jsonl")
    _loaded, testset = _set(imported)
    store = AutomaticGrades(testset.folder)
    # Grades 0 and 3 with an expected grade near them (sure), the middle grades with an
    # expected grade of 1.5 (unsure); every fifth pair not graded at all.
    for number, line in enumerate(everything):
        if number % 5 == 4:
            continue
        grade = (0, 1, 2, 3)[number % 4]
        score = {0: 0.1, 1: 1.5, 2: 1.5, 3: 2.9}[grade]
        store.add(
            AutomaticGrade(
                line["query_id"],
                line["doc_id"],
                line["passage_id"],
                line["start"],
                line["end"],
                line["text_sha256"],
                grade,
                LABELLER,
                score=score,
            )
        )
    lines = _queue(
        imported, tmp_path / "lab.jsonl", "--budget", "80", "--seed", "4", "--design", "labeller"
    )
    items = _population(imported)
    column = {(item.query_id, item.judged_id): row for row, item in enumerate(items)}
    by_row = {column[_key(line)]: number for number, line in enumerate(everything)}
    uncertainty = []
    for row in range(len(items)):
        number = by_row[row]
        if number % 5 == 4:
            uncertainty.append(correction_spread(None))
        else:
            grade = (0, 1, 2, 3)[number % 4]
            uncertainty.append(correction_spread(grade, {0: 0.1, 1: 1.5, 2: 1.5, 3: 2.9}[grade]))
    expected = labeller_inclusion(uncertainty, 80)
    assert expected.sum() == pytest.approx(80)
    drawn = sorted(column[_key(line)] for line in lines)
    assert drawn == list(poisson_draw(expected, 4))
    assert not any("inclusion_probability" in line for line in lines)
    graded = [row for row in range(len(items)) if by_row[row] % 5 != 4]
    # A sure 0 leaves little to fix; an unsure middle grade most; a sure 3 in between (the
    # estimate keeps only part of the labeller's grade: correction_spread).
    sure_zero = [expected[row] for row in graded if by_row[row] % 4 == 0]
    unsure = [expected[row] for row in graded if by_row[row] % 4 in (1, 2)]
    sure_top = [expected[row] for row in graded if by_row[row] % 4 == 3]
    # (70% of the budget is spread evenly, LABELLER_UNIFORM_SHARE, so the steered 30%
    # separates them by a fifth or more)
    assert min(unsure) > max(sure_top) and min(sure_top) > 1.2 * max(sure_zero)
    assert min(sure_zero) >= LABELLER_UNIFORM_SHARE * 80 / len(items) - 1e-12
    record, sampled = _read_back(imported)
    assert record["design"]["sampling"] == "labeller"
    assert record["design"]["labeller"] == LABELLER.describe()
    assert {row: sampled.inclusion[row] for row in drawn} == pytest.approx(
        {row: expected[row] for row in drawn}
    )


# --- many seeded draws on a fixed pool --------------------------------------------------------


def _fixed_pool(seed: int):
    """4,000 pairs, four retrievers' ranks (0: not ranked), grades 0–3 more often relevant
    where ranked high by several, P@10-like weights of each retriever, and a labeller that
    agrees four times in five with an expected grade that is unsure where it is wrong."""
    rng = np.random.default_rng(seed)
    size = 4_000
    ranks = np.where(rng.random((4, size)) < 0.5, rng.integers(1, 11, (4, size)), 0)
    ranks[:, (ranks > 0).sum(axis=0) == 0] = 10
    prior = np.where(ranks > 0, 1 / np.log2(np.where(ranks > 0, ranks, 1) + 1), 0).mean(axis=0)
    relevant = rng.random(size) < 0.6 * prior
    grades = np.where(relevant, rng.integers(1, 4, size), 0).astype(float)
    agree = rng.random(size) < 0.8
    labeller = np.where(agree, grades, rng.integers(0, 4, size)).astype(float)
    expected_grade = np.where(agree, labeller, 1.5 + rng.uniform(-0.5, 0.5, size))
    weights = (ranks > 0) / (10 * 400)
    return ranks, grades, labeller, expected_grade, weights


@pytest.mark.parametrize("design", ["rank-prior", "labeller"])
def test_the_weighted_estimate_is_unbiased_over_many_draws(design: str) -> None:
    """2,000 seeded draws of the design (about 300 pairs each) on one fixed pool: the mean
    of the Horvitz–Thompson estimate (your grades alone, and corrected by the labeller)
    lies within 3 standard errors of the pool's true figure for every retriever, while the
    unweighted sample mean (the draw read as if uniform) is off by more than 10."""
    ranks, grades, labeller, expected_grade, weights = _fixed_pool(seed=7)
    target = weights @ grades
    size = len(grades)
    if design == "rank-prior":
        inclusion = rank_prior_inclusion(ranks, 300)
    else:
        inclusion = labeller_inclusion(
            [
                correction_spread(int(g), float(s))
                for g, s in zip(labeller, expected_grade, strict=True)
            ],
            300,
        )
    assert inclusion.sum() == pytest.approx(300) and inclusion.min() > 0
    draws = 2_000
    weighted = np.empty((draws, len(weights)))
    corrected = np.empty((draws, len(weights)))
    unweighted = np.empty((draws, len(weights)))
    for seed in range(draws):
        rows = poisson_draw(inclusion, seed)
        sample = HumanSample(rows, grades[rows], inclusion[rows], POISSON, size)
        weighted[seed] = prediction_powered(weights, sample).estimate
        corrected[seed] = prediction_powered(weights, sample, labeller).estimate
        unweighted[seed] = prediction_powered(
            weights, HumanSample.uniform(rows, grades[rows], size)
        ).estimate
    for estimates in (weighted, corrected):
        standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(draws)
        assert np.all(np.abs(estimates.mean(axis=0) - target) < 3 * standard_error)
    standard_error = unweighted.std(axis=0, ddof=1) / np.sqrt(draws)
    assert np.all(np.abs(unweighted.mean(axis=0) - target) > 10 * standard_error)


def test_a_labeller_draw_is_kept_when_the_labeller_grades_more(
    imported: Path, tmp_path: Path
) -> None:
    # The chances follow the labeller's grades at the time of the draw; the same command
    # after the labeller graded more must ask about the same pairs with the same chances
    # (else the grades made would no longer be of the sample the estimate weights).
    everything = _queue(imported, tmp_path / "all.jsonl")
    _loaded, testset = _set(imported)
    store = AutomaticGrades(testset.folder)

    def grade(lines: list[dict], value: int) -> None:
        for line in lines:
            store.add(
                AutomaticGrade(
                    line["query_id"],
                    line["doc_id"],
                    line["passage_id"],
                    line["start"],
                    line["end"],
                    line["text_sha256"],
                    value,
                    LABELLER,
                    score=float(value),
                )
            )

    grade(everything[: len(everything) // 2], 0)
    args = ("--budget", "60", "--seed", "4", "--design", "labeller")
    first = _queue(imported, tmp_path / "first.jsonl", *args)
    grade(everything[len(everything) // 2 :], 3)  # the labeller grades the rest
    again = _queue(imported, tmp_path / "again.jsonl", *args)
    assert [_key(line) for line in again] == [_key(line) for line in first]
    records = (testset.folder / "label_samples.jsonl").read_text().splitlines()
    assert len(records) == 1
