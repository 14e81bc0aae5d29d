"""Write a grid's outputs: report.md, report.html, results.json, per_query.csv, runs/,
qrels.tsv.

Everything is written into a fresh folder next to the destination and swapped in at the
end, so an interrupted or failed write never leaves a half report that looks complete.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ragtui.errors import RagtuiError
from ragtui.evidence_rules import JUDGED_SHARE_FLOOR, PAIRWISE_FLOOR, describe_rules, too_few
from ragtui.experiment.report.agreement import (
    answer_correction_lines,
    answer_correction_markdown,
    labeller_agreement_lines,
)
from ragtui.experiment.report.corrected import corrected_findings, corrected_markdown
from ragtui.experiment.report.decision import decision_markdown
from ragtui.experiment.report.formatting import dataset_title, markdown_table, shareable
from ragtui.experiment.report.html import render_html
from ragtui.experiment.report.judge import judge_markdown, judged_label
from ragtui.experiment.run.answer_metrics import SUPPORT_SHARE
from ragtui.experiment.run.grid import GridRun
from ragtui.experiment.run.judged_grid import (
    JUDGE_LABELS,
    grade_items,
    vote_items,
    write_judge_pairs,
)
from ragtui.experiment.run.scoring import (
    ANSWER_LABELS,
    ANSWER_METRICS,
    add_judged_scores,
    build_runs,
    cell_figures,
    coverage_names,
)
from ragtui.experiment.stats.comparisons import MULTIPLICITY_CORRECTION
from ragtui.judging.grade_queue import GRADE_ITEMS_FILE, write_grade_items
from ragtui.judging.trec_ids import trec_id
from ragtui.judging.vote_queue import VOTE_ITEMS_FILE, write_vote_items
from ragtui.metrics import retrieval_names, trec_order

MARKER = "results.json"
# Written by ragtui into every eval folder it makes, listing the files it wrote there: the
# only proof that lets a later eval replace the folder.
OWNER_FILE = ".ragtui-eval"


def run_file_name(retriever: str) -> str:
    """A file name for a retriever's run; specs that would clash get a hash of their own."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", retriever)
    if readable != retriever:
        readable += "-" + hashlib.sha256(retriever.encode()).hexdigest()[:8]
    return readable + ".trec"


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def failed_answers(results: dict[str, Any]) -> tuple[int, int]:
    """(failed, total) answers over the grid."""
    pipelines = results["pipelines"].values()
    return sum(data["failed"] for data in pipelines), sum(data["answers"] for data in pipelines)


def every_answer_failed(results: dict[str, Any]) -> list[str]:
    """The pipelines that answered no query at all."""
    return [
        name
        for name, data in results["pipelines"].items()
        if data["answers"] and data["failed"] == data["answers"]
    ]


def _failures_line(results: dict[str, Any]) -> str | None:
    failed, total = failed_answers(results)
    if not failed:
        return None
    parts = [
        f"{name} {data['failed']} of {data['answers']}"
        + (f" (e.g. {data['errors'][0]})" if data["errors"] else "")
        for name, data in results["pipelines"].items()
        if data["failed"]
    ]
    return (
        f"Failed answers: {failed} of {total} ({'; '.join(parts)}); each counts as a wrong "
        "answer (0) in the answer metrics and as slower than any answer in the verdicts."
    )


def _judgments_line(results: dict[str, Any]) -> str | None:
    """How many judgments of each source the retrieval figures rest on, and how much of
    this eval's pool nobody judged."""
    dataset = results.get("dataset") or {}
    counts = dict(dataset.get("judgment_counts") or {})
    if not counts:
        return None  # a results.json from before the counts were kept
    unjudged = counts.pop("unjudged", None)
    parts = []
    for source, number in counts.items():
        described = dataset.get("labeller") if source == "labeller" else None
        parts.append(f"{source} {number}" + (f" ({described})" if described and number else ""))
    k, unit = results["plan"]["k"], dataset["judged_unit"]
    line = f"Judgments used ((query, {unit}) pairs): {', '.join(parts)}."
    if unjudged is not None:
        line += (
            f" Unjudged: {unjudged} of the {dataset.get('pool_pairs')} pairs in the pool of "
            f"this eval (each query's top {k} of every retriever)."
        )
    return line


