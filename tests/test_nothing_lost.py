"""SIGKILL in the middle of a grading and voting burst: every acknowledged judgment stays."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ragtui.corpus import load_corpus
from ragtui.judging.store import JudgmentStore
from tests.conftest import REPO, SAMPLE_CORPUS
from tests.session_helpers import open_session

BURST = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.session_helpers import answered, open_session, wait_until

async def main():
    async with open_session(Path({data!r})) as (session, _seen):
        session.ask("How heavy is the HB-15?")
        await wait_until(lambda: answered(session))
        hits = session.panes["a"].run.result.hits
        number = 0
        while True:
            hit = hits[number % len(hits)]
            grade = number % 4
            await session.grade("a", hit.passage_id, grade)
            print("LABEL", hit.passage_id, grade, flush=True)  # acknowledged: on disk
            number += 1
            if number % 3 == 0:
                await session.vote("tie")
                print("VOTE", flush=True)

asyncio.run(main())
"""


def test_a_killed_session_keeps_every_acknowledged_judgment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", BURST.format(repo=str(REPO), data=str(data))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    acknowledged: list[tuple[str, int]] = []
    votes = 0
    deadline = time.monotonic() + 180
    assert child.stdout is not None
    # Lines come through a reader thread, so a child that stops printing cannot hold the
    # test past its deadline (a blocking readline() would).
    # The reader thread puts into this queue until the child's output ends; no other
    # object may take its name while the thread runs.
    printed: queue.Queue[str] = queue.Queue()
    ended = threading.Event()

    def read_lines() -> None:
        for line in iter(child.stdout.readline, ""):
            printed.put(line)
        printed.put("")  # the child closed its output
        ended.set()

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        try:
            line = printed.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not line:
            break
        if line.startswith("LABEL"):
            _, passage_id, grade = line.split()
            acknowledged.append((passage_id, int(grade)))
        elif line.startswith("VOTE"):
            votes += 1
    child.send_signal(signal.SIGKILL)  # mid-burst: no clean-up of any kind
    child.wait()
    # The kill closed the child's output: the reader reaches its end and stops cleanly.
    reader.join(timeout=30)
    assert ended.is_set() and not reader.is_alive(), "the reader thread did not finish"
    assert len(acknowledged) == 60, child.stderr.read() if child.stderr else ""

    corpus = load_corpus(SAMPLE_CORPUS)
    folder = JudgmentStore.for_corpus(corpus.root, corpus.source_key, data).folder
    label_lines = (folder / "labels.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in label_lines if line.strip()]  # every line parses
    written = [(record["passage_id"], record["grade"]) for record in records]
    # each acknowledged grade is on disk, in order (one more may have been written
    # after the last acknowledgement was read)
    assert written[: len(acknowledged)] == acknowledged
    vote_lines = (folder / "votes.jsonl").read_text().splitlines()
    assert len([json.loads(line) for line in vote_lines if line.strip()]) >= votes >= 19


async def test_a_torn_last_line_is_dropped_with_a_warning_and_the_rest_kept(
    tmp_path: Path, caplog
) -> None:
    data = tmp_path / "data"
    async with open_session(data) as (session, _seen):
        session.ask("How heavy is the HB-15?")
        from tests.session_helpers import answered, wait_until

        await wait_until(lambda: answered(session))
        hit = session.panes["a"].run.result.hits[0]
        await session.grade("a", hit.passage_id, 3)
        folder = session.store.folder
    with (folder / "labels.jsonl").open("a") as handle:
        handle.write('{"query_id": "q05", "passage_id": "hb15')  # a write cut short
    async with open_session(data) as (reopened, _seen):
        assert reopened.resolved.grades["q05"] == {hit.passage_id: 3}
        await reopened.grade("a", reopened.panes["a"].run.result.hits[1].passage_id, 1)
    assert any("damaged record skipped" in message for message in caplog.messages)
    store = JudgmentStore(folder)
    assert len(store.labels()["q05"]) == 2  # the torn line is gone, both grades are there
