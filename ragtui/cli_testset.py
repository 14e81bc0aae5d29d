"""``ragtui testset``: make a test set from a corpus, list the sets made, show one."""

from __future__ import annotations

import argparse
import sys

from ragtui.display.safe_text import printable
from ragtui.errors import RagtuiError

SAMPLE_SHOWN = 5


def _load_corpus(args: argparse.Namespace, path: str):
    from ragtui.corpus import ChunkingSettings, load_corpus

    return load_corpus(
        path, ChunkingSettings(args.chunk_tokens, args.chunk_overlap), cache_root=args.cache_dir
    )


def run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[0] == "list" and len(words) == 2:
        return _list(args, words[1])
    if words[0] == "show" and len(words) == 3:
        return _show(args, words[1], words[2])
    if words[0] == "import" and len(words) == 3:
        return _import(args, words[1], words[2])
    if len(words) != 1:
        raise RagtuiError(
            "use 'ragtui testset CORPUS --generator SPEC', 'ragtui testset list CORPUS' "
            "or 'ragtui testset show CORPUS NAME' "
            "or 'ragtui testset import CORPUS FILE --name NAME'"
        )
    return _make(args, words[0])


def _make(args: argparse.Namespace, path: str) -> int:
    from ragtui.cli_costs import confirm_cost
    from ragtui.config.settings_file import load_settings
    from ragtui.display.progress import ProgressPrinter
    from ragtui.testsets.attempts import CHECK_MAX_TOKENS, calls_per_passage
    from ragtui.testsets.generate import FILTERS, TestsetPlan, run_testset
    from ragtui.testsets.store import (
        TestsetFolder,
        check_name,
        export,
        latest_records,
        read_testset,
        testsets_root,
    )

    if not args.generator:
        raise RagtuiError("name who writes the questions: --generator SPEC (e.g. llamacpp:smollm2)")
    if args.n < 1:
        raise RagtuiError(f"-n {args.n}: use at least 1")
    if args.max_overlap is not None and not 0 < args.max_overlap < 1:
        # 1 would drop nothing (no question has more than all its words in its passage).
        raise RagtuiError(
            f"--max-overlap {args.max_overlap:g}: use a share above 0 and below 1 (e.g. 0.6)"
        )
    if args.name is not None:
        check_name(args.name)  # an empty --name must not fall back to the default set
    settings = load_settings(args.config)
    corpus = _load_corpus(args, path)
    name = (
        args.name
        if args.name is not None
        else f"{args.generator.replace(':', '-').replace('/', '-')}-seed{args.seed}"
    )
    enabled = tuple(f for f in FILTERS if not getattr(args, f"no_{f}_filter"))
    plan = TestsetPlan(
        name=name,
        generator=args.generator,
        count=args.n,
        seed=args.seed,
        checker=args.checker,
        enabled=enabled,
        max_overlap=args.max_overlap,
    )
    # Each passage still to ask about may take every try the attempt policy allows; the
    # passages an earlier run of this set already judged cost nothing again (a passage
    # whose call failed is asked about again).
    folder = testsets_root(corpus.root, corpus.source_key) / name
    done = sum(
        1
        for record in latest_records(TestsetFolder(folder).records())
        if record["index"] < args.n and record.get("verdict") != "failed"
    )
    todo = args.n - done
    chars = 1200 + 400
    checker = plan.checker_spec
    each = calls_per_passage(plan.max_overlap, "roundtrip" in enabled)
    asks, checks = todo * each.questions, todo * each.checks
    if checker == plan.generator:
        calls = asks + checks
        confirm_cost("generator", plan.generator, calls, chars, plan.max_tokens, settings, args.yes)
    else:
        confirm_cost("generator", plan.generator, asks, chars, plan.max_tokens, settings, args.yes)
        confirm_cost("checker", checker, checks, chars, CHECK_MAX_TOKENS, settings, args.yes)
    try:
        outcome = run_testset(corpus, plan, settings.backends, progress=ProgressPrinter())
    except KeyboardInterrupt:
        sys.stderr.write(
            f"ragtui: interrupted; the questions written so far are kept in test set {name!r}, "
            "run the same command again to resume\n"
        )
        return 130
    for warning in outcome.warnings:
        sys.stderr.write(f"ragtui: warning: {warning}\n")
    print(outcome.funnel_line())
    if outcome.for_labeling:
        from ragtui.testsets.for_labeling import labeling_line

        print(printable(labeling_line(outcome.for_labeling, path, name)))
    if outcome.resumed:
        print(f"resumed: {outcome.resumed} passages were done by an earlier run")
    if outcome.mean_overlap is not None:
        print(
            f"mean word overlap of kept questions with their passages: {outcome.mean_overlap:.0%} "
            "(high overlap favours lexical retrievers such as bm25)"
        )
    print(f"test set {name!r}: {outcome.folder}")
    if args.out:
        print(f"exported to {export(read_testset(outcome.folder), args.out)}")
    print(f"score a grid on it: ragtui eval {path} --testset {name}")
    return 0


