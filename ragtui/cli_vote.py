"""``ragtui vote``: vote blind on a random sample of an eval run's judged answer pairs, so the
votes can correct the judge's win rates (``ragtui.experiment.stats.vote_correction``).

- ``ragtui vote RUN --budget N`` draws N (query, pipeline pair) items from the eval folder
  RUN (seeded; ``--design uniform|stratified``) and opens the blind voting screen; the same
  command again resumes where it stopped, and a larger budget extends the same draw;
- ``ragtui vote queue RUN --budget N --out FILE`` writes the items not voted yet as JSONL,
  without pipeline names or verdicts, for voting elsewhere;
- ``ragtui vote grade RUN --budget N [--kind correctness|faithfulness]`` draws N of the
  run's judged answers the same way and asks for a grade of each (1–5, the judge's scale
  of that kind), to correct the judge's correctness or faithfulness scores; with
  ``--out FILE`` it writes the answers not graded yet as JSONL instead, and
  ``ragtui vote grade import RUN FILE`` stores such a file's grades;
- ``ragtui vote import RUN FILE`` stores such a file's votes (a ``vote`` per line: a, b,
  tie or both_bad; a = the answer under ``answer_a``).

Then run the same 'ragtui eval' again (answers and verdicts come from the caches): its
results.json, report and findings carry the corrected win rates.
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
    "use 'ragtui vote RUN --budget N', 'ragtui vote grade RUN --budget N [--out FILE]', "
    "'ragtui vote grade import RUN FILE', 'ragtui vote queue RUN --budget N --out FILE' "
    "or 'ragtui vote import RUN FILE' (RUN: the --out folder of 'ragtui eval --judge')"
)


def add_parser(commands) -> None:
    vote = commands.add_parser(
        "vote",
        help="vote blind on a random sample of an eval's judged answer pairs (also: "
        "vote queue|import, vote grade [import])",
        description="Draws (query, pipeline pair) items at random from an eval run with the "
        "judge's pairwise verdicts and asks you which answer is better, without showing "
        "which pipeline wrote which; the votes correct the judge's win rates in the next "
        "report of the same eval.",
    )
    vote.add_argument(
        "words",
        nargs="+",
        metavar="RUN | grade RUN | grade import RUN FILE | queue RUN | import RUN FILE",
    )
    vote.add_argument("--budget", type=int, default=50, help="items to draw (50)")
    vote.add_argument("--seed", type=int, default=0, help="the draw and its order (0)")
    vote.add_argument(
        "--design",
        choices=["uniform", "stratified"],
        default="uniform",
        help="uniform over all judged pairs, or an equal share per pipeline pair",
    )
    vote.add_argument(
        "--out", type=Path, help="vote queue, vote grade: the JSONL file to write (no screen)"
    )
    vote.add_argument(
        "--kind",
        choices=["correctness", "faithfulness"],
        default="correctness",
        help="vote grade: what to grade, on the judge's scale of that kind (correctness)",
    )


def run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words[0] == "queue" and len(words) == 2:
        return _queue(args, Path(words[1]).expanduser())
    if words[0] == "grade" and len(words) == 2:
        if args.out is not None:
            return _grade_queue(args, Path(words[1]).expanduser())
        return _grade_screen(args, Path(words[1]).expanduser())
    if words[:2] == ["grade", "import"] and len(words) == 4:
        return _grade_import(Path(words[2]).expanduser(), Path(words[3]).expanduser())
    if words[0] == "import" and len(words) == 3:
        return _import(args, Path(words[1]).expanduser(), Path(words[2]).expanduser())
    if len(words) != 1:
        raise RagtuiError(USAGE)
    return _screen(args, Path(words[0]).expanduser())


def open_run(folder: Path, items: bool = True):
    """(results.json, the run's vote items (or [] without ``items``), the corpus's
    judgment store)."""
    from ragtui.config import paths
    from ragtui.corpus.model import location_key
    from ragtui.experiment.report.outputs import load_results
    from ragtui.judging.store import JudgmentStore
    from ragtui.judging.vote_queue import read_vote_items

    results = load_results(folder)
    vote_items = read_vote_items(folder) if items else []
    try:
        root = Path(results["dataset"]["path"])
    except (KeyError, TypeError):
        raise RagtuiError(
            f"{folder / 'results.json'} names no corpus; run 'ragtui eval' again"
        ) from None
    store = JudgmentStore.for_corpus(root, location_key(root), paths.data_dir())
    return results, vote_items, store


def _draw(args: argparse.Namespace, folder: Path):
    from ragtui.judging.vote_queue import draw

    results, items, store = open_run(folder)
    return results, draw(items, args.budget, args.seed, args.design), store


def _queue(args: argparse.Namespace, folder: Path) -> int:
    from ragtui.judging.vote_queue import queue_votes
    from ragtui.queue_files import write_queue_file

    if args.out is None:
        raise RagtuiError("name the file to write: --out votes.jsonl")
    _, queue, store = _draw(args, folder)
    voted = queue_votes(store.votes(), queue.run_id)
    # No pipeline names, no verdict: what the screen shows, and the item's id.
    written = write_queue_file(
        args.out,
        (
            {
                "run_id": queue.run_id,
                "item_id": queued.item.item_id,
                "design": queue.design,
                "seed": queue.seed,
                "budget": queue.budget,
                "question": queued.item.question,
                "answer_a": queued.left[1],
                "answer_b": queued.right[1],
                "vote": None,
            }
            for queued in queue.queued
            if queued.item.item_id not in voted
        ),
    )
    left_out = f"; {len(voted)} already voted are left out" if voted else ""
    print(printable(f"wrote {written} items to {args.out}: {queue.describe()}{left_out}"))
    print(
        printable(
            f"set 'vote' on each line to a, b, tie or both_bad, then: "
            f"ragtui vote import {folder} {args.out}"
        )
    )
    return 0


def _import(args: argparse.Namespace, folder: Path, file: Path) -> int:
    from ragtui.judging.store import VOTE_CHOICES
    from ragtui.judging.vote_queue import draw, queue_votes, run_id
    from ragtui.queue_files import queue_lines

    if not file.is_file():
        raise RagtuiError(f"{file} does not exist: give a voted queue from 'ragtui vote queue'")
    _, items, store = open_run(folder)
    try:
        lines = file.read_text(encoding="utf-8-sig", errors="replace").split("\n")
    except OSError as error:
        raise RagtuiError(f"cannot read {file} ({error.strerror})") from None
    draws: dict[tuple[str, int, int], object] = {}
    this_run = run_id(items)
    voted = set(queue_votes(store.votes(), this_run))
    stored, unvoted, problems = 0, 0, []
    for line in queue_lines(lines, str(file)):
        where, record = line.where, line.record
        if record is None:
            problems.append(str(line.problem))
            continue
        choice = record.get("vote")
        if choice is None:
            unvoted += 1
            continue
        if choice not in VOTE_CHOICES:
            problems.append(f"{where}: vote {choice!r}: use one of {', '.join(VOTE_CHOICES)}")
            continue
        design, seed, budget = record.get("design"), record.get("seed"), record.get("budget")
        if not (isinstance(seed, int) and isinstance(budget, int) and isinstance(design, str)):
            problems.append(f"{where}: no design, seed and budget (write it with 'vote queue')")
            continue
        if record.get("run_id") != this_run:
            problems.append(f"{where}: from another eval run's answers (run id differs)")
            continue
        key = (design, seed, budget)
        if key not in draws:
            try:
                draws[key] = draw(items, budget, seed, design)
            except RagtuiError as error:
                problems.append(f"{where}: {error}")
                continue
        queue = draws[key]
        found = [
            queued
            for queued in queue.queued  # type: ignore[attr-defined]
            if queued.item.item_id == record.get("item_id")
        ]
        if not found:
            problems.append(f"{where}: item {record.get('item_id')!r} is not in this draw")
            continue
        queued = found[0]
        if (record.get("answer_a"), record.get("answer_b")) != (queued.left[1], queued.right[1]):
            problems.append(f"{where}: the answers differ from the run's: not stored")
            continue
        if queued.item.item_id in voted:
            continue  # voted already (on the screen or in an earlier import)
        store.add_vote(queue.vote(queued, choice, time.time()))  # type: ignore[attr-defined]
        voted.add(queued.item.item_id)
        stored += 1
    for problem in problems:
        sys.stderr.write(f"ragtui: warning: {printable(problem)} (line skipped)\n")
    print(
        f"{stored} votes stored in {store.votes_log.path} ({len(problems)} lines skipped, "
        f"{unvoted} not voted yet)"
    )
    return 0


def _draw_flags(args: argparse.Namespace) -> str:
    """The flags that choose the draw, so a hint's queue holds the items the screen would."""
    words = [f"--budget {args.budget}"]
    if args.seed != 0:
        words.append(f"--seed {args.seed}")
    if args.design != "uniform":
        words.append(f"--design {args.design}")
    return " ".join(words)


