"""How far each automatic source agrees with the person, as the report and the terminal
show it beside the figures that rest on it: a labeller's grades (results.json's
``labeller_agreement``, from ``ragtui.judging.labeller_agreement``)."""

from __future__ import annotations

from typing import Any


def labeller_agreement_lines(results: dict[str, Any]) -> list[str]:
    """One line per labeller whose grades the retrieval figures use ("labeller X: agrees
    with your grades κ … (n = …)", or "not checked against your labels")."""
    return [
        f"Retrieval figures rest partly on a labeller model; {entry['sentence']}."
        for entry in results.get("labeller_agreement") or []
        if isinstance(entry, dict) and entry.get("sentence")
    ]


def answer_correction_lines(results: dict[str, Any]) -> list[str]:
    """The findings' lines on correcting the judge by the person's votes (results.json's
    ``answer_correction``, ``ragtui.experiment.stats.vote_correction``): the corrected win
    rates (or "too few votes"), and the votes refused, with why."""
    entry = results.get("answer_correction")
    if not isinstance(entry, dict):
        return []
    lines = entry.get("lines")
    if not isinstance(lines, list):  # results.json of an earlier ragtui
        lines = [entry["sentence"]] if entry.get("sentence") else []
    return [f"{line}." for line in lines if isinstance(line, str) and line]


def _pair_rows(entry: dict[str, Any]) -> list[list[str]]:
    rows = []
    for pair in entry.get("pairs") or []:
        votes = pair.get("votes_only") or {}
        rows.append(
            [
                f"`{pair['first']}` over `{pair['second']}`",
                pair["words"],
                f"{pair['judge_only']:.2f}",
                f"{votes['estimate']:.2f} [{votes['ci_low']:.2f}, {votes['ci_high']:.2f}]"
                if votes
                else "–",
                str(pair["n_human"]),
                str(pair["n_automatic"]),
                str(pair["failed_pairs"]),
            ]
        )
    return rows


def _interval(figures: dict[str, Any] | None) -> str:
    """ "0.62 [0.51, 0.73]"; "–" where there is no figure, the estimate alone where there
    is no interval (one grade)."""
    if not figures or figures.get("estimate") is None:
        return "–"
    low, high = figures.get("ci_low"), figures.get("ci_high")
    if low is None or high is None:
        return f"{figures['estimate']:.2f}"
    return f"{figures['estimate']:.2f} [{low:.2f}, {high:.2f}]"


def _score_rows(entry: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(score["metric"]).replace("judge_", "judged ", 1),
            f"`{score['pipeline']}`",
            str(score["words"]),
            f"{score['judge_only']:.2f}",
            _interval(score.get("grades_only")),
            str(score["n_human"]),
            str(score["n_automatic"]),
            str(score["failed_answers"]),
        ]
        for score in entry.get("scores") or []
        if isinstance(score, dict)
    ]


def answer_correction_markdown(results: dict[str, Any]) -> list[str]:
    """report.md's "Answer judging, corrected" section."""
    from ragtui.experiment.report.formatting import markdown_table

    lines = answer_correction_lines(results)
    if not lines:
        return []
    entry = results["answer_correction"]
    out = ["## Answer judging, corrected", "", *[f"- {line}" for line in lines], ""]
    if entry.get("pairs"):
        out += [
            "Win rate of the first pipeline over the second (a tie or 'both bad' counts "
            "half), 95% intervals; the corrected rate is prediction-powered (PPI++): the "
            "judge's verdict on every judged pair plus the mean of (your vote − the judge's "
            "verdict) over the pairs the queue drew at random. Pairs where an answer failed "
            "count as the failure's loss, without a vote.",
            "",
        ]
        out += markdown_table(
            [
                "pair",
                "corrected",
                "judge alone",
                "your votes alone",
                "your votes",
                "judged pairs",
                "failed answers",
            ],
            _pair_rows(entry),
        )
        if entry.get("bradley_terry"):
            out += [
                "Bradley–Terry strengths from the corrected rates "
                f"({entry['bradley_terry_method']}):",
                "",
            ]
            out += markdown_table(
                ["pipeline", "log-strength [95% CI]", "beats an average pipeline"],
                [
                    [
                        f"`{row['name']}`",
                        f"{row['log_strength']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]",
                        f"{row['p_beats_average']:.0%}",
                    ]
                    for row in entry["bradley_terry"]
                ],
            )
    if _score_rows(entry):
        out += [
            "Judged scores per pipeline on 0–1 (your grades 1–5 read as (grade − 1)/4, as the "
            "judge's are), 95% intervals; the corrected score is prediction-powered (PPI++): "
            "the judge's score of every answer plus the mean of (your grade − the judge's "
            "score) over the answers the grade queue drew at random ('ragtui vote grade "
            "--kind correctness|faithfulness'). A failed answer counts 0, without a grade.",
            "",
        ]
        out += markdown_table(
            [
                "metric",
                "pipeline",
                "corrected",
                "judge alone",
                "your grades alone",
                "your grades",
                "judged answers",
                "failed answers",
            ],
            _score_rows(entry),
        )
    out += [
        "A corrected win rate combines the judge's verdicts on every pair with your votes on "
        "a random sample of those same pairs, each weighted by its known chance of being "
        "drawn (prediction-powered inference); it is unbiased however wrong the judge is, "
        "but only for such a sample. Votes on pairs you chose (the compare screen, sighted "
        "or blind) carry what led you to them, and no weight can undo that, so they measure "
        "how far the judge agrees with you ('ragtui judge calibrate') and correct nothing.",
        "",
    ]
    return out
