"""``ragtui judge calibrate``, ``ragtui judge relevance`` and the judge options ``ragtui
eval`` shares with them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from ragtui.errors import RagtuiError


def add_judge_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--judge",
        metavar="SPEC",
        required=required,
        help="an LLM that judges answers: llamacpp:gemma3, ollama:MODEL, openai:MODEL",
    )
    parser.add_argument(
        "--judge-method",
        choices=["auto", "text", "logprob"],
        default="auto",
        help="text: read the verdict it writes; logprob: read the probabilities of '1'/'2' "
        "(llamacpp only); auto: logprob where possible (default)",
    )
    parser.add_argument(
        "--judge-no-reference",
        action="store_true",
        help="never show the judge a reference answer (reference-free judging)",
    )
    parser.add_argument("--yes", action="store_true", help="skip the cost question of a paid judge")


def make_judge(args: argparse.Namespace, settings, cache_root: Path | None):
    """The judge of ``--judge``; the caller closes it (``Judge.close``) however it ends."""
    from ragtui.config import paths
    from ragtui.generation.prices import PriceTable
    from ragtui.judging.judge import Judge, JudgeOptions
    from ragtui.judging.verdict_cache import VerdictCache

    cache = VerdictCache((cache_root or paths.cache_dir()) / "judge" / "verdicts.sqlite")
    try:
        return Judge(
            args.judge,
            settings.backends,
            templates=settings.judge,
            options=JudgeOptions(
                method=args.judge_method, use_reference=not args.judge_no_reference
            ),
            cache=cache,
            prices=PriceTable(settings.prices),
        )
    except BaseException:
        cache.close()  # a judge that cannot be made leaves no open cache behind
        raise


def add_parser(commands) -> None:
    judge = commands.add_parser(
        "judge",
        help="an LLM judge: calibrate it against your votes (calibrate); grade a test set's "
        "pool (relevance)",
    )
    actions = judge.add_subparsers(dest="action", metavar="ACTION", required=True)
    calibrate = actions.add_parser(
        "calibrate", help="replay your votes in the app through the judge and measure agreement"
    )
    calibrate.add_argument("corpus", help="the corpus folder or BEIR dataset you voted on")
    add_judge_options(calibrate, required=True)
    calibrate.add_argument("--json", action="store_true", help="print one JSON object")
    _add_corpus_options(calibrate)
    _add_relevance_parser(actions)


def _add_corpus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chunk-tokens", type=int, default=180, metavar="N")
    parser.add_argument("--chunk-overlap", type=int, default=30, metavar="N")
    parser.add_argument("--cache-dir", type=Path, help="index and judge cache (default: user's)")
    parser.add_argument("--config", help="ragtui.toml to use")


def _add_relevance_parser(actions) -> None:
    relevance = actions.add_parser(
        "relevance",
        help="a labeller model grades a test set's pooled passages 0-3",
        description="Pools every retriever's top --depth for each question of a test set (as "
        "'ragtui label' does) and has a model grade each pair; the grades are stored with the "
        "set, each naming its source, apart from your own labels. Resumable: pairs graded by "
        "the same labeller before are not asked again.",
    )
    relevance.add_argument("corpus", help="the corpus folder or BEIR dataset of the set")
    relevance.add_argument("--testset", required=True, help="the set's name (or exported folder)")
    relevance.add_argument(
        "--retrievers", required=True, help="comma-separated retriever specs to pool"
    )
    # pools.DEFAULT_DEPTH, as 'ragtui label' writes it (the parser imports no core module)
    relevance.add_argument("--depth", type=int, default=10, help="each retriever's top N (10)")
    relevance.add_argument(
        "--judge", metavar="SPEC", required=True, help="the labeller: ollama:MODEL, openai:MODEL…"
    )
    relevance.add_argument(
        "--method",
        choices=["pointwise", "one-shot", "answer-based"],
        default="pointwise",
        help="pointwise: grade 0-3 (default); one-shot: beside the question's known relevant "
        "passage (generated sets); answer-based: answer from the passage alone, match the "
        "reference answer",
    )
    relevance.add_argument(
        "--judge-method",
        choices=["auto", "text", "logprob"],
        default="auto",
        help="how a grade is read: the probabilities of '0'-'3' (logprob, llamacpp) or the "
        "written digit (text); auto: logprob where possible",
    )
    relevance.add_argument("--budget", type=int, help="grade a random sample of N pool pairs")
    relevance.add_argument("--seed", type=int, default=0, help="the sample (0)")
    relevance.add_argument(
        "--only-differing",
        action="store_true",
        help="only pairs not in every compared retriever's top --depth",
    )
    relevance.add_argument(
        "--kept-only",
        action="store_true",
        help="a generated set: only its kept questions (by default also those that passed "
        "the cheap filters but not the round-trip check, as 'ragtui label' asks)",
    )
    relevance.add_argument("--yes", action="store_true", help="skip a paid judge's cost question")
    _add_corpus_options(relevance)


def _references(corpus) -> dict[str, str]:
    """Reference answers by query id: the corpus's answers.jsonl and its generated sets."""
    from ragtui.testsets.store import generated_questions

    references = {qid: answers[0] for qid, answers in corpus.answers.items() if answers}
    for query_id, question in generated_questions(corpus.root, corpus.source_key).items():
        if question.answer:
            references.setdefault(query_id, question.answer)
    return references


