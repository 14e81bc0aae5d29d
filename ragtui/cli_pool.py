"""The test set, pool and queue a command about pool pairs works on: shared by
``ragtui label`` (the person grades) and ``ragtui judge relevance`` (a labeller model
grades), so both ask about exactly the same pairs."""

from __future__ import annotations

import argparse
import sys
import time

from ragtui.errors import RagtuiError


def open_set(args: argparse.Namespace, path: str):
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


def prepare_queue(args: argparse.Namespace, path: str, *, opened=None, record: bool = True):
    """Load the set (unless ``opened`` holds what ``open_set`` gave), extend its pool with
    the retrievers, build the queue.

    ``record``: keep a budgeted sample's design with the set (``label_samples.jsonl``). That
    file holds the person's samples, whose inclusion probabilities correct automatic grades;
    a labeller's sample is no such thing and is not recorded.
    """
    from ragtui.config.settings_file import load_settings
    from ragtui.config.specs import parse_retriever_spec
    from ragtui.display.progress import ProgressPrinter
    from ragtui.index.cache import Indexes
    from ragtui.judging.label_queue import QueueDesign, build_queue, record_sample
    from ragtui.judging.pools import extend_pool
    from ragtui.progress import WorkProgress
    from ragtui.retrieval import make_retriever

    if not args.retrievers:
        raise RagtuiError("name the retrievers to pool: --retrievers bm25,dense")
    if args.depth < 1:
        raise RagtuiError(f"--depth {args.depth}: use at least 1")
    if args.budget is not None and args.budget < 1:
        raise RagtuiError(f"--budget {args.budget}: use at least 1")
    if getattr(args, "design", "uniform") not in (None, "uniform") and args.budget is None:
        raise RagtuiError(f"--design {args.design} draws a sample: give its size, --budget N")
    specs = [parse_retriever_spec(text.strip()) for text in args.retrievers.split(",")]
    names = list(dict.fromkeys(str(spec) for spec in specs))
    if args.only_differing and len(names) < 2:
        raise RagtuiError("--only-differing compares retrievers: name at least two")
    settings = load_settings(args.config)
    corpus, testset, unit, queries = opened or open_set(args, path)
    sampling = getattr(args, "design", None) or "uniform"  # ``judge relevance`` has none
    labeller, labeller_grades = None, None
    if sampling == "labeller" and args.budget is not None:
        # before pooling: a missing labeller is told at once, not after the searches
        labeller, labeller_grades = _labeller_for_design(testset, path, args)
    printer = ProgressPrinter()
    indexes = Indexes(corpus, cache_root=args.cache_dir, progress=printer)
    retrievers = {name: make_retriever(name, indexes, settings.backends) for name in names}
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        printer(WorkProgress(done, total, elapsed, "pooling", "searches"))

    pool = extend_pool(testset.folder, corpus, unit, queries, retrievers, args.depth, progress)
    design = QueueDesign(
        tuple(names),
        args.depth,
        args.budget,
        args.seed,
        args.only_differing,
        sampling,
        labeller,
    )
    queue = build_queue(pool, corpus, queries, design, labeller_grades, testset.folder)
    if labeller_grades is not None:
        items = pool.pairs(design.retrievers, design.depth, only_differing=design.only_differing)
        keys = {(i.query_id, i.doc_id, i.start, i.end, i.text_sha256) for i in items}
        covered = sum(
            1 for key, grade in labeller_grades.items() if key in keys and grade.grade is not None
        )
        if covered < len(keys):
            sys.stderr.write(
                f"ragtui: warning: the labeller ({labeller}) graded {covered} of the "
                f"{len(keys)} pool pairs; the others count as the most uncertain\n"
            )
    if record:
        record_sample(testset.folder, queue)
    if queue.stale:
        sys.stderr.write(
            f"ragtui: warning: {queue.stale} pool pairs are left out: their text changed or "
            "left the corpus since they were pooled\n"
        )
    return corpus, testset, queue


def _labeller_for_design(testset, path: str, args: argparse.Namespace):
    """The labeller that graded most of the set's pairs and its grades, for ``--design
    labeller``; a one-line error when no labeller graded the set."""
    from ragtui.judging.automatic_grades import AutomaticGrades

    grades = AutomaticGrades(testset.folder)
    latest = grades.latest()
    best = None
    for source in grades.sources():
        of_source = latest.get(source.key, {})
        count = sum(grade.grade is not None for grade in of_source.values())
        if count and (best is None or count > best[2]):
            best = (source, of_source, count)
    if best is None:
        raise RagtuiError(
            f"--design labeller: test set {testset.name!r} has no labeller grades; run "
            f"'ragtui judge relevance {path} --testset {args.testset} --retrievers "
            f"{args.retrievers} --judge SPEC' first, or use --design uniform or rank-prior"
        )
    return best[0].describe(), best[1]