def _coverage_lines(results: dict[str, Any]) -> list[str]:
    """judged@k of each retriever, and a warning with nDCG′@k for each below the floor."""
    k = results["plan"]["k"]
    judged_name, prime_name = coverage_names(k)
    shares = {
        name: data.get("judged_at_k")
        for name, data in results["retrieval"].items()
        if data.get("judged_at_k") is not None
    }
    if not shares:
        return []
    lines = [
        f"{judged_name} (share of each retriever's top {k} that holds a judgment): "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        + "."
    ]
    for name, share in shares.items():
        if share >= JUDGED_SHARE_FLOOR:
            continue
        mean = results["retrieval"][name]["mean"]
        lines.append(
            f"Warning: only {share:.0%} of {name}'s top {k} is judged (below "
            f"{JUDGED_SHARE_FLOOR:.0%}): its nDCG@{k} ({mean[f'nDCG@{k}']:.3f}) counts every "
            f"unjudged passage as not relevant; nDCG′@{k} with unjudged passages left out "
            f"is {mean[prime_name]:.3f}. Judge more of the pool ('ragtui label') to tell."
        )
    return lines


def _headline(results: dict[str, Any]) -> list[str]:
    lines = []
    failures = _failures_line(results)
    if failures:
        lines.append(failures)
    judgments = _judgments_line(results)
    if judgments:
        lines.append(judgments)
    lines.extend(labeller_agreement_lines(results))
    lines.extend(_coverage_lines(results))
    lines.extend(corrected_findings(results))
    k = results["plan"]["k"]
    retrieval = {name: data["mean"] for name, data in results["retrieval"].items() if data["mean"]}
    if retrieval:
        metric = f"nDCG@{k}"
        ranked = sorted(retrieval, key=lambda name: -retrieval[name][metric])
        top = retrieval[ranked[0]][metric]
        # A tie at the top names every leader (or none), not whichever sorted first.
        leaders = [name for name in ranked if top - retrieval[name][metric] < 5e-4]
        spread = ", ".join(f"{name} {retrieval[name][metric]:.3f}" for name in ranked)
        if len(leaders) == len(ranked) > 1:
            lines.append(f"Retrieval: {metric} {top:.3f} for every retriever.")
        else:
            lines.append(f"Retrieval: {metric} is highest for {' and '.join(leaders)} ({spread}).")
    pipelines = results["pipelines"]
    for metric in ("f1", "answer_recall", "groundedness"):
        scored = {name: data["mean"][metric] for name, data in pipelines.items()}
        scored = {name: value for name, value in scored.items() if value is not None}
        if scored and max(scored.values()) - min(scored.values()) < 5e-4:
            lines.append(
                f"{ANSWER_LABELS[metric].capitalize()}: {next(iter(scored.values())):.3f} "
                "for every pipeline."
            )
        elif scored:
            best = max(scored, key=lambda name: scored[name])
            lines.append(
                f"Best {ANSWER_LABELS[metric]}: {best} ({scored[best]:.3f}); "
                f"worst: {min(scored, key=lambda name: scored[name])} ({min(scored.values()):.3f})."
            )
    for metric, data in results["attribution"].items():
        if metric in {"f1", "answer_recall"}:
            lines.extend(data["findings"])
    lines.extend(answer_correction_lines(results))
    totals = {name: data["total_ms"]["p50"] for name, data in pipelines.items()}
    totals = {name: value for name, value in totals.items() if value is not None}
    if totals:
        fastest = min(totals, key=lambda name: totals[name])
        slowest = max(totals, key=lambda name: totals[name])
        lines.append(
            f"Latency: median total time runs from {_ms(totals[fastest])} ms ({fastest}) "
            f"to {_ms(totals[slowest])} ms ({slowest})."
        )
    return [f"- {line}" for line in lines] + [""]


def count(number: int, one: str, many: str) -> str:
    """``1 query``, ``2 queries``."""
    return f"{number} {one if number == 1 else many}"