def run(args: argparse.Namespace) -> int:
    if args.action == "relevance":
        return _relevance(args)
    return _calibrate(args)


def _calibrate(args: argparse.Namespace) -> int:
    from ragtui.cli_costs import confirm_cost
    from ragtui.config.settings_file import load_settings
    from ragtui.corpus import ChunkingSettings, load_corpus
    from ragtui.display.progress import ProgressPrinter
    from ragtui.judging.calibration import (
        calibration_record,
        calibrations_log,
        figures_of,
        replay_votes,
    )
    from ragtui.judging.judge import MAX_TOKENS, ORDERS_PER_PAIR
    from ragtui.judging.store import JudgmentStore

    settings = load_settings(args.config)
    corpus = load_corpus(
        args.corpus,
        ChunkingSettings(args.chunk_tokens, args.chunk_overlap),
        cache_root=args.cache_dir,
    )
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    votes = store.votes()
    if not votes:
        raise RagtuiError(
            f"no votes for {corpus.root} yet: vote on answers in the app (a, b, t, n) or with "
            "`ragtui vote`, then calibrate"
        )
    judge = make_judge(args, settings, args.cache_dir)
    try:
        references = _references(corpus)
        chars = sum(len(v.query) + len(v.answer_a) + len(v.answer_b) for v in votes) // len(votes)
        calls = judge.most_requests(ORDERS_PER_PAIR * len(votes))
        confirm_cost("judge", args.judge, calls, chars + 400, MAX_TOKENS, settings, args.yes)

        async def replay():
            try:
                description = await judge.describe()
                judged = await replay_votes(judge, votes, references, ProgressPrinter())
                return description, judged
            finally:
                await judge.aclose()

        description, judged = asyncio.run(replay())
    finally:
        judge.close()  # a refused cost or a bad reference file must not leave it open
    figures = figures_of(votes, judged)
    record = calibration_record(
        {
            **description,
            "calls": judge.tally.calls,
            "http_retries": judge.tally.http_retries,
            "from_cache": judge.tally.from_cache,
        },
        figures,
    )
    calibrations_log(store).append(record)
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
        return 0
    print(format_calibration(record))
    return 0


def _ci(interval) -> str:
    return "" if not interval else f" [{interval[0]:.2f}, {interval[1]:.2f}]"


def _questions(figures: dict) -> str:
    queries = figures.get("queries")
    if not isinstance(queries, int):
        return ""  # a record from before questions were counted
    if figures.get("by_question") is not True:
        return f" on {queries} question{'s' * (queries != 1)}"
    return f" on {queries} questions; the interval resamples questions"


def format_calibration(record: dict) -> str:
    from ragtui.judging.agreement import SCORED_PAIRS

    judge, figures = record["judge"], record["figures"]
    guided = "reference-guided where a reference exists" if judge["reference_guided"] else ""
    lines = [
        f"judge {judge['spec']} ({judge['method']}, {guided or 'reference-free'})",
        f"  votes replayed: {figures['n']}  (abstentions {figures['abstentions']})",
    ]
    agreement = figures["agreement"]
    lines.append(
        "  agreement on your non-tie votes: "
        + ("n/a" if agreement is None else f"{agreement:.0%}{_ci(figures['agreement_ci'])}")
        + f"  (n = {figures['non_tie']}: {SCORED_PAIRS}; a judge's tie counts as a miss)"
    )
    if figures["agreement_decided"] is not None:
        lines.append(
            f"  agreement where both named a winner: {figures['agreement_decided']:.0%} "
            f"(n = {figures['decided']})"
        )
    kappa = figures["kappa"]
    lines.append(
        "  Cohen's kappa (A / B / tie, on the same votes): "
        + ("n/a" if kappa is None else f"{kappa:.2f}{_ci(figures['kappa_ci'])}")
        + f"  (n = {figures['non_tie']}{_questions(figures)})"
    )
    inconsistency = figures["position_inconsistency"]
    lines.append(
        "  position inconsistency: "
        + (
            "n/a"
            if inconsistency is None
            else f"{inconsistency:.0%}{_ci(figures['position_inconsistency_ci'])}"
        )
        + f"  (the verdict changed when the order was swapped; pairs with a verdict in both "
        f"orders: {figures['both_orders']})"
    )
    lines.append("  confusion (rows: you, columns: judge)")
    header = "           " + "".join(f"{label:>9}" for label in ("A", "B", "tie", "abstain"))
    lines.append(header)
    for label, row in figures["confusion"].items():
        name = {"a": "A", "b": "B", "tie": "tie"}[label]
        lines.append(f"  {name:>9}" + "".join(f"{row[col]:>9}" for col in row))
    lines.append(f"  {record['sentence']}")
    return "\n".join(lines)


