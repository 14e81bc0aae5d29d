"""``ragtui label``: grade a test set's pool blind, write the pool out as a labeling queue,
or read grades made elsewhere back in.

- ``ragtui label CORPUS --testset NAME --retrievers R1,R2`` opens the blind labeling screen
  (on a generated set: every question that passed the cheap filters, ``--kept-only`` only
  the kept ones; see ``ragtui.testsets.for_labeling``);
- ``ragtui label queue CORPUS --testset NAME --retrievers R1,R2 --out FILE`` writes the
  pairs that screen would ask about as JSONL;
- ``--budget N`` (both) asks about a seeded random sample of about N pool pairs, drawn by
  ``--design uniform|rank-prior|labeller`` (``ragtui.judging.label_designs``), each drawn
  pair's inclusion probability recorded;
- ``ragtui label import CORPUS FILE --testset NAME`` stores the grades of such a file (a
  ``grade`` per line) or of TREC qrels as the person's labels;
- ``ragtui label plan CORPUS --testset NAME --width 0.05`` says how many more pairs of the
  recorded sample give intervals that wide, and how long that takes at the person's pace.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ragtui.display.safe_text import printable
from ragtui.errors import RagtuiError

USAGE = (
    "use 'ragtui label CORPUS --testset NAME --retrievers R1,R2', "
    "'ragtui label queue CORPUS --testset NAME --retrievers R1,R2 --out FILE' "
    "'ragtui label import CORPUS FILE --testset NAME' "
    "or 'ragtui label plan CORPUS --testset NAME --width 0.05'"
)


def add_parser(commands) -> None:
    label = commands.add_parser(
        "label",
        help="grade a test set's pooled passages blind (also: label queue|import)",
        description="Pools every retriever's top --depth for each question of a test set and "
        "asks you to grade them without showing who found them. 'label queue' writes the same "
        "pairs as JSONL for another tool; 'label import' reads grades (JSONL or TREC qrels).",
    )
    label.add_argument("words", nargs="+", metavar="CORPUS | queue CORPUS | import CORPUS FILE")
    label.add_argument("--testset", required=True, help="the set's name (or exported folder)")
    label.add_argument("--retrievers", help="comma-separated retriever specs to pool")
    label.add_argument("--depth", type=int, default=10, help="each retriever's top N (10)")
    label.add_argument("--budget", type=int, help="ask about a random sample of N pool pairs")
    label.add_argument(
        "--design",
        choices=("uniform", "rank-prior", "labeller"),
        default="uniform",
        help="how --budget draws: uniform (each pair equally likely), rank-prior (pairs the "
        "retrievers rank high, or rank differently, more often) or labeller (pairs the "
        "labeller is unsure of more often); every pair's chance is recorded and the "
        "estimates weight by it (uniform)",
    )
    label.add_argument("--seed", type=int, default=0, help="sample and order (0)")
    label.add_argument(
        "--only-differing",
        action="store_true",
        help="only pairs not in every compared retriever's top --depth",
    )
    label.add_argument(
        "--kept-only",
        action="store_true",
        help="a generated set: only its kept questions (by default also those that passed "
        "the cheap filters but not the round-trip check)",
    )
    label.add_argument("--out", type=Path, help="label queue: the JSONL file to write")
    label.add_argument("--width", type=float, help="label plan: the interval width wanted")
    label.add_argument("--metric", default="P@10", help="label plan: P@k or DCG@k (P@10)")
    label.add_argument("--chunk-tokens", type=int, default=180, metavar="N")
    label.add_argument("--chunk-overlap", type=int, default=30, metavar="N")
    label.add_argument("--cache-dir", type=Path, help="index cache (default: user cache dir)")
    label.add_argument("--config", help="ragtui.toml to use")


def run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[0] == "queue" and len(words) == 2:
        return _queue(args, words[1])
    if words[0] == "plan" and len(words) == 2:
        return _plan(args, words[1])
    if words[0] == "import" and len(words) == 3:
        return _import(args, words[1], Path(words[2]).expanduser())
    if len(words) != 1:
        raise RagtuiError(USAGE)
    return _screen(args, words[0])


def _open_set(args: argparse.Namespace, path: str):
    from ragtui.cli_pool import open_set

    return open_set(args, path)


def _prepare_queue(args: argparse.Namespace, path: str):
    from ragtui.cli_pool import prepare_queue

    return prepare_queue(args, path)


def _describe(queue, unit: str) -> str:
    design = queue.design
    drawn = design.budget is not None and len(queue.pairs) < queue.pool_size
    if drawn and design.poisson:
        chances = [pair.inclusion_probability for pair in queue.pairs] or [0.0]
        steered = (
            "the retrievers' ranks" if design.sampling == "rank-prior" else "the labeller's doubt"
        )
        sample = (
            f"a {design.sampling} sample of {len(queue.pairs)} of {queue.pool_size} pool "
            f"pairs (Poisson, {design.budget} expected; each pair's inclusion probability "
            f"{min(chances):.3f}–{max(chances):.3f}, from {steered}, recorded)"
        )
    elif drawn:
        sample = (
            f"a random sample of {len(queue.pairs)} of {queue.pool_size} pool pairs "
            f"(inclusion probability {len(queue.pairs) / queue.pool_size:.3f})"
        )
    else:
        sample = f"{len(queue.pairs)} pool pairs"
    differing = " where the retrievers differ" if queue.design.only_differing else ""
    queries = len({pair.query_id for pair in queue.pairs})
    return f"{sample}{differing} ({unit}s), {queries} queries, depth {queue.design.depth}"


def _queue(args: argparse.Namespace, path: str) -> int:
    from ragtui.judging.label_queue import graded_pairs, pair_key
    from ragtui.judging.store import JudgmentStore
    from ragtui.queue_files import write_queue_file

    if args.out is None:
        raise RagtuiError("name the file to write: --out queue.jsonl")
    corpus, testset, queue = _prepare_queue(args, path)
    # What the screen would ask: the pairs not graded yet (by the screen or an import).
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    graded = graded_pairs(store, queue)
    asked = [pair for pair in queue.pairs if pair_key(pair) not in graded]
    records = [pair.to_record() for pair in asked]
    if queue.design.poisson:
        # An active design's chance follows the retrievers' ranks or the labeller's doubt:
        # in the file it would tell whoever grades how the pair was placed. It is kept in
        # label_samples.jsonl, where the estimate reads it, and not needed on import.
        for record in records:
            del record["inclusion_probability"]
    write_queue_file(args.out, records)
    unit = str(testset.meta.get("judged_unit") or "passage")
    left_out = f"; {len(graded)} already graded are left out" if graded else ""
    print(printable(f"wrote {len(asked)} pairs to {args.out}: {_describe(queue, unit)}{left_out}"))
    print(
        printable(
            f"add a 'grade' (0-3) to each line, then: "
            f"ragtui label import {path} {args.out} --testset {args.testset}"
        )
    )
    return 0


def _import(args: argparse.Namespace, path: str, file: Path) -> int:
    from ragtui.judging.label_queue import import_grades
    from ragtui.judging.store import JudgmentStore

    if not file.is_file():
        raise RagtuiError(f"{file} does not exist: give a graded queue (JSONL) or TREC qrels")
    corpus, testset, unit, queries = _open_set(args, path)
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    result = import_grades(file, corpus, unit, queries, store, testset.name)
    for problem in result.problems:
        sys.stderr.write(f"ragtui: warning: {printable(problem)} (line skipped)\n")
    print(
        f"{result.stored} grades stored as your labels in {store.labels_log.path} "
        f"({len(result.problems)} lines skipped, {result.ungraded} not graded yet)"
    )
    return 0


def _automatic_grades(folder: Path) -> tuple[str, dict] | None:
    """The labeller that graded most pairs of the set, and its grades (None: no labeller)."""
    from ragtui.judging.automatic_grades import AutomaticGrades, graded

    sources = AutomaticGrades(folder)
    best = None
    for source in sources.sources():
        grades = graded(sources.of(source).values())
        if grades and (best is None or len(grades) > len(best[1])):
            best = (source.describe(), grades)
    return best


def _left_out_words(sighted: int) -> str:
    """Why some of the sample's grades do not count (empty when all do)."""
    if not sighted:
        return ""
    return (
        f" (left out: {sighted} sampled pairs graded on the compare screen, where you chose "
        "the query and saw the retrievers' ranks, so those grades are not a random sample; "
        "grade them again on the blind screen for them to count)"
    )