def render_markdown(results: dict[str, Any]) -> str:
    plan, dataset = results["plan"], results["dataset"]
    k = plan["k"]
    out = [
        "# ragtui eval report",
        "",
        f"Dataset {dataset_title(dataset)}: "
        f"{count(dataset['queries'], 'query', 'queries')} "
        f"({dataset['judged_queries']} with relevance judgments, "
        f"{dataset['queries_with_answers']} with reference answers), "
        f"{dataset['passages']} passages. "
        f"Judgments: {shareable(dataset['judgments'], dataset)} "
        f"(per {dataset['judged_unit']}).",
        "",
        f"Grid: retrievers {', '.join(plan['retrievers'])} × generators "
        f"{', '.join(plan['generators'])}; generators read the top {plan['context_k']} passages; "
        f"retrieval metrics at k = {k} over the top {plan['depth']} passages. "
        f"Took {results['elapsed_s']:.0f} s; {sum(results['generated'].values())} answers "
        f"generated, {sum(results['reused'].values())} taken from the generation cache "
        "(their latency figures are those measured when they were generated).",
        "",
    ]
    if dataset["warnings"]:
        warnings = [f"- {shareable(warning, dataset)}" for warning in dataset["warnings"]]
        out += ["Warnings:", "", *warnings, ""]
    out += ["## Findings", "", *_headline(results)]
    out += decision_markdown(results)

    names = [*retrieval_names(k), *coverage_names(k)]
    rows = [
        [
            f"`{name}`",
            *[_number(data["mean"].get(metric)) for metric in names],
            _ms(data["retrieval_ms"]["p50"]),
            _ms(data["retrieval_ms"]["p95"]),
            _ms(data.get("encode_ms", {}).get("p50")),
            _ms((data.get("engine_ms") or {}).get("p50")),
        ]
        for name, data in results["retrieval"].items()
    ]
    out += ["## Retrieval", ""]
    header = ["retriever", *names, "p50 ms", "p95 ms", "encoding p50", "engine p50"]
    out += markdown_table(header, rows)
    out += corrected_markdown(results)

    out += ["## Answers", ""]
    rows = [
        [
            f"`{name}`",
            *[_number(data["mean"][metric]) for metric in ANSWER_METRICS],
            _number(data["mean"]["context_has_answer"]),
            f"{data['answers'] - data['failed']}/{data['answers']}",
        ]
        for name, data in results["pipelines"].items()
    ]
    out += markdown_table(
        ["pipeline", *[ANSWER_LABELS[m] for m in ANSWER_METRICS], "answer in passages", "answered"],
        rows,
    )
    failures = [
        f"- `{name}`: {data['failed']} failed, e.g. {data['errors'][0]}"
        for name, data in results["pipelines"].items()
        if data["failed"]
    ]
    if failures:
        out += [
            "Failed answers count as wrong answers (0) in the answer metrics above (latency "
            "and tokens are of the answers given):",
            "",
            *failures,
            "",
        ]

    out += ["## Latency, tokens and cost", ""]
    rows = []
    for name, data in results["pipelines"].items():
        cost = data["cost_usd_total"]
        rows.append(
            [
                f"`{name}`",
                f"{_ms(data['retrieval_ms']['p50'])} / {_ms(data['retrieval_ms']['p95'])}",
                f"{_ms(data['ttft_ms']['p50'])} / {_ms(data['ttft_ms']['p95'])}",
                f"{_ms(data['total_ms']['p50'])} / {_ms(data['total_ms']['p95'])}",
                ("≈" if data["tokens_estimated"] else "")
                + f"{_number(data['prompt_tokens_mean'], 0)} / "
                + _number(data["completion_tokens_mean"], 0),
                "unknown" if cost is None else f"${cost:.4f}",
                ", ".join(data["timing_modes"]) or "–",
            ]
        )
    out += markdown_table(
        [
            "pipeline",
            "retrieval ms p50/p95",
            "TTFT ms p50/p95",
            "total ms p50/p95",
            "tokens in/out (mean)",
            "cost",
            "timing",
        ],
        rows,
    )

    if results["attribution"]:
        out += [
            "## Which component drives the outcome",
            "",
            "Two-way analysis with queries as blocks (see *Method*). Effects are in points "
            "(metric × 100); intervals resample queries.",
            "",
        ]
    for metric, data in results["attribution"].items():
        label = ANSWER_LABELS.get(metric) or judged_label(JUDGE_LABELS[metric], results)
        out += [
            f"### {label[0].upper()}{label[1:]} ({count(data['queries'], 'query', 'queries')})",
            "",
        ]
        out += [f"- {line}" for line in data["findings"]] + [""]
        out += _cellmarkdown_table(data["cell_means"], plan)
        rows = [
            [
                term["name"],
                _number(term["sum_sq"], 4),
                str(term["df"]),
                _number(term["f_value"], 2),
                "–" if term["p_value"] is None else f"{term['p_value']:.3g}",
                _number(term["partial_eta_sq"], 3),
            ]
            for term in data["terms"]
        ]
        out += markdown_table(["term", "sum of squares", "df", "F", "p", "partial η²"], rows)
        out += _vary_tables(results["fix_one_vary_other"].get(metric, {}), label)

    out += ["## Does retrieval cap the answer?", ""]
    rows = []
    for generator, data in results["retrieval_vs_answer"].items():
        correlation = data["spearman_ndcg_f1"]
        rows.append(
            [
                f"`{generator}`",
                f"{_number(data['answer_in_context']['f1'])} (n={data['answer_in_context']['n']})",
                f"{_number(data['answer_not_in_context']['f1'])} "
                f"(n={data['answer_not_in_context']['n']})",
                "–"
                if correlation is None
                else too_few(correlation["n"])
                if correlation["rho"] is None
                else f"{correlation['rho']:.2f} (p={correlation['p_value']:.3g}, "
                f"n={correlation['n']})",
            ]
        )
    out += markdown_table(
        [
            "generator",
            "F1, answer in passages",
            "F1, answer not in passages",
            f"Spearman ρ, nDCG@{k} vs F1",
        ],
        rows,
    )
    out += [
        "A generator that scores well when the answer is not in its passages answers from "
        "its own knowledge (or guesses); a large gap means retrieval caps the answer.",
        "",
    ]

    out += judge_markdown(results)
    out += answer_correction_markdown(results)
    if results["votes"]:
        out += _votes_section(results["votes"])
    out += _method(plan)
    return "\n".join(out)