def _say(text: str = "") -> None:
    # Every field of a set may come from a shared folder: text only, never terminal codes.
    print(printable(text))


def _list(args: argparse.Namespace, path: str) -> int:
    from ragtui.testsets.for_labeling import labeling_only
    from ragtui.testsets.store import list_names, read_testset, testsets_root

    corpus = _load_corpus(args, path)
    root = testsets_root(corpus.root, corpus.source_key)
    names = list_names(root)
    if not names:
        _say(f"no test sets for {corpus.root} yet; make one with 'ragtui testset {path} -h'")
        return 0
    for name in names:
        testset = read_testset(root / name)
        meta = testset.meta
        if meta.get("kind") == "imported":
            from ragtui.testsets.importing import describe

            _say(describe(testset))
            continue
        settings = meta.get("settings") or {}
        state = "" if meta.get("complete") else " (incomplete: run the same command to resume)"
        more = len(labeling_only(testset))
        labeling = f" (+{more} more for labeling)" if more else ""
        _say(
            f"{name}: {len(testset.scored())} questions by {settings.get('generator')}, "
            f"seed {settings.get('seed')}{labeling}{state}"
        )
    return 0


def _show(args: argparse.Namespace, path: str, name: str) -> int:
    from ragtui.testsets.store import find_testset

    corpus = _load_corpus(args, path)
    testset = find_testset(name, corpus.root, corpus.source_key)
    meta = testset.meta
    if meta.get("kind") == "imported":
        from ragtui.testsets.importing import show_lines

        for line in show_lines(testset, SAMPLE_SHOWN):
            _say(line)
        return 0
    settings = meta.get("settings") or {}
    _say(f"{testset.name} ({testset.folder})")
    made_by = f"generator {settings.get('generator')} ({meta.get('model_identity')})"
    _say(f"{made_by}, checker {settings.get('checker')}")
    filters = settings.get("filters") or {}
    used = ", ".join(str(name) for name, on in filters.items() if on) or "none"
    _say(f"seed {settings.get('seed')}, filters {used}")
    _say(str(meta.get("funnel_line", "no funnel yet (the run did not finish)")))
    from ragtui.testsets.for_labeling import labeling_line, labeling_only

    more = len(labeling_only(testset))
    if more:
        _say(labeling_line(more, path, testset.name))
    overlap = meta.get("mean_word_overlap")
    if isinstance(overlap, int | float):
        _say(f"mean word overlap with source passages: {overlap:.0%} (favours lexical retrievers)")
    rejected = sum(verdict == "rejected" for verdict in testset.review.values())
    if testset.review:
        _say(f"reviewed: {len(testset.review)} ({rejected} rejected, left out of eval)")
    for record in testset.kept[:SAMPLE_SHOWN]:
        _say()
        _say(f"{record.get('query_id')}: {record.get('question')}")
        _say(f"  answer: {record.get('answer')}")
        position = corpus.passage_index.get(str(record.get("passage_id")))
        text = (
            corpus.passages[position].text
            if position is not None
            else "(passage no longer in the corpus)"
        )
        flat = " ".join(text.split())
        _say(f"  from {record.get('passage_id')}: {flat[:300]}{'…' if len(flat) > 300 else ''}")
    return 0


def _import(args: argparse.Namespace, path: str, file: str) -> int:
    """``ragtui testset import CORPUS FILE --name NAME [--answers FILE]``."""
    from pathlib import Path

    from ragtui.testsets.importing import import_testset

    if not args.name:
        raise RagtuiError("name the imported set: --name NAME")
    corpus = _load_corpus(args, path)
    answers = Path(args.answers).expanduser() if args.answers else None
    outcome = import_testset(corpus, Path(file).expanduser(), args.name, answers)
    for problem in outcome.problems:
        sys.stderr.write(f"ragtui: warning: {printable(problem)} (line skipped)\n")
    print(
        f"test set {args.name!r}: {outcome.questions} questions imported "
        f"({outcome.answered} with reference answers; {len(outcome.problems)} bad lines "
        f"skipped) in {outcome.folder}"
    )
    print(f"grade their pool: ragtui label {path} --testset {args.name} --retrievers bm25,dense")
    return 0
