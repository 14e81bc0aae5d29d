"""How far do the packaged judges agree with a reference oracle? sample_corpus, both orders.

    python benchmarks/bench_judge.py [--judges SPECS] [--generators SPECS] [--limit N]

Set-up (issue 20): the grid's answers for sample_corpus (34 queries with reference
answers; bm25 retrieval; the generators named, default extractive, llamacpp:smollm2 and
llamacpp:gemma3) give three pairs per query. A *reference oracle* prefers the answer with
the higher token F1 against the reference answer and calls a tie when they are equal.

Each packaged judge is run reference-guided and reference-free, with its verdict read as
text and from the log-probabilities of "1"/"2", plus the naive prompt of the issue
("Which answer answers the question better? Reply with 1, 2, or tie."). With ragtui's
prompts a second row compares the two answers' correctness grades (1–5, each answer
judged alone, so there is no position to be biased by). For each the
script prints agreement with the oracle on the oracle's non-ties (a judge's tie is a
miss), agreement where both named a winner, Cohen's kappa (A / B / tie) and position
inconsistency, with the number of pairs and the seconds taken. Verdicts are cached under
the run's own temporary folder, so every figure is measured afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ragtui.config.settings_file import Settings  # noqa: E402
from ragtui.corpus import ChunkingSettings  # noqa: E402
from ragtui.experiment.run.answer_metrics import token_f1  # noqa: E402
from ragtui.experiment.run.dataset import load_dataset  # noqa: E402
from ragtui.experiment.run.grid import GridPlan, run_grid  # noqa: E402
from ragtui.judging.agreement import agreement_figures  # noqa: E402
from ragtui.judging.judge import Judge, JudgeOptions  # noqa: E402
from ragtui.judging.judge_prompts import JudgeTemplates  # noqa: E402
from ragtui.judging.verdict_cache import VerdictCache  # noqa: E402

NAIVE = replace(
    JudgeTemplates(),
    system="You are a helpful assistant.",
    pairwise_user="Question: {question}\n\n{reference_line}Answer 1: {first}\n\n"
    "Answer 2: {second}\n\nWhich answer answers the question better? "
    "Reply with 1, 2, or tie.",
)


def grid_pairs(generators: tuple[str, ...], limit: int | None, cache: Path):
    """(question, reference, answer A, answer B, oracle label) for every pair of answers."""
    dataset = load_dataset(str(REPO / "sample_corpus"), ChunkingSettings(), limit=limit)
    plan = GridPlan(retrievers=("bm25",), generators=generators, max_tokens=96)
    run = run_grid(dataset, plan, Settings(), cache_root=cache)
    by_query: dict[str, dict[str, str]] = {}
    for cell in run.cells:
        if cell.error is None:
            by_query.setdefault(cell.query_id, {})[cell.generator] = cell.answer
    pairs = []
    for query_id, answers in by_query.items():
        references = dataset.answers.get(query_id) or []
        if not references:
            continue
        for first, second in itertools.combinations(generators, 2):
            if first not in answers or second not in answers:
                continue
            a, b = answers[first], answers[second]
            f1_a, f1_b = token_f1(a, references), token_f1(b, references)
            oracle = "tie" if f1_a == f1_b else ("a" if f1_a > f1_b else "b")
            pairs.append((dataset.queries[query_id], references[0], a, b, oracle))
    return pairs


async def judge_pairs(
    spec, method, use_reference, templates, pairs, cache: Path, grades: bool, tie_band: float
):
    """Pairwise verdicts in both orders, and (``grades``) each answer's correctness grade."""
    judge = Judge(
        spec,
        templates=templates,
        options=JudgeOptions(method=method, use_reference=use_reference, tie_band=tie_band),
        cache=VerdictCache(cache / f"{spec.replace(':', '-')}-{method}.sqlite"),
    )
    judged, graded = [], []
    try:
        for question, reference, a, b, _ in pairs:
            judged.append(await judge.pairwise(question, a, b, reference))
            if grades:
                grade_a = await judge.correctness(question, a, reference)
                grade_b = await judge.correctness(question, b, reference)
                graded.append((grade_a.score, grade_b.score))
    finally:
        await judge.aclose()
    return judged, graded


def from_grades(graded) -> list[str]:
    """A pair's verdict from the two answers' grades, each judged alone (no position)."""
    outcomes = []
    for grade_a, grade_b in graded:
        if grade_a is None or grade_b is None:
            outcomes.append("abstain")
        else:
            outcomes.append("a" if grade_a > grade_b else "b" if grade_b > grade_a else "tie")
    return outcomes


def row(spec, name, use_reference, method, figures, seconds) -> str:
    def pct(value):
        return "n/a" if value is None else f"{value:.0%}"

    kappa = "n/a" if figures.kappa is None else f"{figures.kappa:.2f}"
    return (
        f"| {spec} | {name} | {'guided' if use_reference else 'free'} | {method} "
        f"| {pct(figures.agreement)} (n={figures.non_tie}) "
        f"| {pct(figures.agreement_decided)} (n={figures.decided}) | {kappa} "
        f"| {pct(figures.position_inconsistency)} (n={figures.both_orders}) "
        f"| {figures.abstentions} | {seconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judges", default="llamacpp:smollm2,llamacpp:gemma3")
    parser.add_argument("--generators", default="extractive,llamacpp:smollm2,llamacpp:gemma3")
    parser.add_argument("--limit", type=int, help="use only the first N queries")
    parser.add_argument("--methods", default="text,logprob")
    parser.add_argument(
        "--tie-band",
        type=float,
        default=JudgeOptions().tie_band,
        help="logprob: how far from one half the averaged probability must be to name a winner",
    )
    args = parser.parse_args()
    generators = tuple(args.generators.split(","))
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        started = time.monotonic()
        pairs = grid_pairs(generators, args.limit, cache)
        oracle = [pair[4] for pair in pairs]
        print(
            f"{len(pairs)} pairs from {generators} in {time.monotonic() - started:.0f} s; "
            f"oracle: {oracle.count('a')} A, {oracle.count('b')} B, {oracle.count('tie')} ties"
        )
        print(
            "| judge | prompt | reference | verdict read | agreement (oracle non-ties) "
            "| agreement (both decided) | κ | position inconsistency | abstained | s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        settings = [("naive", NAIVE, True, "text"), ("naive", NAIVE, False, "text")]
        settings += [
            ("ragtui", JudgeTemplates(), use_reference, method)
            for method in args.methods.split(",")
            for use_reference in (True, False)
        ]
        for spec in args.judges.split(","):
            for name, templates, use_reference, method in settings:
                started = time.monotonic()
                judged, graded = asyncio.run(
                    judge_pairs(
                        spec,
                        method,
                        use_reference,
                        templates,
                        pairs,
                        cache,
                        name != "naive",
                        args.tie_band,
                    )
                )
                seconds = time.monotonic() - started
                figures = agreement_figures(
                    oracle, [j.outcome for j in judged], [j.consistent for j in judged]
                )
                print(row(spec, name, use_reference, method, figures, seconds), flush=True)
                if graded:
                    figures = agreement_figures(oracle, from_grades(graded), [None] * len(graded))
                    print(
                        row(spec, "grades compared", use_reference, method, figures, seconds),
                        flush=True,
                    )


if __name__ == "__main__":
    main()