def _cellmarkdown_table(cell_means: dict[str, float], plan: dict[str, Any]) -> list[str]:
    rows = []
    for retriever in plan["retrievers"]:
        values = [cell_means[f"{retriever}+{g}"] for g in plan["generators"]]
        rows.append(
            [f"`{retriever}`", *[_number(v) for v in values], _number(sum(values) / len(values))]
        )
    columns = [
        sum(cell_means[f"{r}+{g}"] for r in plan["retrievers"]) / len(plan["retrievers"])
        for g in plan["generators"]
    ]
    rows.append(["mean", *[_number(v) for v in columns], ""])
    header = ["retriever \\ generator", *[f"`{g}`" for g in plan["generators"]], "mean"]
    return markdown_table(header, rows)


def _vary_tables(data: dict[str, Any], label: str) -> list[str]:
    out = []
    for key, title in (
        ("vary_retriever", "Fix the generator, vary the retriever"),
        ("vary_generator", "Fix the retriever, vary the generator"),
    ):
        rows = [
            [
                f"`{row['fixed']}`",
                f"`{row['from']}` → `{row['to']}`",
                _number(row.get("mean_difference")),
                f"too few queries (n = {row.get('n')})"
                if row.get("too_few")
                else f"{_number(row.get('ci_low'))} – {_number(row.get('ci_high'))}",
                "–" if row.get("p_value") is None else f"{row['p_value']:.3g}",
                "–" if row.get("p_adjusted") is None else f"{row['p_adjusted']:.3g}",
            ]
            for row in data.get(key, [])
        ]
        if rows:
            out += [f"{title} ({label}, paired over queries):", ""]
            headers = ["fixed", "change", "difference", "95% CI", "p", "p (BH)"]
            out += markdown_table(headers, rows)
    return out


def _votes_section(votes: dict[str, Any]) -> list[str]:
    out = ["## Votes from the app", "", f"{votes['votes']} votes.", ""]
    if "position_bias" in votes:  # results.json from before blind voting has none
        out += [
            f"- Blind votes: {votes['blind_votes']}; your position bias there: "
            f"{votes['position_bias']['blind']['sentence']}.",
            f"- Sighted votes: {votes['votes'] - votes['blind_votes']}; position bias: "
            f"{votes['position_bias']['sighted']['sentence']}.",
            "",
        ]
    rows = [
        [
            f"`{pair['first']}` vs `{pair['second']}`",
            f"{pair['first_wins']}–{pair['second_wins']}",
            str(pair["ties"]),
            str(pair["both_bad"]),
            f"{pair['first_win_rate']:.0%}",
        ]
        for pair in votes["pairs"]
    ]
    out += markdown_table(["pair", "wins", "ties", "both bad", "first's win rate"], rows)
    rows = [
        [
            f"`{strength['name']}`",
            f"{strength['log_strength']:+.2f}",
            f"{strength['ci_low']:+.2f} – {strength['ci_high']:+.2f}",
            f"{strength['p_beats_average']:.0%}",
            str(strength["comparisons"]),
        ]
        for strength in votes["bradley_terry"]
    ]
    if rows and votes.get("bradley_terry_enough") is False:
        out += [
            f"Bradley–Terry strengths: {too_few(votes['bradley_terry_queries'])} "
            f"(at least {PAIRWISE_FLOOR.minimum}).",
            "",
        ]
    elif rows:
        out += ["Bradley–Terry strengths (ties and “both bad” count half a win each):", ""]
        header = ["pipeline", "log strength", "95% CI", "beats average", "votes"]
        out += markdown_table(header, rows)
    return out


