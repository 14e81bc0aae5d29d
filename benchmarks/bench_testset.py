"""Do generated questions rank retrievers as human judgments do? Kendall's tau on Cranfield.

    python benchmarks/bench_testset.py [--cranfield PATH] [-n 400] [--generators SPECS]
        [--data-root DIR] [--analyze-only] [--max-overlap SHARE]

Seven retriever configurations are ranked by nDCG@10 on Cranfield's 225 human queries and
on a test set generated from the same corpus by each packaged generator (``ragtui testset``
with its default filters, seed 0, no hand-picking). The script prints, per generator, the
funnel, questions kept per minute, Kendall's tau between the two rankings with a bootstrap
95% interval (human and generated queries resampled independently, 1,000 rounds), and tau
with each filter turned off alone, with no filter, and with a word-overlap cap. For scale,
each of those lines also gives tau between human queries at the generated set's size: the
ranking on that many human queries drawn at random against the ranking on the other human
queries (median and 95% range over 1,000 draws). It is what a set of that many questions
written by people would reach here, which a generated set's tau is read against; a set of
17 questions cannot be held to what two halves of 225 human queries reach.

For that ablation the set is generated with only the round-trip check on, so every
parseable question has its checker's answer. Each filter's verdict is a pure function of
the stored question, answers, passage and the questions kept before it, so all of them,
the round trip included, are applied here with today's rules in the order ``ragtui
testset`` applies them, which gives the default set exactly.

With ``--max-overlap SHARE`` the set is instead made as ``ragtui testset --max-overlap``
makes it — a question over the cap is asked for again, up to four tries — and tau is
given for that set alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from benchmarks.retriever_ranking import (  # noqa: E402
    SPECS,
    human_tau_at_size,
    make_testset,
    per_query_ndcg,
    tau_with_interval,
)
from ragtui.corpus import load_corpus  # noqa: E402
from ragtui.index.cache import Indexes  # noqa: E402
from ragtui.retrieval import make_retriever  # noqa: E402
from ragtui.testsets import filters  # noqa: E402
from ragtui.testsets.filters import CHEAP_FILTERS, word_overlap  # noqa: E402
from ragtui.testsets.funnel import REASON_OF_FILTER  # noqa: E402
from ragtui.testsets.generate import TestsetPlan  # noqa: E402
from ragtui.testsets.question_format import parse_question  # noqa: E402
from ragtui.testsets.roundtrip import roundtrip_reference  # noqa: E402
from ragtui.testsets.store import read_testset, testsets_root  # noqa: E402


def reread(record: dict) -> dict:
    """The record with its question read again by today's parser (a run resumed across a
    parser change holds questions read by the older one, e.g. "Q1. What …")."""
    parsed = parse_question(record["replies"][-1]) if record.get("replies") else None
    if not record.get("question") or parsed is None or parsed[0] == record["question"]:
        return record
    return {**record, "question": parsed[0]}


def roundtrip_passes(record: dict, passage: str) -> bool:
    """The round-trip verdict by today's rule, from the stored replies (a stored verdict
    may come from an older rule)."""
    if "check_answer" not in record:
        return False
    generated = "" if record.get("answer_from") == "checker" else record.get("answer", "")
    checked = record["check_answer"]
    return roundtrip_reference(record["question"], generated, checked, passage) is not None


def verdicts(records, passages: dict[str, str], enabled, roundtrip: bool) -> list[str]:
    """Each record's verdict as ``ragtui testset`` gives it with these filters on."""
    kept: list[str] = []
    out = []
    for record in records:
        if not record.get("question"):
            out.append(record["verdict"])
            continue
        question = record["question"]
        checks = filters.cheap_checks(question, passages[record["passage_id"]], kept, enabled)
        failed = [name for name, verdict in checks.items() if verdict == "fail"]
        if failed:
            out.append(REASON_OF_FILTER[failed[0]])
        elif roundtrip and not roundtrip_passes(record, passages[record["passage_id"]]):
            out.append("not answerable")
        else:
            out.append("kept")
            kept.append(question)
    return out


def keep(records, passages: dict[str, str], enabled, roundtrip: bool) -> list[dict]:
    """The questions kept with these filters on."""
    found = verdicts(records, passages, enabled, roundtrip)
    return [record for record, verdict in zip(records, found, strict=True) if verdict == "kept"]