def _plan(args: argparse.Namespace, path: str) -> int:
    from ragtui.experiment.stats.label_plan import plan_labels
    from ragtui.judging.label_samples import latest_sample, measured_pace_s, sampled_pool
    from ragtui.judging.store import JudgmentStore

    if args.width is None or args.width <= 0:
        raise RagtuiError("name the interval width wanted: --width 0.05")
    corpus, testset, unit, queries = _open_set(args, path)
    record = latest_sample(testset.folder)
    if record is None:
        raise RagtuiError(
            f"test set {testset.name!r} has no recorded label sample: draw one with "
            f"'ragtui label {path} --testset {args.testset} --retrievers R1,R2 --budget N' "
            "and grade some of its pairs first"
        )
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    sampled = sampled_pool(testset.folder, corpus, unit, queries, store, record)
    design = sampled.design
    if sampled.changed:
        sys.stderr.write(
            f"ragtui: warning: the pool of the sample now holds {len(sampled.population)} "
            f"pairs, not the {sampled.recorded_pool_size} it was drawn from (the pool or the "
            "corpus changed): the plan is rough\n"
        )
    left_out = _left_out_words(sampled.sighted)
    if len(sampled.random_grades) < 2:
        raise RagtuiError(
            f"{len(sampled.random_grades)} of the {len(sampled.sampled)} sampled pairs are "
            f"graded{left_out}: grade a few first ('ragtui label {path} --testset "
            f"{args.testset} {design.flags()}')"
        )
    names = (
        [name.strip() for name in args.retrievers.split(",")]
        if args.retrievers
        else list(design.retrievers)
    )
    unknown = [name for name in names if name not in design.retrievers]
    if unknown:
        raise RagtuiError(
            f"--retrievers {','.join(unknown)}: the sample was drawn from the pool of "
            f"{','.join(design.retrievers)}; name some of those"
        )
    labeller = _automatic_grades(testset.folder)
    try:
        plan = plan_labels(
            sampled,
            names,
            args.width,
            args.metric,
            None if labeller is None else labeller[1],
            len(queries),
        )
    except ValueError as error:
        raise RagtuiError(f"--metric {args.metric}: {error}") from None
    from ragtui.judging.label_designs import sampling_words

    source = (
        f"corrected by {labeller[0]}"
        if labeller
        else "your grades only, correcting the retrievers' rank prior"
        if plan.prediction == "rank prior"
        else "your grades only"
    )
    drawn = "a uniform sample" if not design.poisson else sampling_words(design.sampling)
    print(
        printable(
            f"from {plan.graded} of your grades on {drawn} of {len(sampled.sampled)} "
            f"of {plan.population} pool pairs ({plan.metric}, {source}):"
        )
    )
    if sampled.sighted:
        print(printable(f"  {left_out.strip()}"))
    for figure in plan.figures:
        print(
            printable(
                f"  {figure.name}: interval {figure.width_now:.3f} wide now; "
                f"{figure.labels_needed} graded pairs for {args.width:g}"
            )
        )
    if design.only_differing:
        print("  (a sample of differing pairs only measures gaps, not each retriever's figure)")
    if plan.labels_needed >= plan.population:
        headline = f"only grading the whole pool ({plan.population} pairs) gets every interval"
    else:
        headline = (
            f"{plan.more} more pairs (a uniform sample of {plan.labels_needed} of "
            f"{plan.population}) give every interval"
        )
    print(
        printable(
            f"{headline} at most {args.width:g} wide (95%); a plan from the grades so far: "
            "run it again after more"
        )
    )
    pace = measured_pace_s(store, set(queries))
    if pace is None:
        print("time: your pace is not measured yet (grade a few pairs on the blind screen)")
    else:
        seconds, count = pace
        minutes = max(plan.labels_needed - plan.graded, 0) * seconds / 60
        print(
            f"time: about {minutes:.0f} min at your pace ({seconds:.0f} s a grade, "
            f"median of {count})"
        )
    return 0


