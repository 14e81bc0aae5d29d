"""Command line: argument parsing and printing only; the work happens in the core modules."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import NoReturn

from ragtui import __version__
from ragtui.display.safe_text import json_line, printable
from ragtui.errors import RagtuiError

log = logging.getLogger("ragtui")


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line, like every other ragtui error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _OneLineHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = "warning" if record.levelno >= logging.WARNING else "info"
        # One line, whatever a file name or a server's message holds.
        message = _one_line(record.getMessage())
        sys.stderr.write(f"ragtui: {level}: {message}\n")


def _one_line(message: str) -> str:
    return " ".join(printable(message).splitlines())


def _add_corpus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", help="a folder of .txt/.md/.rst/.html files or a BEIR dataset")
    parser.add_argument(
        "--chunk-tokens", type=int, default=180, metavar="N", help="passage budget in words"
    )
    parser.add_argument(
        "--chunk-overlap", type=int, default=30, metavar="N", help="words shared by neighbours"
    )
    parser.add_argument("--cache-dir", type=Path, help="index cache (default: user cache dir)")


def build_parser() -> argparse.ArgumentParser:
    from ragtui.cli_judge import add_judge_options
    from ragtui.cli_judge import add_parser as add_judge_parser
    from ragtui.cli_label import add_parser as add_label_parser
    from ragtui.cli_vote import add_parser as add_vote_parser

    parser = _Parser(
        prog="ragtui",
        description="Compare RAG pipelines on your own corpus. "
        "'ragtui CORPUS [--a SPEC] [--b SPEC] [--theme NAME]' opens the compare screen.",
    )
    parser.add_argument("--version", action="version", version=f"ragtui {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    index = commands.add_parser("index", help="build (or refresh) a corpus's cached indexes")
    _add_corpus_options(index)
    index.add_argument(
        "--retrievers",
        default="bm25,dense",
        help="comma-separated retriever specs whose indexes to build (default: bm25,dense)",
    )
    index.add_argument(
        "--to",
        choices=["local", "milvus"],
        default="local",
        help="local: ragtui's own cache (default); milvus: the Milvus collection that the "
        "milvus, milvus:bm25 and milvus:hybrid retrievers search (MILVUS_URI, [milvus] uri)",
    )
    index.add_argument("--config", help="ragtui.toml to use")

    search = commands.add_parser("search", help="retrieve passages for one query")
    _add_corpus_options(search)
    search.add_argument("query", help="the question or keywords")
    search.add_argument(
        "--retriever",
        "-r",
        default="bm25",
        help="bm25 | bm25:okapi | static | dense[:MODEL] | hybrid[:MODEL] | milvus[:bm25|:hybrid]",
    )
    search.add_argument("-k", type=int, default=10, help="how many passages (default 10)")
    search.add_argument("--json", action="store_true", help="print one JSON object")
    search.add_argument("--config", help="ragtui.toml to use")
    ask = commands.add_parser("ask", help="retrieve and stream a generated answer")
    _add_corpus_options(ask)
    ask.add_argument("query", help="the question")
    ask.add_argument(
        "--pipeline",
        "-p",
        default="bm25+llamacpp:smollm2",
        help="RETRIEVER+GENERATOR or a name from ragtui.toml (default bm25+llamacpp:smollm2)",
    )
    ask.add_argument("-k", type=int, help="passages given to the generator (default 5)")
    ask.add_argument("--max-tokens", type=int, help="answer length limit (default 256)")
    ask.add_argument(
        "--concurrent",
        action="store_true",
        help="allow prompt-cache reuse (timings then are not cold; recorded as 'concurrent')",
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ask.add_argument("--config", help="ragtui.toml to use (default: ./ragtui.toml, user config)")

    labels = commands.add_parser("labels", help="relevance labels made in the app")
    labels.add_argument("action", choices=["export"])
    _add_corpus_options(labels)
    labels.add_argument(
        "--format", choices=["beir", "trec"], default="beir", help="BEIR folder or TREC qrels file"
    )
    labels.add_argument("--out", type=Path, help="where to write (default ./labels-CORPUS[.qrels])")

    evaluate = commands.add_parser(
        "eval", help="score a retriever × generator grid over a query set and write a report"
    )
    _add_corpus_options(evaluate)
    evaluate.add_argument(
        "--retrievers",
        default="bm25,dense,hybrid",
        help="comma-separated (default bm25,dense,hybrid)",
    )
    evaluate.add_argument(
        "--generators", default="extractive", help="comma-separated (default extractive)"
    )
    evaluate.add_argument("-k", type=int, default=10, help="cut-off of retrieval metrics (10)")
    evaluate.add_argument(
        "--passages", type=int, help="passages each generator reads (default 5, or config)"
    )
    evaluate.add_argument(
        "--depth", type=int, default=100, help="passages retrieved for MAP and runs (100)"
    )
    evaluate.add_argument("--limit", type=int, help="use only the first N queries")
    evaluate.add_argument(
        "--labels",
        action="store_true",
        help="score against the queries and passage grades made in the app",
    )
    evaluate.add_argument(
        "--testset",
        metavar="NAME|DIR",
        help="score against a test set made by 'ragtui testset' (its name, or an exported folder)",
    )
    evaluate.add_argument(
        "--labeller",
        metavar="TEXT",
        help="with --testset: whose labeller-model grades count when several labellers graded "
        "the set (part of its judge, method or prompt hash); never two at once",
    )
    evaluate.add_argument("--max-tokens", type=int, help="answer length limit (default 256)")
    evaluate.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight per server (4)"
    )
    evaluate.add_argument(
        "--timing",
        choices=["auto", "fair", "concurrent"],
        default="auto",
        help="auto: in-process models one answer at a time, servers (localhost too) up to "
        "--concurrency at once; fair: everything one at a time; concurrent: prompt reuse on",
    )
    evaluate.add_argument(
        "--margin",
        help="largest loss in the primary metric still called good enough: a number on the "
        "metric's 0-1 scale (default 0.02) or a share of the best's score (5%%)",
    )
    evaluate.add_argument(
        "--primary",
        help="metric(s) the verdict uses, comma-separated: at most one retrieval metric "
        "(default nDCG@k) and one answer metric (default f1, or groundedness without "
        "reference answers)",
    )
    evaluate.add_argument("--out", type=Path, help="output folder (default ./ragtui-eval-NAME)")
    evaluate.add_argument("--config", help="ragtui.toml to use")
    evaluate.add_argument(
        "--show", action="store_true", help="open the results screen when the run is done"
    )
    add_judge_options(evaluate)
    evaluate.add_argument(
        "--judge-kinds",
        default="correctness,faithfulness,pairwise",
        help="what the judge does, comma-separated: correctness, faithfulness (each answer "
        "on 1-5), pairwise (every two pipelines, both orders); default all three",
    )

    add_judge_parser(commands)
    testset = commands.add_parser(
        "testset",
        help="generate a test set from a corpus's passages (also: testset list|show CORPUS)",
        description="'ragtui testset CORPUS --generator SPEC' writes questions from the "
        "corpus's passages, each tied to its passage; 'ragtui testset list CORPUS' and "
        "'ragtui testset show CORPUS NAME' look at the sets made.",
    )
    testset.add_argument(
        "words",
        nargs="+",
        metavar="CORPUS | list CORPUS | show CORPUS NAME | import CORPUS FILE",
    )
    testset.add_argument("--generator", help="who writes the questions, e.g. llamacpp:smollm2")
    testset.add_argument("-n", type=int, default=100, help="passages to write from (100)")
    testset.add_argument("--seed", type=int, default=0, help="passage sample and sampling (0)")
    testset.add_argument("--name", help="the set's name (default: generator and seed)")
    testset.add_argument("--checker", help="answers the round-trip check (default: --generator)")
    testset.add_argument("--out", type=Path, help="also export the set to this folder")
    testset.add_argument(
        "--answers", help="testset import: reference answers (answers.jsonl: _id, answers)"
    )
    testset.add_argument(
        "--yes", action="store_true", help="skip the cost question of a paid model"
    )
    for name, what in (
        ("generic", "self-referential or topic-less questions"),
        ("copied", "questions copying a long run of the passage"),
        ("duplicate", "near-duplicates of a kept question"),
        ("language", "questions in another language than the passage"),
        ("roundtrip", "questions the passage cannot answer (round-trip check)"),
    ):
        testset.add_argument(f"--no-{name}-filter", action="store_true", help=f"keep {what}")
    testset.add_argument(
        "--max-overlap",
        type=float,
        metavar="SHARE",
        help="drop questions with more than this share (above 0, below 1) of their content "
        "words in their passage; off by default (see README: the lexical bias)",
    )
    testset.add_argument("--chunk-tokens", type=int, default=180, metavar="N")
    testset.add_argument("--chunk-overlap", type=int, default=30, metavar="N")
    testset.add_argument("--cache-dir", type=Path, help="index cache (default: user cache dir)")
    testset.add_argument("--config", help="ragtui.toml to use")

    add_label_parser(commands)
    add_vote_parser(commands)

    results = commands.add_parser("results", help="charts of a finished 'ragtui eval' run")
    results.add_argument("folder", type=Path, help="the eval's --out folder")

    config = commands.add_parser("config", help="write a starting ragtui.toml")
    config.add_argument("action", choices=["init", "path"])
    config.add_argument("--config", help="where (default ./ragtui.toml)")
    return parser


def _open(args: argparse.Namespace):
    from ragtui.corpus import ChunkingSettings, load_corpus
    from ragtui.display.progress import ProgressPrinter
    from ragtui.index.cache import Indexes

    chunking = ChunkingSettings(args.chunk_tokens, args.chunk_overlap)
    corpus = load_corpus(args.corpus, chunking, cache_root=args.cache_dir)
    for warning in corpus.warnings:
        log.warning(warning)
    return Indexes(corpus, cache_root=args.cache_dir, progress=ProgressPrinter())


def _cmd_index(args: argparse.Namespace) -> int:
    from ragtui.config.settings_file import load_settings
    from ragtui.config.specs import parse_retriever_spec
    from ragtui.retrieval import make_retriever

    settings = load_settings(args.config)
    if args.to == "milvus":
        return _index_to_milvus(args, settings)
    specs = [parse_retriever_spec(text) for text in args.retrievers.split(",") if text.strip()]
    indexes = _open(args)
    for spec in specs:
        make_retriever(spec, indexes, settings.backends)
    corpus = indexes.corpus
    print(
        f"indexed {len(corpus.documents)} documents as {len(corpus.passages)} passages "
        f"({', '.join(str(spec) for spec in specs)}) in {indexes.folder}"
    )
    return 0


def _index_to_milvus(args: argparse.Namespace, settings) -> int:
    from ragtui.display.progress import ProgressPrinter
    from ragtui.encoders import DEFAULT_EMBEDDING_MODEL
    from ragtui.retrieval.milvus.loading import load_corpus_into_milvus

    indexes = _open(args)
    report = load_corpus_into_milvus(
        indexes, settings.backends, DEFAULT_EMBEDDING_MODEL, progress=ProgressPrinter()
    )
    print(report.summary())
    return 0


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _cmd_search(args: argparse.Namespace) -> int:
    from ragtui.config.settings_file import load_settings
    from ragtui.config.specs import parse_retriever_spec
    from ragtui.retrieval import make_retriever

    spec = parse_retriever_spec(args.retriever)
    if args.k < 1:
        raise RagtuiError(f"-k {args.k}: ask for at least 1 passage")
    settings = load_settings(args.config)
    indexes = _open(args)
    result = make_retriever(spec, indexes, settings.backends).search(args.query, args.k)
    if args.json:
        sys.stdout.write(json_line(result.to_json()) + "\n")
        return 0
    print(
        f"{len(result.hits)} hits from {result.retriever}{result.time_breakdown()} "
        f"in {result.elapsed_ms:.1f} ms"
    )
    for hit in result.hits:
        print(f"{hit.rank:>3}  {hit.score:8.4f}  {_snippet(hit.passage_id)}")
        print(f"     {_snippet(hit.text)}")
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    from ragtui.compare.session import resolve_spec
    from ragtui.config.settings_file import load_settings
    from ragtui.display.stats_text import format_stats
    from ragtui.pipeline import (
        Delta,
        Failed,
        Finished,
        PipelineEvent,
        Retrieved,
        Waiting,
        make_pipeline,
    )

    settings = load_settings(args.config)

    spec = resolve_spec(args.pipeline, settings)  # as the compare screen resolves it
    for name, value in (("-k", args.k), ("--max-tokens", args.max_tokens)):
        if value is not None and value < 1:
            raise RagtuiError(f"{name} {value}: use at least 1")
    indexes = _open(args)
    pipeline = make_pipeline(
        spec, indexes, settings, fair=not args.concurrent, k=args.k, max_tokens=args.max_tokens
    )

    async def run() -> int:
        try:
            return await show(pipeline.run(args.query))
        finally:
            await pipeline.aclose()

    async def show(events: AsyncIterator[PipelineEvent]) -> int:
        hits = []
        async for event in events:
            if isinstance(event, Retrieved):
                hits = [hit.to_json() for hit in event.result.hits]
            elif isinstance(event, Waiting):
                log.info(event.text)
            elif isinstance(event, Delta) and not args.json:
                sys.stdout.write(printable(event.text))
                sys.stdout.flush()
            elif isinstance(event, Finished | Failed):
                if args.json:
                    answer = event.answer if isinstance(event, Finished) else event.partial
                    record = {
                        "query": args.query,
                        "pipeline": str(spec),
                        "answer": answer,
                        "hits": hits,
                        "stats": event.stats.to_json() if event.stats else None,
                    }
                    if isinstance(event, Failed):
                        record["error"] = event.error
                    sys.stdout.write(json_line(record))
                    sys.stdout.write("\n")
                else:
                    sys.stdout.write("\n")
                    if event.stats is not None:
                        one_line = format_stats(event.stats).replace("\n", " · ")
                        print(f"[{spec}] {one_line}")
                if isinstance(event, Failed):
                    sys.stderr.write(f"ragtui: error: {_one_line(event.error)}\n")
                    return 1
        return 0

    return asyncio.run(run())


def _cmd_labels(args: argparse.Namespace) -> int:
    from ragtui.corpus import ChunkingSettings, load_corpus
    from ragtui.judging.anchors import export_qrels, labels_for_corpus

    corpus = load_corpus(
        args.corpus,
        ChunkingSettings(args.chunk_tokens, args.chunk_overlap),
        cache_root=args.cache_dir,
    )
    store, resolved = labels_for_corpus(corpus)
    if resolved.summary():
        print(f"ragtui: {resolved.summary()}", file=sys.stderr)
    count = sum(len(grades) for grades in resolved.grades.values())
    if not count:
        raise RagtuiError(
            f"no usable labels for {corpus.root} (stored in {store.folder}); "
            "grade passages in the app"
        )
    suffix = ".qrels" if args.format == "trec" else ""
    target = args.out or Path(f"labels-{corpus.root.name}{suffix}")
    export_qrels(resolved, target, args.format)
    print(
        f"wrote {count} labels for {len(resolved.grades)} queries to {target} ({args.format})"
        + (f"; {len(resolved.stale)} stale labels left out" if resolved.stale else "")
    )
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from ragtui.config.paths import config_path
    from ragtui.config.settings_file import write_default_config

    if args.action == "path":
        print(config_path(args.config) or "no config file (defaults in use)")
        return 0
    target = Path(args.config or "ragtui.toml")
    write_default_config(target)
    print(f"wrote {target}")
    return 0


def build_app_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ragtui",
        description="Open the compare screen: two pipelines side by side on CORPUS. "
        f"Other commands: {', '.join(COMMANDS)} (see 'ragtui COMMAND --help').",
    )
    _add_corpus_options(parser)
    parser.add_argument("--a", dest="pane_a", metavar="SPEC", help="pane A's pipeline")
    parser.add_argument("--b", dest="pane_b", metavar="SPEC", help="pane B's pipeline")
    parser.add_argument(
        "--theme",
        help="dark, light, high-contrast, or the name of a .tcss file in ~/.config/ragtui/themes/",
    )
    parser.add_argument("-k", type=int, help="passages per pane (default 5)")
    parser.add_argument("--max-tokens", type=int, help="answer length limit (default 256)")
    parser.add_argument(
        "--concurrent", action="store_true", help="start in concurrent (not fair) timing mode"
    )
    parser.add_argument(
        "--blind",
        action="store_true",
        help="blind voting: panes titled 1 and 2, specs hidden until you vote (ctrl+b toggles)",
    )
    parser.add_argument(
        "--judge", metavar="SPEC", help="the LLM judge J asks (e.g. llamacpp:gemma3)"
    )
    parser.add_argument("--config", help="ragtui.toml to use")
    return parser


def _run_app(argv: Sequence[str]) -> int:
    from ragtui import collector_pause

    # Until both panes are ready (ragtui/collector_pause.py says why): the app resumes it
    # then. Once the app has ended, the collector is on and nothing stays frozen, so that
    # calling main() in-process leaves it as it was.
    collector_pause.pause()
    try:
        return _open_app(argv)
    finally:
        collector_pause.resume()
        collector_pause.thaw()


def _open_app(argv: Sequence[str]) -> int:
    from ragtui.config.settings_file import load_settings
    from ragtui.corpus import ChunkingSettings

    args = build_app_parser().parse_args(argv)
    settings = load_settings(args.config)
    for name, value in (("-k", args.k), ("--max-tokens", args.max_tokens)):
        if value is not None and value < 1:
            raise RagtuiError(f"{name} {value}: use at least 1")
    if args.judge:
        from ragtui.config.specs import parse_generator_spec

        parse_generator_spec(args.judge)  # a typo fails before the screen opens
    corpus = Path(args.corpus).expanduser()
    if not corpus.exists():
        commands = ", ".join(COMMANDS)
        raise RagtuiError(
            f"corpus {corpus} does not exist: name a folder of documents or a command ({commands})"
        )
    from ragtui.tui.app import CompareOptions, make_app

    app = make_app(
        CompareOptions(
            corpus=corpus,
            spec_a=args.pane_a or settings.ui.pane_a,
            spec_b=args.pane_b or settings.ui.pane_b,
            theme=args.theme or settings.ui.theme,
            settings=settings,
            chunking=ChunkingSettings(args.chunk_tokens, args.chunk_overlap),
            cache_root=args.cache_dir,
            fair=not args.concurrent,
            k=args.k,
            max_tokens=args.max_tokens,
            blind=args.blind,
            judge=args.judge,
        )
    )
    # Log lines written to the terminal would tear the screen; the app shows them instead.
    for handler in list(log.handlers):
        if isinstance(handler, _OneLineHandler):
            log.removeHandler(handler)
    from ragtui.tui.hangup import must_end_at_once

    try:
        app.run()
    finally:
        if must_end_at_once():
            # The session is closed and its writes are on disk; Textual's input thread,
            # restarted by the hang-up's SIGCONT, would otherwise keep the process alive.
            os._exit(app.return_code or 0)
    # Textual prints a crash's traceback and returns; the exit status must say it failed.
    return app.return_code or 0


# `ragtui eval` wrote its report, but some pipeline answered no query at all (README).
EXIT_ALL_ANSWERS_FAILED = 3


def _cmd_eval(args: argparse.Namespace) -> int:
    from ragtui.config import paths
    from ragtui.config.settings_file import load_settings
    from ragtui.experiment.run.grid import GridPlan, make_generators
    from ragtui.experiment.run.scoring import ANSWER_METRICS
    from ragtui.experiment.stats.decision import check_primary, parse_primary
    from ragtui.experiment.stats.good_enough import parse_margin

    for name, value in (
        ("-k", args.k),
        ("--passages", args.passages),
        ("--depth", args.depth),
        ("--limit", args.limit),
        ("--max-tokens", args.max_tokens),
        ("--concurrency", args.concurrency),
    ):
        if value is not None and value < 1:
            raise RagtuiError(f"{name} {value}: use at least 1")
    if args.labels and args.testset:
        raise RagtuiError("use --labels or --testset, not both")
    if args.labeller is not None and not args.testset:
        raise RagtuiError("--labeller chooses among a test set's labellers: add --testset NAME")
    margin = parse_margin(args.margin)
    primary = parse_primary(args.primary)
    judge_kinds = _judge_kinds(args)
    judge_metrics = tuple(f"judge_{kind}" for kind in judge_kinds if kind != "pairwise")
    check_primary(primary, args.k, (*ANSWER_METRICS, *judge_metrics))
    settings = load_settings(args.config)
    retrievers = tuple(text.strip() for text in args.retrievers.split(",") if text.strip())
    generators = tuple(text.strip() for text in args.generators.split(",") if text.strip())
    # A spec named twice would be compared with itself: keep the first of each.
    retrievers, generators = tuple(dict.fromkeys(retrievers)), tuple(dict.fromkeys(generators))
    if not retrievers or not generators:
        raise RagtuiError("name at least one retriever and one generator")
    plan = GridPlan(
        retrievers=retrievers,
        generators=generators,
        k=args.k,
        context_k=args.passages or settings.generation.k,
        depth=args.depth,
        concurrency=args.concurrency,
        max_tokens=args.max_tokens,
        timing=args.timing,
    )
    # Every generator and the judge are checked before any work: a missing model file
    # costs nothing.
    make_generators(plan, settings)
    judge = None
    cache_root = args.cache_dir or paths.cache_dir()
    if args.judge:
        from ragtui.cli_judge import make_judge

        judge = make_judge(args, settings, cache_root)
    try:
        return _eval_with(args, plan, settings, cache_root, judge, judge_kinds, margin, primary)
    finally:
        # Every way out (a refused cost, a bad --out, an interrupt, an error) closes the
        # judge's HTTP client and verdict cache; closing twice is harmless.
        if judge is not None:
            judge.close()


def _eval_with(args, plan, settings, cache_root, judge, judge_kinds, margin, primary) -> int:
    """``ragtui eval`` once its arguments, generators and judge are checked."""
    from ragtui.config import paths
    from ragtui.corpus import ChunkingSettings
    from ragtui.display.progress import ProgressPrinter
    from ragtui.experiment.report.corrected import text_chart
    from ragtui.experiment.report.decision import verdict_lines
    from ragtui.experiment.report.judge import judge_line
    from ragtui.experiment.report.outputs import (
        check_destination,
        every_answer_failed,
        failed_answers,
        render_markdown,
        write_outputs,
    )
    from ragtui.experiment.run.corrected_estimates import eval_additions
    from ragtui.experiment.run.dataset import load_dataset
    from ragtui.experiment.run.grid import run_grid
    from ragtui.experiment.run.scoring import summarize
    from ragtui.experiment.stats.decision import check_primary_for_dataset
    from ragtui.judging.store import JudgmentStore

    dataset = load_dataset(
        args.corpus,
        ChunkingSettings(args.chunk_tokens, args.chunk_overlap),
        labels_from=paths.data_dir() if args.labels else None,
        testset=args.testset,
        limit=args.limit,
        cache_root=args.cache_dir,
        labeller=args.labeller,
    )
    check_primary_for_dataset(primary, bool(dataset.qrels), bool(dataset.answers))
    for warning in dataset.warnings:
        log.warning(warning)
    out = args.out or Path(f"ragtui-eval-{dataset.corpus.root.name}")
    check_destination(out)  # before the grid runs, not after
    _confirm_eval_costs(args, plan, dataset, settings, judge_kinds, judge)

    def progress(line: str) -> None:
        log.info(line)

    try:
        run = run_grid(
            dataset,
            plan,
            settings,
            cache_root=cache_root,
            progress=progress,
            encode_progress=ProgressPrinter(),
        )
    except KeyboardInterrupt:
        sys.stderr.write(
            "ragtui: interrupted; finished answers are kept in the generation cache, "
            "run the same command again to resume (no report was written)\n"
        )
        return 130
    store = JudgmentStore.for_corpus(dataset.corpus.root, dataset.corpus.source_key)
    judged, judge_object = None, None
    if judge is not None:
        judged, judge_object = _judge_run(judge, run, judge_kinds, store)
        if judged is None:
            return 130
    votes = store.votes()
    results = summarize(
        run, votes, margin=margin, primary=primary, judged=judged, judge=judge_object
    )
    results.update(eval_additions(run, store))
    results["answer_correction"] = _answer_correction(run, judged, votes, judge_object, store)
    if args.testset:
        from ragtui.experiment.run.labeller_checks import for_eval

        # Beside every figure resting on a labeller's grades: its agreement with the person.
        results["labeller_agreement"] = for_eval(dataset, run, args.testset, plan.k)
    written = write_outputs(run, results, out, judged)
    _record_eval(store, written, args.testset or "", dataset.corpus.content_key)
    findings = render_markdown(results).split("## Findings", 1)[1].split("## ", 1)[0].strip()
    # Findings carry names and a backend's error text: shown as text, control codes removed.
    print(printable(findings))
    for metric in dict.fromkeys(entry["metric"] for entry in results["corrected"]):
        for line in text_chart(results["corrected"], metric):
            print(printable(line))
    for line in verdict_lines(results):
        print(printable(f"- {line}"))
    if judge_object is not None:
        print(printable(judge_line(judge_object)))
    print(f"wrote {written}/report.md, report.html, results.json, per_query.csv, runs/")
    silent = every_answer_failed(results)
    if silent:
        failed, total = failed_answers(results)
        sys.stderr.write(
            f"ragtui: error: {failed} of {total} answers failed, every one of "
            f"{', '.join(silent)}: its answer figures are failures, not measurements "
            f"(exit status {EXIT_ALL_ANSWERS_FAILED})\n"
        )
        return EXIT_ALL_ANSWERS_FAILED
    if args.show:
        return _show_results(written)
    return 0


def _record_eval(store, folder: Path, testset: str, content_sha256: str) -> None:
    """Note the run in the corpus's records, for the compare screen's `v`; the outputs are
    already written, so a record that cannot be saved costs a warning, not the eval."""
    import time

    from ragtui.judging.store import JudgmentStoreError

    try:
        store.add_eval(folder, testset, content_sha256, time.time())
    except JudgmentStoreError as error:
        log.warning("the compare screen will not find this run: %s", error)


def _answer_correction(run, judged, votes, judge_object, store) -> dict:
    """results.json's ``answer_correction``: the judge's win rates corrected by the votes of
    the random vote queue on this run's answers, and its judged correctness and
    faithfulness by the grade queue's grades; votes the person chose are never a
    correction sample, and the report says so."""
    from ragtui.experiment.run.judged_grid import grade_items, vote_items
    from ragtui.experiment.stats.vote_correction import corrected_scores, vote_correction
    from ragtui.judging.grade_queue import run_grades
    from ragtui.judging.vote_queue import run_id

    items = vote_items(run, judged) if judged is not None and judged.pairs else []
    failures = judged.failure_pairs if judged is not None else []
    graded = grade_items(run, judged) if judged is not None else []
    scores = []
    if graded:
        grades = run_grades(store.answer_grades(), graded)
        if grades:
            failed: dict[str, int] = {}
            for cell in run.cells:
                if cell.error is not None:
                    failed[cell.pipeline] = failed.get(cell.pipeline, 0) + 1
            scores = corrected_scores(graded, grades, failed)
    return vote_correction(
        votes, judge_object, items, failures, run_id(items) if items else None, scores
    ).to_json()


def _confirm_eval_costs(args, plan, dataset, settings, judge_kinds, judge) -> None:
    """Every cost question of the eval (paid generators, a paid judge), asked before any
    retrieval or embedding work, from the plan's sizes (cached work is free)."""
    from ragtui.cli_costs import confirm_cost
    from ragtui.experiment.run.judged_grid import verdicts_for
    from ragtui.judging.judge import MAX_TOKENS

    passages = dataset.corpus.passages
    passage_chars = sum(len(p.text) for p in passages) // max(len(passages), 1)
    context_chars = plan.context_k * passage_chars
    queries = len(dataset.queries)
    answer_tokens = plan.max_tokens or settings.generation.max_tokens
    for generator in plan.generators:
        calls = len(plan.retrievers) * queries
        confirm_cost(
            "generator", generator, calls, context_chars + 300, answer_tokens, settings, args.yes
        )
    if judge is not None:
        answers = len(plan.retrievers) * len(plan.generators)
        calls = judge.most_requests(verdicts_for([answers] * queries, judge_kinds))
        chars = context_chars + 4 * answer_tokens + 600
        confirm_cost("judge", args.judge, calls, chars, MAX_TOKENS, settings, args.yes)


