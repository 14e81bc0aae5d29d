"""What must stay off the start-up path of the compare screen and the quick commands, and why.

``ragtui CORPUS`` draws its first frame after ``import ragtui.tui.app``; ``ragtui search``
and ``ragtui ask`` answer after importing the CLI and the retrieval/generation core. Each
entry below is loaded, when it is needed at all, by the code that first uses it: a key
press, a worker that runs after the first frame, or another command. The test
``tests/test_startup_imports.py`` and ``benchmarks/bench_tui.py`` read this list.
"""

from __future__ import annotations

import json
import subprocess
import sys

NOT_AT_STARTUP: dict[str, str] = {
    "scipy": "statistics of votes and eval reports (~0.5 s to import); the `v` screen loads it",
    "plotly": "charts of report.html, written by `ragtui eval` only",
    "pymilvus": "the Milvus engine, loaded when a milvus retriever is made",
    "torch": "exporting an embedding model (~12 s with sentence-transformers); a child process",
    "sentence_transformers": "the fallback encoder and the ONNX export, never on a query's path",
    "transformers": "pulled by sentence-transformers; same reason",
    "onnx": "model export only (queries run on onnxruntime, loaded with the dense index)",
    "markdown_it": "the finished answer's Markdown (~50-70 ms with Textual's widget); imported"
    " in a thread once both panes are ready",
    "ragtui.experiment": "the eval grid, statistics and reports: `ragtui eval`/`results` only",
    "ragtui.testsets": "test-set generation and storage: read in a worker after the frame",
    "ragtui.judging.judge": "the LLM judge, made on the first `J`",
    "ragtui.judging.agreement": "agreement statistics (scipy), for the `v` screen and reports",
    "ragtui.judging.calibration": "the judge's calibration against votes, on the first `J`",
}


def loaded_at_startup(module: str, argv: list[str] | None = None) -> list[str]:
    """The NOT_AT_STARTUP entries a fresh interpreter has loaded after ``import module``.

    With argv, ``ragtui.cli.main(argv)`` runs after the import (for the quick commands).
    Run in a child process so that this interpreter's own imports do not count.
    """
    script = (
        "import json, sys\n"
        f"import {module}\n"
        + (
            f"from ragtui.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            if argv is not None
            else ""
        )
        + f"names = {sorted(NOT_AT_STARTUP)!r}\n"
        "loaded = [n for n in names if any(m == n or m.startswith(n + '.') for m in sys.modules)]\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(finished.stderr.strip().splitlines()[-1])
