"""The CLI as a user runs it: a subprocess, JSON on stdout, one-line errors on stderr."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import ragtui
from tests.conftest import REPO, SAMPLE_CORPUS

CRANFIELD_QUERY = (
    "what similarity laws must be obeyed when constructing aeroelastic models of heated "
    "high speed aircraft"
)


def test_search_prints_the_documented_json(cranfield: Path) -> None:
    done = ragtui("search", str(cranfield), CRANFIELD_QUERY, "--retriever", "bm25", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"query", "retriever", "elapsed_ms", "hits"}
    assert result["query"] == CRANFIELD_QUERY and result["retriever"] == "bm25"
    assert len(result["hits"]) == 10
    first = result["hits"][0]
    assert set(first) == {"rank", "passage_id", "doc_id", "score", "text", "source"}
    assert first["rank"] == 1
    assert first["doc_id"] == "184"  # judged among the most relevant (grade 3) for query 1


def test_index_then_search_in_human_form(tmp_path: Path) -> None:
    indexed = ragtui("index", str(SAMPLE_CORPUS), cache=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert "indexed 42 documents" in indexed.stdout
    assert "embedding 42/42 passages" in indexed.stderr
    again = ragtui("index", str(SAMPLE_CORPUS), cache=tmp_path)
    assert "embedding" not in again.stderr
    found = ragtui(
        "search", str(SAMPLE_CORPUS), "how loud is it", "-r", "hybrid", "-k", "2", cache=tmp_path
    )
    assert found.returncode == 0, found.stderr
    assert "noise.txt#0" in found.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "no/such/dir", "q"], "corpus 'no/such/dir' does not exist"),
        (["search", str(SAMPLE_CORPUS), "q", "-r", "splade"], "unknown retriever 'splade'"),
        (["search", str(SAMPLE_CORPUS), "q", "-k", "0"], "-k 0"),
        (["search", str(SAMPLE_CORPUS), "q", "-k", "ten"], "invalid int value"),
        (["search", str(SAMPLE_CORPUS), "   "], "query is empty"),
        (["search", str(SAMPLE_CORPUS), "q", "--chunk-tokens", "3"], "chunking max_tokens=3"),
        (["frobnicate"], "or a command (index, search, ask"),
    ],
)
def test_user_mistakes_are_one_line_errors(args: list[str], message: str) -> None:
    done = ragtui(*args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ragtui") and message in lines[0]
    assert "Traceback" not in done.stderr


def test_core_search_ask_and_eval_never_load_textual() -> None:
    script = (
        "import sys\n"
        "from ragtui.cli import main\n"
        f"code = main(['search', {str(SAMPLE_CORPUS)!r}, 'E-104', '-r', 'hybrid', '--json'])\n"
        "assert code == 0\n"
        f"code = main(['ask', {str(SAMPLE_CORPUS)!r}, 'E-104', '-p', 'bm25+extractive'])\n"
        "assert code == 0\n"
        "import tempfile\n"
        f"code = main(['eval', {str(SAMPLE_CORPUS)!r}, '--retrievers', 'bm25,hybrid', "
        "'--generators', 'extractive', '--limit', '4', '--out', tempfile.mkdtemp() + '/o'])\n"
        "assert code == 0\n"
        "import ragtui.experiment.stats.attribution, ragtui.experiment.report.outputs\n"
        "import ragtui.generation.llamacpp, ragtui.generation.ollama_backend\n"
        "import ragtui.generation.openai_compat, ragtui.pipeline, ragtui.config.settings_file\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('textual',)]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert done.returncode == 0, done.stderr


def test_cache_dir_is_where_every_command_caches(tmp_path: Path, corpus_copy: Path) -> None:
    """--cache-dir wins over RAGTUI_CACHE_DIR for labels export and eval's corpus snapshot."""
    chosen, other = tmp_path / "chosen", tmp_path / "other"
    env = {"RAGTUI_CACHE_DIR": str(other), "RAGTUI_DATA_DIR": str(tmp_path / "data")}
    commands = [
        ["labels", "export", str(corpus_copy), "--out", str(tmp_path / "q")],
        [
            *("eval", str(corpus_copy), "--retrievers", "bm25", "--generators", "extractive"),
            *("--limit", "2", "--out", str(tmp_path / "eval")),
        ],
    ]
    for command in commands:
        done = ragtui(*command, "--cache-dir", str(chosen), env=env)
        assert done.returncode in (0, 1), done.stderr  # export: 1 when there are no labels
        assert "Traceback" not in done.stderr
        assert list((chosen / "corpora").glob("*.pickle")), command
        assert not other.exists(), sorted(other.rglob("*"))
