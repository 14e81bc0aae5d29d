"""Two ragtui processes writing judgments for the same corpus into the same data folder at
once: every record of both is there, whole, and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ragtui.judging.store import JsonlLog
from tests.conftest import REPO

RECORDS = 150
# Long records (a vote carries both answers) take several write calls when buffered.
WRITER = """
import sys
from pathlib import Path
from ragtui.judging.store import JsonlLog
log = JsonlLog(Path(sys.argv[1]))
for number in range(int(sys.argv[3])):
    log.append({"writer": sys.argv[2], "number": number, "answer": sys.argv[2] * 20000})
"""


def test_two_processes_append_to_one_log_without_interleaving(tmp_path: Path) -> None:
    path = tmp_path / "data" / "votes.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"writer": "crashed", "number": 0, "answer": "cut sho')  # a torn line
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(RECORDS)], cwd=REPO)
        for name in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(timeout=300) == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    parsed = [json.loads(line) for line in lines[1:-1]]  # the first is the torn one
    assert len(parsed) == 2 * RECORDS
    for name in ("a", "b"):
        mine = [record for record in parsed if record["writer"] == name]
        assert [record["number"] for record in mine] == list(range(RECORDS))
        assert all(record["answer"] == name * 20000 for record in mine)
    assert len(list(JsonlLog(path).records())) == 2 * RECORDS
