"""The newest ``ragtui eval`` of a corpus, found through the corpus's own records
(``JudgmentStore.evals``: eval notes each folder it writes), and its corrected retrieval
figures as the compare screen's ``v`` shows them: the report's "Corrected estimates"
blocks, with each automatic source's agreement with the person beside them.

Reads only results.json (no plotly, no statistics): the figures were computed by eval.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtui.experiment.report.agreement import answer_correction_lines
from ragtui.experiment.report.corrected import corrected_text

NO_EVAL = (
    "No eval run of this corpus yet: 'ragtui eval CORPUS --testset NAME --retrievers R1,R2 "
    "--out DIR' writes one, and its corrected figures show here."
)


@dataclass(frozen=True)
class EvalRun:
    """One recorded eval whose results.json is still there and still of this corpus."""

    folder: Path
    testset: str  # "" when eval ran without --testset
    time_s: float  # when eval wrote it (Unix time)
    results: dict[str, Any]
    corpus_changed: bool  # the corpus's content differs from what eval read


def _read(folder: Path) -> dict[str, Any] | None:
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(results, dict) or "pipelines" not in results:
        return None
    if not isinstance(results.get("dataset", {}), dict):  # an edited file: passed over
        return None
    return results


def _seconds(value: Any) -> float:
    """A record's time; 0 when an edited record holds something else."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def latest_eval(
    records: Iterable[Mapping[str, Any]], testset: str = "", content_sha256: str = ""
) -> EvalRun | None:
    """The newest readable run among ``records`` (newest first, as ``JudgmentStore.evals``
    gives them): of ``testset`` when one of its runs exists, else of any test set, else any.

    A folder that is gone, unreadable, or was since overwritten by an eval of another
    corpus (its results name other content than the record) is passed over.
    """
    first_any: EvalRun | None = None
    first_of_a_set: EvalRun | None = None
    seen: set[Path] = set()
    # Newest first, reading as few results.json files as the choice needs: each eval
    # appends a record, so the same folder comes back once per re-run.
    for record in records:
        folder = Path(str(record["folder"]))
        if folder in seen:
            continue
        seen.add(folder)
        results = _read(folder)
        if results is None:
            continue
        recorded = str(record.get("content_sha256") or "")
        written = str((results.get("dataset") or {}).get("content_sha256") or "")
        if recorded and written and recorded != written:
            continue
        run = EvalRun(
            folder,
            str(record.get("testset") or ""),
            _seconds(record.get("time")),
            results,
            bool(content_sha256 and written and written != content_sha256),
        )
        if testset and run.testset == testset:
            return run
        first_any = first_any or run
        if run.testset and first_of_a_set is None:
            first_of_a_set = run
            if not testset:
                return run
    return first_of_a_set or first_any


def _judge_lines(results: Mapping[str, Any]) -> list[str]:
    judge = results.get("judge")
    if not isinstance(judge, dict) or not judge.get("spec"):
        return []
    return [f"Judge {judge['spec']}: {judge.get('calibration_sentence') or 'not calibrated'}."]


def eval_figure_blocks(run: EvalRun | None) -> list[tuple[bool, list[str]]]:
    """Blocks of plain lines for a screen, each flagged True when aligned (a table or a
    chart: never wrapped), as ``corrected_text`` gives them: which run, the corrected
    retrieval figures with every automatic source's agreement with the person, and the
    judge's (with its corrected win rates) where the eval had one. Without a run, one line
    saying how to make one."""
    if run is None:
        return [(False, [NO_EVAL])]
    results = run.results
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.time_s))
    of_set = f"test set {run.testset}" if run.testset else "no test set"
    queries = (results.get("dataset") or {}).get("queries")
    head = [
        f"Latest eval run: {run.folder} ({of_set}, {queries} queries, written {when}); "
        f"'ragtui results {run.folder}' shows all of it."
    ]
    if run.corpus_changed:
        head.append("The corpus has changed since this run: its figures are of the old content.")
    try:
        # No table: the modal is narrow, and each chart row prints its figure and interval.
        blocks = corrected_text(results, with_table=False)
    except (KeyError, TypeError, ValueError, AttributeError):  # an older or edited file
        return [
            (False, head),
            (
                False,
                [
                    f"{run.folder / 'results.json'} holds corrected figures this ragtui "
                    "cannot read (another version wrote it); run 'ragtui eval' again."
                ],
            ),
        ]
    if not blocks:
        blocks = [
            (
                False,
                [
                    "No corrected retrieval figures: this eval ran without a test set's "
                    "recorded sample of your grades ('ragtui label CORPUS --testset NAME "
                    "--budget N', then 'ragtui eval CORPUS --testset NAME')."
                ],
            )
        ]
    judged = _judge_lines(results) + answer_correction_lines(dict(results))
    return [(False, head), *blocks, *([(False, judged)] if judged else [])]