def _screen(args: argparse.Namespace, folder: Path) -> int:
    from ragtui.judging.voting import VotingSession

    results, queue, store = _draw(args, folder)  # a wrong folder or budget is said first
    if not sys.stdout.isatty():
        raise RagtuiError(
            "the voting screen needs a terminal; write a queue instead: "
            f"ragtui vote queue {folder} {_draw_flags(args)} --out FILE"
        )
    session = VotingSession(queue, store)
    if session.done:
        print(printable(f"every item of {queue.describe()} is voted already"))
        return 0
    from ragtui.tui.hangup import must_end_at_once
    from ragtui.tui.vote_app import VoteApp

    name = str(results.get("dataset", {}).get("name") or folder.name)
    app = VoteApp(session, f"{name} · {queue.describe()}")
    try:
        app.run()
    finally:
        session.close()  # every vote queued is on disk before the process ends
    if must_end_at_once():
        os._exit(app.return_code or 0)
    print(printable(session.summary()))
    print(printable("run the same 'ragtui eval' again to see the corrected win rates"))
    return app.return_code or 0


def _grade_draw(args: argparse.Namespace, folder: Path):
    from ragtui.judging.grade_queue import draw_answers, read_grade_items

    results, _, store = open_run(folder, items=False)
    items = read_grade_items(folder, args.kind)
    return results, draw_answers(items, args.budget, args.seed, args.design), store