def _judge_kinds(args: argparse.Namespace) -> tuple[str, ...]:
    from ragtui.experiment.run.judged_grid import JUDGE_KINDS

    if not args.judge:
        return ()
    kinds = tuple(dict.fromkeys(k.strip() for k in args.judge_kinds.split(",") if k.strip()))
    for kind in kinds:
        if kind not in JUDGE_KINDS:
            raise RagtuiError(f"--judge-kinds {kind!r}: use some of {', '.join(JUDGE_KINDS)}")
    if not kinds:
        raise RagtuiError(f"--judge-kinds is empty: use some of {', '.join(JUDGE_KINDS)}")
    return kinds


def _judge_run(judge, run, kinds, store):
    """The judge over the grid: (JudgedGrid, results.json's judge object), or (None, None)
    when interrupted (verdicts so far stay in the judge cache). Its cost was confirmed
    before the grid ran."""
    import asyncio

    from ragtui.display.progress import ProgressPrinter
    from ragtui.experiment.run.judged_grid import judge_grid, judge_summary
    from ragtui.judging.calibration import latest_calibration

    async def go():
        try:
            judged = await judge_grid(run, judge, kinds, ProgressPrinter())
            description = judged.description
            calibration = latest_calibration(store, description)
            return judged, judge_summary(judged, judge, calibration)
        finally:
            await judge.aclose()

    try:
        return asyncio.run(go())
    except KeyboardInterrupt:
        sys.stderr.write(
            "ragtui: interrupted while judging; verdicts so far are kept in the judge cache, "
            "run the same command again to resume (no report was written)\n"
        )
        return None, None