def _draw_flags(args: argparse.Namespace) -> str:
    """The flags of this command that choose its pairs, for a hint that repeats the draw."""
    from ragtui.judging.label_queue import QueueDesign

    design = QueueDesign(
        retrievers=(args.retrievers or "...",),  # as typed: its commas kept
        depth=args.depth,
        budget=args.budget,
        seed=args.seed,
        only_differing=args.only_differing,
        sampling=args.design,
    )
    return design.flags() + (" --kept-only" if args.kept_only else "")


def _screen(args: argparse.Namespace, path: str) -> int:
    from ragtui.judging.labeling import LabelingSession
    from ragtui.judging.store import JudgmentStore

    if not sys.stdout.isatty():
        raise RagtuiError(
            "the labeling screen needs a terminal; write a queue instead: "
            f"ragtui label queue {path} --testset {args.testset} {_draw_flags(args)} --out FILE"
        )
    corpus, testset, queue = _prepare_queue(args, path)
    if not queue.pairs:
        print(f"nothing to grade: the pool of test set {testset.name!r} is empty")
        return 0
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    session = LabelingSession(queue, store, corpus.chunking.key)
    if session.done:
        print(f"every pair of {_describe(queue, session.unit)} is graded already")
        return 0
    from ragtui.tui.hangup import must_end_at_once
    from ragtui.tui.label_app import LabelApp

    app = LabelApp(session, corpus.root.name, testset.name)
    try:
        app.run()
    finally:
        session.close()  # every grade queued is on disk before the process ends
    if must_end_at_once():
        os._exit(app.return_code or 0)
    print(session.summary())
    return app.return_code or 0