def _grade_queue(args: argparse.Namespace, folder: Path) -> int:
    from ragtui.judging.grade_queue import queue_grades
    from ragtui.queue_files import write_queue_file

    _, queue, store = _grade_draw(args, folder)
    graded = queue_grades(store.answer_grades(), queue.run_id)
    written = write_queue_file(
        args.out,
        (queue.export_line(queued) for queued in queue.queued if queued.item.item_id not in graded),
    )
    left_out = f"; {len(graded)} already graded are left out" if graded else ""
    print(printable(f"wrote {written} answers to {args.out}: {queue.describe()}{left_out}"))
    print(
        printable(
            f"set 'grade' on each line to a whole number from 1 to 5 (its 'asked' says what "
            f"they mean), then: ragtui vote grade import {folder} {args.out}"
        )
    )
    return 0


def _grade_import(folder: Path, file: Path) -> int:
    from ragtui.judging.grade_queue import read_grade_items, read_graded_lines

    if not file.is_file():
        raise RagtuiError(
            f"{file} does not exist: give a graded queue from 'ragtui vote grade RUN --out FILE'"
        )
    _, _, store = open_run(folder, items=False)
    items = read_grade_items(folder, kind=None)
    try:
        lines = file.read_text(encoding="utf-8-sig", errors="replace").split("\n")
    except OSError as error:
        raise RagtuiError(f"cannot read {file} ({error.strerror})") from None
    read = read_graded_lines(lines, items, store.answer_grades(), str(file), time.time())
    for record in read.records:
        store.add_answer_grade(record)
    for problem in read.problems:
        sys.stderr.write(f"ragtui: warning: {printable(problem)} (line skipped)\n")
    print(
        f"{len(read.records)} grades stored in {store.answer_grades_log.path} "
        f"({len(read.problems)} lines skipped, {read.ungraded} not graded yet, "
        f"{read.already} graded already and kept)"
    )
    return 0


def _grade_screen(args: argparse.Namespace, folder: Path) -> int:
    from ragtui.judging.voting import GradingSession

    results, queue, store = _grade_draw(args, folder)
    if not sys.stdout.isatty():
        raise RagtuiError(
            "the grading screen needs a terminal; write a queue instead: "
            f"ragtui vote grade {folder} --kind {args.kind} {_draw_flags(args)} --out FILE"
        )
    session = GradingSession(queue, store)
    if session.done:
        print(printable(f"every answer of {queue.describe()} is graded already"))
        return 0
    from ragtui.tui.hangup import must_end_at_once
    from ragtui.tui.vote_app import grade_app

    name = str(results.get("dataset", {}).get("name") or folder.name)
    app = grade_app(session, f"{name} · {queue.describe()}")
    try:
        app.run()
    finally:
        session.close()
    if must_end_at_once():
        os._exit(app.return_code or 0)
    print(printable(session.summary()))
    print(printable("run the same 'ragtui eval' again to see the corrected scores"))
    return app.return_code or 0
