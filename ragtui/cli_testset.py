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
    from ragtui.testsets.generate import FILTERS, OVERLAP_ATTEMPTS, TestsetPlan, run_testset
    from ragtui.testsets.store import TestsetFolder, export, read_testset, testsets_root

    if not args.generator:
        raise RagtuiError("name who writes the questions: --generator SPEC (e.g. llamacpp:smollm2)")
    if args.n < 1:
        raise RagtuiError(f"-n {args.n}: use at least 1")
    if args.max_overlap is not None and not 0 < args.max_overlap < 1:
        raise RagtuiError(f"--max-overlap {args.max_overlap:g}: use a share between 0 and 1")
    settings = load_settings(args.config)
    corpus = _load_corpus(args, path)
    name = args.name or f"{args.generator.replace(':', '-').replace('/', '-')}-seed{args.seed}"
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
    # One question and one round-trip answer per passage, each reading the passage; the
    # passages an earlier run of this set already judged cost nothing again.
    folder = testsets_root(corpus.root, corpus.source_key) / name
    done = sum(1 for record in TestsetFolder(folder).records() if record["index"] < args.n)
    todo = args.n - done
    chars = 1200 + 400
    checker = plan.checker or plan.generator
    checks = todo if "roundtrip" in enabled else 0
    # With a cap, a question over it is asked for again: up to OVERLAP_ATTEMPTS calls each.
    asks = todo * (1 if plan.max_overlap is None else OVERLAP_ATTEMPTS)
    if checker == plan.generator:
        calls = asks + checks
        confirm_cost("generator", plan.generator, calls, chars, plan.max_tokens, settings, args.yes)
    else:
        confirm_cost("generator", plan.generator, asks, chars, plan.max_tokens, settings, args.yes)
        confirm_cost("checker", checker, checks, chars, 48, settings, args.yes)
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


def _list(args: argparse.Namespace, path: str) -> int:
    from ragtui.testsets.store import list_names, read_testset, testsets_root

    corpus = _load_corpus(args, path)
    root = testsets_root(corpus.root, corpus.source_key)
    names = list_names(root)
    if not names:
        print(f"no test sets for {corpus.root} yet; make one with 'ragtui testset {path} -h'")
        return 0
    for name in names:
        testset = read_testset(root / name)
        meta = testset.meta
        if meta.get("kind") == "imported":
            from ragtui.testsets.importing import describe

            print(printable(describe(testset)))
            continue
        state = "" if meta.get("complete") else " (incomplete: run the same command to resume)"
        print(
            printable(
                f"{name}: {len(testset.scored())} questions by {meta['settings']['generator']}, "
                f"seed {meta['settings']['seed']}{state}"
            )
        )
    return 0


def _show(args: argparse.Namespace, path: str, name: str) -> int:
    from ragtui.testsets.store import find_testset

    corpus = _load_corpus(args, path)
    testset = find_testset(name, corpus.root, corpus.source_key)
    meta = testset.meta
    if meta.get("kind") == "imported":
        from ragtui.testsets.importing import show_lines

        print("\n".join(printable(line) for line in show_lines(testset, SAMPLE_SHOWN)))
        return 0
    settings = meta["settings"]
    print(printable(f"{testset.name} ({testset.folder})"))
    made_by = f"generator {settings['generator']} ({meta['model_identity']})"
    print(printable(f"{made_by}, checker {settings['checker']}"))
    used = ", ".join(name for name, on in settings["filters"].items() if on) or "none"
    print(f"seed {settings['seed']}, filters {used}")
    print(meta.get("funnel_line", "no funnel yet (the run did not finish)"))
    overlap = meta.get("mean_word_overlap")
    if overlap is not None:
        print(f"mean word overlap with source passages: {overlap:.0%} (favours lexical retrievers)")
    rejected = sum(verdict == "rejected" for verdict in testset.review.values())
    if testset.review:
        print(f"reviewed: {len(testset.review)} ({rejected} rejected, left out of eval)")
    for record in testset.kept[:SAMPLE_SHOWN]:
        print()
        print(printable(f"{record['query_id']}: {record['question']}"))
        print(printable(f"  answer: {record['answer']}"))
        position = corpus.passage_index.get(record["passage_id"])
        text = (
            corpus.passages[position].text
            if position is not None
            else "(passage no longer in the corpus)"
        )
        flat = " ".join(text.split())
        print(
            printable(
                f"  from {record['passage_id']}: {flat[:300]}{'…' if len(flat) > 300 else ''}"
            )
        )
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