def _agreement_line(corpus, testset, unit, queries, queue, source) -> str:
    """How far this labeller agrees with the person's grades of the set, on every pair
    either graded (not only this run's), τ over the pooled retrievers' top depth."""
    from ragtui.experiment.run.labeller_checks import check_labellers, runs_from_pool
    from ragtui.judging.pools import pool_key, read_pool

    design = queue.design
    pool = read_pool(testset.folder, unit, pool_key(corpus))
    runs = runs_from_pool(pool, design.retrievers, design.depth)
    (checked,) = check_labellers(
        corpus, testset, unit, queries, runs, design.depth, sources=[source]
    )
    return checked.sentence()


def _relevance(args: argparse.Namespace) -> int:
    """A labeller model grades the set's pool pairs (``ragtui.judging.labellers``)."""
    from ragtui.cli_costs import confirm_cost
    from ragtui.cli_pool import open_set, prepare_queue
    from ragtui.config.settings_file import load_settings
    from ragtui.display.progress import ProgressPrinter
    from ragtui.display.safe_text import printable
    from ragtui.generation.prices import PriceTable
    from ragtui.judging.automatic_grades import GRADES_FILE, AutomaticGrades
    from ragtui.judging.labeller_prompts import KNOWN_CHARS, PASSAGE_CHARS
    from ragtui.judging.labellers import (
        RelevanceLabeller,
        check_method,
        circularity_warnings,
        label_pairs,
        plan_labelling,
        set_context,
    )
    from ragtui.progress import WorkProgress

    settings = load_settings(args.config)
    # A wrong spec or method fails before the pool is built.
    labeller = RelevanceLabeller(
        args.judge,
        args.method,
        settings.backends,
        reading=args.judge_method,
        prices=PriceTable(settings.prices),
    )
    opened = open_set(args, args.corpus)
    corpus, testset, unit, _queries = opened
    context = set_context(testset, corpus, unit)
    check_method(testset, args.method, context)
    corpus, testset, queue = prepare_queue(args, args.corpus, opened=opened, record=False)
    store = AutomaticGrades(testset.folder)
    printer = ProgressPrinter()

    async def work():
        try:
            source = await labeller.source()
            plan = plan_labelling(queue.pairs, args.method, store.of(source), context)
            if plan.tasks:
                chars = sum(
                    len(task.pair.query)
                    + min(len(task.pair.judged.text), PASSAGE_CHARS)
                    + min(len(task.known or ""), KNOWN_CHARS)
                    for task in plan.tasks
                ) // len(plan.tasks)
                confirm_cost(
                    "labeller",
                    args.judge,
                    len(plan.tasks) * labeller.requests_per_pair(),
                    chars + 700,  # the instructions and grade descriptions
                    labeller.completion_tokens_per_call(),
                    settings,
                    args.yes,
                )
            started = time.monotonic()

            def progress(done: int, total: int) -> None:
                elapsed = time.monotonic() - started
                printer(WorkProgress(done, total, elapsed, "grading", "pairs"))

            return await label_pairs(labeller, plan, store, source, progress)
        finally:
            await labeller.aclose()

    summary = asyncio.run(work())
    print(
        printable(
            f"{len(queue.pairs)} pool pairs of test set {testset.name!r} "
            f"({', '.join(queue.design.retrievers)}, depth {queue.design.depth}"
            + (f", sample of {queue.pool_size}" if len(queue.pairs) < queue.pool_size else "")
            + f"): {summary.line()}"
        )
    )
    print(printable(f"stored in {testset.folder / GRADES_FILE}"))
    print(printable(_agreement_line(corpus, testset, unit, _queries, queue, summary.source)))
    for warning in circularity_warnings(summary.source, list(queue.design.retrievers)):
        sys.stderr.write(f"ragtui: warning: {printable(warning)}\n")
    if summary.stopped:
        raise RagtuiError(f"judge relevance stopped: {summary.stopped}")
    return 0
