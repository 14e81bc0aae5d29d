"""``ragtui label``: grade a test set's pool blind, write the pool out as a labeling queue,
or read grades made elsewhere back in.

- ``ragtui label CORPUS --testset NAME --retrievers R1,R2`` opens the blind labeling screen
  (on a generated set: every question that passed the cheap filters, ``--kept-only`` only
  the kept ones; see ``ragtui.testsets.for_labeling``);
- ``ragtui label queue CORPUS --testset NAME --retrievers R1,R2 --out FILE`` writes the
  pairs that screen would ask about as JSONL;
- ``ragtui label import CORPUS FILE --testset NAME`` stores the grades of such a file (a
  ``grade`` per line) or of TREC qrels as the person's labels.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ragtui.display.safe_text import printable
from ragtui.errors import RagtuiError

USAGE = (
    "use 'ragtui label CORPUS --testset NAME --retrievers R1,R2', "
    "'ragtui label queue CORPUS --testset NAME --retrievers R1,R2 --out FILE' "
    "or 'ragtui label import CORPUS FILE --testset NAME'"
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
    label.add_argument("--chunk-tokens", type=int, default=180, metavar="N")
    label.add_argument("--chunk-overlap", type=int, default=30, metavar="N")
    label.add_argument("--cache-dir", type=Path, help="index cache (default: user cache dir)")
    label.add_argument("--config", help="ragtui.toml to use")


def run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[0] == "queue" and len(words) == 2:
        return _queue(args, words[1])
    if words[0] == "import" and len(words) == 3:
        return _import(args, words[1], Path(words[2]).expanduser())
    if len(words) != 1:
        raise RagtuiError(USAGE)
    return _screen(args, words[0])


def _open_set(args: argparse.Namespace, path: str):
    from ragtui.corpus import ChunkingSettings, load_corpus
    from ragtui.testsets.for_labeling import labeling_queries
    from ragtui.testsets.store import find_testset

    corpus = load_corpus(
        path, ChunkingSettings(args.chunk_tokens, args.chunk_overlap), cache_root=args.cache_dir
    )
    testset = find_testset(args.testset, corpus.root, corpus.source_key)
    # A person needs no round trip, only a real question: a generated set offers every
    # question that passed the cheap filters (see ragtui.testsets.for_labeling).
    queries = labeling_queries(testset, kept_only=args.kept_only)
    if not queries:
        raise RagtuiError(f"test set {testset.name!r} ({testset.folder}) holds no questions")
    unit = str(testset.meta.get("judged_unit") or "passage")
    return corpus, testset, unit, queries


def _prepare_queue(args: argparse.Namespace, path: str):
    """Load the set, extend its pool with the retrievers, build the queue."""
    from ragtui.config.settings_file import load_settings
    from ragtui.config.specs import parse_retriever_spec
    from ragtui.display.progress import ProgressPrinter
    from ragtui.encoders.base import EncodeProgress
    from ragtui.index.cache import Indexes
    from ragtui.judging.label_queue import QueueDesign, build_queue, record_sample
    from ragtui.judging.pools import extend_pool
    from ragtui.retrieval import make_retriever

    if not args.retrievers:
        raise RagtuiError("name the retrievers to pool: --retrievers bm25,dense")
    if args.depth < 1:
        raise RagtuiError(f"--depth {args.depth}: use at least 1")
    if args.budget is not None and args.budget < 1:
        raise RagtuiError(f"--budget {args.budget}: use at least 1")
    specs = [parse_retriever_spec(text.strip()) for text in args.retrievers.split(",")]
    names = list(dict.fromkeys(str(spec) for spec in specs))
    if args.only_differing and len(names) < 2:
        raise RagtuiError("--only-differing compares retrievers: name at least two")
    settings = load_settings(args.config)
    corpus, testset, unit, queries = _open_set(args, path)
    printer = ProgressPrinter()
    indexes = Indexes(corpus, cache_root=args.cache_dir, progress=printer)
    retrievers = {name: make_retriever(name, indexes, settings.backends) for name in names}
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        printer(EncodeProgress(done, total, elapsed, "pooling", "searches"))

    pool = extend_pool(testset.folder, corpus, unit, queries, retrievers, args.depth, progress)
    design = QueueDesign(tuple(names), args.depth, args.budget, args.seed, args.only_differing)
    queue = build_queue(pool, corpus, queries, design)
    record_sample(testset.folder, queue)
    if queue.stale:
        sys.stderr.write(
            f"ragtui: warning: {queue.stale} pool pairs are left out: their text changed or "
            "left the corpus since they were pooled\n"
        )
    return corpus, testset, queue


def _describe(queue, unit: str) -> str:
    sample = (
        f"a random sample of {len(queue.pairs)} of {queue.pool_size} pool pairs "
        f"(inclusion probability {len(queue.pairs) / queue.pool_size:.3f})"
        if queue.design.budget is not None and len(queue.pairs) < queue.pool_size
        else f"{len(queue.pairs)} pool pairs"
    )
    differing = " where the retrievers differ" if queue.design.only_differing else ""
    queries = len({pair.query_id for pair in queue.pairs})
    return f"{sample}{differing} ({unit}s), {queries} queries, depth {queue.design.depth}"


def _queue(args: argparse.Namespace, path: str) -> int:
    from ragtui.display.safe_text import json_line
    from ragtui.index.store import write_file_atomic
    from ragtui.judging.label_queue import graded_pairs, pair_key
    from ragtui.judging.store import JudgmentStore

    if args.out is None:
        raise RagtuiError("name the file to write: --out queue.jsonl")
    corpus, testset, queue = _prepare_queue(args, path)
    # What the screen would ask: the pairs not graded yet (by the screen or an import).
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key)
    graded = graded_pairs(store, queue)
    asked = [pair for pair in queue.pairs if pair_key(pair) not in graded]
    text = "".join(json_line(pair.to_record()) + "\n" for pair in asked)
    try:
        write_file_atomic(args.out.expanduser(), text.encode("utf-8"))
    except OSError as error:
        raise RagtuiError(f"cannot write --out {args.out} ({error.strerror})") from None
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


def _screen(args: argparse.Namespace, path: str) -> int:
    from ragtui.judging.labeling import LabelingSession
    from ragtui.judging.store import JudgmentStore

    if not sys.stdout.isatty():
        raise RagtuiError(
            "the labeling screen needs a terminal; write a queue instead: "
            f"ragtui label queue {path} --testset {args.testset} --retrievers ... --out FILE"
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