def default_funnel(records, passages: dict[str, str]) -> str:
    """The funnel ``ragtui testset`` would print with its default filters."""
    found = verdicts(records, passages, CHEAP_FILTERS, True)
    order = [
        "failed",
        "unparseable",
        *(REASON_OF_FILTER[name] for name in CHEAP_FILTERS),
        "not answerable",
        "kept",
    ]
    counts = {"generated": len(records)} | {name: found.count(name) for name in order}
    return " · ".join(f"{name} {count}" for name, count in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--cranfield", type=Path, default=REPO.parent / "shared" / "data" / "cranfield"
    )
    parser.add_argument("-n", type=int, default=400, help="passages per generator")
    parser.add_argument("--generators", default="llamacpp:smollm2,llamacpp:gemma3")
    parser.add_argument(
        "--analyze-only",
        action="store_true",
        help="generate nothing: rank on the questions already in --data-root (a stopped run)",
    )
    parser.add_argument(
        "--data-root", type=Path, help="where the sets go; the same folder resumes a stopped run"
    )
    parser.add_argument(
        "--max-overlap",
        type=float,
        help="make the set as 'ragtui testset --max-overlap' does (retries for a question "
        "under the cap) and rank on it, instead of the filter ablation",
    )
    args = parser.parse_args()
    corpus = load_corpus(args.cranfield)
    indexes = Indexes(corpus)
    retrievers = {spec: make_retriever(spec, indexes) for spec in SPECS}
    human = per_query_ndcg(retrievers, dict(corpus.queries), corpus.qrels)
    print(
        "human nDCG@10:",
        ", ".join(f"{s} {np.mean(list(v.values())):.4f}" for s, v in human.items()),
    )
    half = len(corpus.queries) // 2
    median, low, high, drawn, rest = human_tau_at_size(human, half)
    print(
        f"human vs human ({drawn} random human queries against the other {rest}): "
        f"tau median {median:.2f} [{low:.2f}, {high:.2f}]"
    )
    data_root = args.data_root or Path(tempfile.mkdtemp(prefix="bench-testset-"))
    os.environ["RAGTUI_DATA_DIR"] = str(data_root)
    passages = {passage.passage_id: passage.text for passage in corpus.passages}

    ceilings: dict[int, tuple[float, float, float, int, int]] = {}

    def report(label: str, records: list[dict]) -> None:
        if len(records) < 10:
            print(f"  {label}: {len(records)} questions, too few for tau")
            return
        queries = {r["query_id"]: r["question"] for r in records}
        qrels = {r["query_id"]: {r["doc_id"]: 1} for r in records}
        generated = per_query_ndcg(retrievers, queries, qrels)
        tau, low, high = tau_with_interval(human, generated)
        ranking = sorted(SPECS, key=lambda s: -np.mean(list(generated[s].values())))
        overlap = np.mean([word_overlap(r["question"], passages[r["passage_id"]]) for r in records])
        size = min(len(records), len(corpus.queries) - 1)
        if size not in ceilings:
            ceilings[size] = human_tau_at_size(human, size)
        median, ceiling_low, ceiling_high, drawn, rest = ceilings[size]
        print(
            f"  {label}: {len(records)} questions, tau {tau:.2f} [{low:.2f}, {high:.2f}], "
            f"overlap {overlap:.0%}; ranking {' > '.join(ranking)}; human queries at this "
            f"size ({drawn} against the other {rest}): tau median {median:.2f} "
            f"[{ceiling_low:.2f}, {ceiling_high:.2f}]",
            flush=True,
        )

    for generator in args.generators.split(","):
        name = generator.replace(":", "-")
        if args.max_overlap is not None:
            # The cap changes generation (retries for a question under it), so this set is
            # made as ``ragtui testset --max-overlap`` makes it, every filter on.
            plan = TestsetPlan(
                name=f"{name}-cap{round(args.max_overlap * 100)}",
                generator=generator,
                count=args.n,
                max_overlap=args.max_overlap,
            )
        else:
            # The cheap filters are applied below, so each can be left out.
            plan = TestsetPlan(name=name, generator=generator, count=args.n, enabled=("roundtrip",))
        folder = testsets_root(corpus.root, corpus.source_key, data_root) / plan.name
        earlier = (
            set() if not folder.exists() else {r["index"] for r in read_testset(folder).records}
        )
        minutes = None if args.analyze_only else make_testset(corpus, plan, data_root)
        testset = read_testset(folder)
        fresh = {r["index"] for r in testset.records} - earlier  # judged by this run
        if args.max_overlap is not None:
            kept = testset.kept
            new_kept = sum(r["index"] in fresh for r in kept)
            print(
                f"\n{generator}: {testset.meta['funnel_line']}; "
                f"{rate(len(fresh), new_kept, minutes)}"
            )
            report(f"all filters + --max-overlap {args.max_overlap:g}", kept)
            continue
        all_records = [reread(r) for r in testset.records]
        parseable = [r for r in all_records if r.get("question")]
        settings = {"all filters (default)": keep(parseable, passages, CHEAP_FILTERS, True)}
        new_kept = sum(r["index"] in fresh for r in settings["all filters (default)"])
        print(
            f"\n{generator}: {default_funnel(all_records, passages)}; "
            f"{rate(len(fresh), new_kept, minutes)}, the round-trip check run on every "
            "parseable question"
        )
        for filter_name in CHEAP_FILTERS:
            rest = tuple(other for other in CHEAP_FILTERS if other != filter_name)
            settings[f"without {filter_name}"] = keep(parseable, passages, rest, True)
        settings["without roundtrip"] = keep(parseable, passages, CHEAP_FILTERS, False)
        settings["no filter"] = parseable
        for cap in (0.6, 0.4):
            settings[f"all filters + overlap <= {cap:.0%} (no retries)"] = [
                r
                for r in settings["all filters (default)"]
                if word_overlap(r["question"], passages[r["passage_id"]]) <= cap
            ]
        for label, records in settings.items():
            report(label, records)


def rate(passages: int, kept: int, minutes: float | None) -> str:
    """Speed of this run alone: passages a resumed run found done are not counted."""
    if minutes is None:
        return "rate not measured (--analyze-only)"
    return (
        f"this run: {passages} passages, {kept} kept in {minutes:.1f} min "
        f"({passages / minutes:.1f} passages, {kept / minutes:.1f} kept per minute)"
    )


if __name__ == "__main__":
    main()