def _show_results(folder: Path) -> int:
    from ragtui.experiment.report.outputs import load_results
    from ragtui.tui.eval_app import EvalResultsApp

    results = load_results(folder)
    if not sys.stdout.isatty():
        # A full-screen app writing into a file or a pipe would fill it with escape codes
        # and wait for keys that never come.
        sys.stderr.write(
            f"ragtui: output is not a terminal, so the results screen is not opened; "
            f"run 'ragtui results {folder}' in a terminal\n"
        )
        return 0
    for handler in list(log.handlers):
        if isinstance(handler, _OneLineHandler):
            log.removeHandler(handler)
    app = EvalResultsApp(results)
    app.run()
    return app.return_code or 0


def _cmd_testset(args: argparse.Namespace) -> int:
    from ragtui.cli_testset import run

    return run(args)


def _cmd_label(args: argparse.Namespace) -> int:
    from ragtui.cli_label import run

    return run(args)


def _cmd_vote(args: argparse.Namespace) -> int:
    from ragtui.cli_vote import run

    return run(args)


def _cmd_judge(args: argparse.Namespace) -> int:
    from ragtui.cli_judge import run

    return run(args)


def _cmd_results(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty():
        return _print_results(args.folder)
    return _show_results(args.folder)


def _print_results(folder: Path) -> int:
    """``ragtui results DIR`` into a file or a pipe: the findings as plain text."""
    from ragtui.experiment.report.decision import verdict_lines
    from ragtui.experiment.report.formatting import dataset_title
    from ragtui.experiment.report.judge import judge_line
    from ragtui.experiment.report.outputs import load_results, render_markdown

    results = load_results(folder)
    try:
        dataset, plan = results["dataset"], results["plan"]
        lines = [
            f"ragtui eval results in {folder}: {dataset_title(dataset).replace('`', '')}, "
            f"{dataset['queries']} queries; retrievers {', '.join(plan['retrievers'])} "
            f"× generators {', '.join(plan['generators'])}",
            "",
            render_markdown(results).split("## Findings", 1)[1].split("## ", 1)[0].strip(),
            *[f"- {line}" for line in verdict_lines(results)],
        ]
        if results.get("judge"):
            lines.append(judge_line(results["judge"]))
    except (KeyError, TypeError, IndexError, AttributeError):
        raise RagtuiError(
            f"{folder / 'results.json'} was written by another version of ragtui; "
            "run 'ragtui eval' again"
        ) from None
    lines += ["", f"The whole report: {folder / 'report.md'} (charts: report.html)."]
    # Spec names and query ids are user text: no control characters into a file either.
    print("\n".join(printable(line) for line in lines))
    return 0


COMMANDS = {
    "index": _cmd_index,
    "search": _cmd_search,
    "ask": _cmd_ask,
    "eval": _cmd_eval,
    "results": _cmd_results,
    "labels": _cmd_labels,
    "config": _cmd_config,
    "testset": _cmd_testset,
    "judge": _cmd_judge,
    "label": _cmd_label,
    "vote": _cmd_vote,
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    opens_app = bool(arguments) and arguments[0] not in {*COMMANDS, "-h", "--help", "--version"}
    args = None
    if not opens_app:
        # Every command's parser: built only when a command is named (about 0.05 s, which
        # opening the compare screen does not wait for; it has a parser of its own).
        parser = build_parser()
        args = parser.parse_args(arguments)
        if args.command is None:
            parser.print_help()
            return 0
    # Restored on the way out, so calling main() in-process leaves logging as it was.
    handler, saved = _OneLineHandler(), (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        if args is None:
            return _run_app(arguments)
        return COMMANDS[args.command](args)
    except RagtuiError as error:
        sys.stderr.write(f"ragtui: error: {_one_line(str(error))}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("ragtui: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`ragtui search … | head`): not an error worth a traceback.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