def _method(plan: dict[str, Any]) -> list[str]:
    k = plan["k"]
    return [
        "## Method",
        "",
        f"- Retrieval metrics follow trec_eval, computed with pytrec_eval on the files in "
        f"`runs/`: P@{k}, Recall@{k}, nDCG@{k} (`ndcg_cut`), MAP over the whole run, and "
        f"MRR@{k} as `recip_rank` over each run's top {k}. A document scores as its best "
        "passage. Means are over judged queries.",
        "- Exact match and F1 use SQuAD's normalization (lower case, no punctuation or "
        "articles) against the best reference answer; answer recall asks whether a "
        "reference appears inside the answer.",
        f"- Groundedness: the share of answer sentences at least {SUPPORT_SHARE:.0%} of "
        "whose content words occur in one passage the generator read. Citation validity: "
        "the share of `[n]` citations whose passage exists and supports the sentence.",
        "- Attribution: for each metric, scores of the queries that have a value in every "
        "cell are modelled as query + retriever + generator + retriever×generator "
        "(queries are blocks; the query × pipeline residual is the error term); F tests "
        "give p. The retriever effect is the best minus the worst retriever's mean, likewise "
        "the generator effect; the interaction is the largest difference of differences in "
        "a 2×2 sub-grid. The levels are chosen on the full data and their 95% intervals "
        "resample queries (2,000 times), so an effect that does not hold up shows an "
        "interval reaching zero.",
        "- Pairwise differences: paired over queries; 95% bootstrap interval of the mean "
        "difference (10,000 resamples) and a two-sided paired permutation test "
        "(sign flips; exact for 14 queries or fewer). With several comparisons in one report "
        f"some p-values are small by chance: `p (BH)` is corrected for multiplicity "
        f"({MULTIPLICITY_CORRECTION}, `scipy.stats.false_discovery_control`) over the "
        "comparisons of one metric in one table (and over all pipeline pairs of one metric "
        "in `results.json`'s `pairwise`, as `p_adjusted`).",
        "- Good enough: each candidate faster or cheaper than the best of its stage is "
        "compared with it on the queries every contender of the stage scored, and is "
        "non-inferior when the lower end of the paired bootstrap interval of "
        "candidate − best (10,000 resamples of queries) lies above −margin, a one-sided test; "
        "the intervals of all verdicts of the report are Bonferroni-corrected together. "
        "The generator stage averages each query's score over the retrievers of "
        "the grid and times generation alone (total − retrieval); pipelines use total time.",
        *[f"- {rule}" for rule in describe_rules()],
        "",
    ]


def _per_query_rows(
    run: GridRun, results: dict[str, Any], judged: Any = None
) -> list[dict[str, Any]]:
    figures = cell_figures(run)
    if judged is not None:
        add_judged_scores(run, figures, judged)
    retrieval = results["retrieval_per_query"]
    rows = []
    for cell in run.cells:
        stats = cell.stats
        row: dict[str, Any] = {
            "query_id": cell.query_id,
            "retriever": cell.retriever,
            "generator": cell.generator,
        }
        row.update(retrieval.get(cell.retriever, {}).get(cell.query_id, {}))
        row.update(figures[(cell.retriever, cell.generator, cell.query_id)])
        for name in (
            "retrieval_ms",
            "ttft_ms",
            "total_ms",
            "tokens_per_s",
            "prompt_tokens",
            "completion_tokens",
            "tokens_estimated",
            "cost_usd",
            "timing_mode",
        ):
            row[name] = getattr(stats, name) if stats is not None else None
        row["from_cache"] = cell.cached
        row["error"] = cell.error or ""
        row["answer"] = cell.answer
        rows.append(row)
    return rows


def _written_by_ragtui(out: Path) -> bool:
    """True when ragtui made this folder and nothing else has been put in it since."""
    try:
        owned = json.loads((out / OWNER_FILE).read_text(encoding="utf-8"))
        present = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    except (OSError, ValueError):
        return False
    if not isinstance(owned, dict) or owned.get("made_by") != "ragtui eval":
        return False
    return present <= {*owned.get("files", []), OWNER_FILE}


