"""`ragtui ask` as a user runs it, offline, with each packaged generator."""

import json

import pytest

from tests.conftest import SAMPLE_CORPUS
from tests.test_cli import ragtui

STATS_KEYS = {
    "retrieval_ms",
    "ttft_ms",
    "total_ms",
    "tokens_per_s",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "cost_usd",
}


@pytest.mark.parametrize(
    ("pipeline", "exact_tokens"),
    [("bm25+llamacpp:smollm2", True), ("bm25+llamacpp:gemma3", True), ("bm25+extractive", False)],
)
def test_ask_json_has_answer_hits_and_real_stats(pipeline: str, exact_tokens: bool) -> None:
    done = ragtui(
        "ask",
        str(SAMPLE_CORPUS),
        "What does error E-104 mean?",
        "--pipeline",
        pipeline,
        "-k",
        "3",
        "--max-tokens",
        "24",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["pipeline"] == pipeline
    assert record["answer"].strip()
    assert record["hits"][0]["doc_id"] == "error-e104.md"
    stats = record["stats"]
    assert set(stats) >= STATS_KEYS
    assert stats["tokens_estimated"] is not exact_tokens
    assert stats["completion_tokens"] >= 1 and stats["ttft_ms"] > 0
    assert stats["cost_usd"] == 0.0
    assert stats["timing_mode"] == "fair"
    if exact_tokens:
        assert stats["prompt_tokens"] > 50


def test_ask_streams_text_then_prints_stats() -> None:
    done = ragtui("ask", str(SAMPLE_CORPUS), "What is GridShare?", "-p", "hybrid+extractive")
    assert done.returncode == 0, done.stderr
    answer, stats_line = done.stdout.strip().splitlines()[-2:]
    assert "GridShare" in answer and "[1]" in answer
    assert stats_line.startswith("[hybrid+extractive] retrieval")
    assert "fair timing" in stats_line and "cost $0.000000" in stats_line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "bm25"], "write RETRIEVER+GENERATOR"),
        (["-p", "bm25+gpt5"], "unknown generator backend 'gpt5'"),
        (["-p", "bm25+llamacpp:nope"], "llamacpp: no model 'nope'"),
        (["-p", "bm25+openai:x", "--max-tokens", "0"], "--max-tokens 0"),
    ],
)
def test_ask_mistakes_are_one_line_errors(args: list[str], message: str) -> None:
    done = ragtui("ask", str(SAMPLE_CORPUS), "q", *args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_unreachable_server_fails_in_one_line_with_exit_code(tmp_path) -> None:
    from tests.servers.processes import free_port

    config = tmp_path / "ragtui.toml"
    config.write_text(f'[openai]\nbase_url = "http://127.0.0.1:{free_port()}/v1"\n')
    done = ragtui(
        "ask", str(SAMPLE_CORPUS), "q", "-p", "bm25+openai:m", "--config", str(config), "--json"
    )
    assert done.returncode == 1
    assert "cannot connect" in json.loads(done.stdout)["error"]
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