def check_destination(out: Path) -> None:
    """Refuse a folder ragtui may not replace; eval calls it before any work starts."""
    out = out.expanduser().resolve()
    if not out.exists():
        return
    if not out.is_dir() or (any(out.iterdir()) and not _written_by_ragtui(out)):
        raise RagtuiError(
            f"--out {out} exists and holds files ragtui did not write there; ragtui only "
            "replaces its own eval folders: choose a new or empty folder"
        )


def write_outputs(run: GridRun, results: dict[str, Any], out: Path, judged: Any = None) -> Path:
    """Write every output into ``out`` (replacing an earlier eval there) and return it."""
    out = out.expanduser().resolve()
    check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        runs_dir = staging / "runs"
        runs_dir.mkdir()
        for retriever, by_query in build_runs(run).items():
            with (runs_dir / run_file_name(retriever)).open("w", encoding="utf-8") as handle:
                for query_id, scores in by_query.items():
                    for rank, judged_id in enumerate(trec_order(scores), start=1):
                        handle.write(
                            f"{trec_id(query_id)} Q0 {trec_id(judged_id)} {rank} "
                            f"{scores[judged_id]!r} {run_file_name(retriever)[:-5]}\n"
                        )
        with (staging / "qrels.tsv").open("w", encoding="utf-8") as handle:
            handle.write("query-id\tcorpus-id\tscore\n")
            for query_id, grades in run.dataset.qrels.items():
                for judged_id, grade in grades.items():
                    # Encoded as in the runs, so the two files name documents alike.
                    handle.write(f"{trec_id(query_id)}\t{trec_id(judged_id)}\t{grade}\n")
        rows = _per_query_rows(run, results, judged)
        with (staging / "per_query.csv").open("w", encoding="utf-8", newline="") as handle:
            if rows:
                columns = list(dict.fromkeys(name for row in rows for name in row))
                writer = csv.DictWriter(handle, fieldnames=columns, restval="")
                writer.writeheader()
                writer.writerows(rows)
        if judged is not None:
            write_judge_pairs(staging / "judge_pairs.jsonl", judged)
            if judged.pairs:  # what 'ragtui vote' draws from
                write_vote_items(staging / VOTE_ITEMS_FILE, vote_items(run, judged))
            graded = grade_items(run, judged)
            if graded:  # what 'ragtui vote grade' draws from
                write_grade_items(staging / GRADE_ITEMS_FILE, graded)
        markdown = render_markdown(results)
        (staging / "report.md").write_text(markdown, encoding="utf-8")
        page = render_html(results, markdown, rows, ANSWER_LABELS)
        (staging / "report.html").write_text(page, encoding="utf-8")
        (staging / MARKER).write_text(
            json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        written = sorted(str(path.relative_to(staging)) for path in staging.rglob("*"))
        owner = {"made_by": "ragtui eval", "files": [name for name in written if "." in name]}
        (staging / OWNER_FILE).write_text(json.dumps(owner, indent=1), encoding="utf-8")
        _swap_in(staging, out)
    except OSError as error:
        # A full disk or a folder gone read-only: one line naming the folder, no traceback.
        shutil.rmtree(staging, ignore_errors=True)
        raise RagtuiError(
            f"cannot write the report to {out.parent} ({error.strerror or error}); "
            "free some space or pass --out to a writable folder"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _swap_in(staging: Path, out: Path) -> None:
    """Put staging at out; an earlier eval there is removed only once the new one is in."""
    previous = None
    if out.exists():
        if not any(out.iterdir()):
            out.rmdir()
        else:
            previous = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(previous)
    try:
        staging.rename(out)
    except OSError as error:
        if previous is not None:
            previous.rename(out)  # the earlier results stay where the user left them
        raise RagtuiError(f"cannot write {out} ({error.strerror or error})") from None
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def load_results(folder: Path) -> dict[str, Any]:
    """results.json of a folder ``ragtui eval`` wrote; RagtuiError in one line if it is not."""
    path = folder / "results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagtuiError(
            f"{path} does not exist: give a folder written by 'ragtui eval'"
        ) from None
    except (OSError, ValueError) as error:
        raise RagtuiError(f"{path} cannot be read ({error}); run 'ragtui eval' again") from None
    if not isinstance(results, dict) or "pipelines" not in results:
        raise RagtuiError(f"{path} is not a ragtui eval result; run 'ragtui eval' again")
    return results
