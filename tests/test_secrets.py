"""API keys and tokens come from the environment and go to their server, nowhere else.

A key is planted, every command that could leak it is run (answers, JSON, eval reports,
label exports, errors, the app's screen and the files it writes), and all of it is
searched for the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtui.compare.session import SessionError
from ragtui.config.backends import BackendSettings
from ragtui.config.settings_file import Settings
from tests.cli_runner import ragtui
from tests.conftest import SAMPLE_CORPUS
from tests.servers.processes import free_port
from tests.tui.helpers import new_app, wait_for

OPENAI_KEY = "sk-PLANTED-7f3a9c21e8b4"
MILVUS_TOKEN = "root:PLANTED-milvus-55e1"
SECRETS = (OPENAI_KEY, MILVUS_TOKEN, "PLANTED")


def assert_clean(where: str, content: str | bytes) -> None:
    for secret in SECRETS:
        needle = secret.encode() if isinstance(content, bytes) else secret
        assert needle not in content, f"{secret!r} found in {where}"


async def test_a_planted_key_appears_in_no_output(scripted_openai: str, tmp_path: Path) -> None:
    scripted_url = f"{scripted_openai}/v1"
    data, cache = tmp_path / "data", tmp_path / "cache"
    env = {
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": scripted_url,
        "MILVUS_TOKEN": MILVUS_TOKEN,
        "MILVUS_URI": f"http://127.0.0.1:{free_port()}",  # nothing listens: an error path
        "RAGTUI_DATA_DIR": str(data),
        "RAGTUI_CACHE_DIR": str(cache),
    }
    corpus, query = str(SAMPLE_CORPUS), "How heavy is the HB-15?"
    commands = [
        ["ask", corpus, query, "--pipeline", "bm25+openai:ok"],
        ["ask", corpus, query, "--pipeline", "bm25+openai:ok", "--json"],
        ["ask", corpus, query, "--pipeline", "bm25+openai:http500"],
        ["ask", corpus, query, "--pipeline", "bm25+openai:no-such-model", "--json"],
        ["ask", corpus, query, "--pipeline", "milvus+openai:ok"],
        ["search", corpus, query, "-r", "milvus:hybrid", "--json"],
        ["index", corpus, "--to", "milvus"],
        [
            *("eval", corpus, "--retrievers", "bm25", "--generators", "openai:ok,extractive"),
            *("--limit", "3", "--out", str(tmp_path / "eval")),
        ],
        ["config", "init", "--config", str(tmp_path / "ragtui.toml")],
    ]
    for command in commands:
        done = ragtui(*command, env=env)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert_clean(f"{command}: stdout", done.stdout)
        assert_clean(f"{command}: stderr", done.stderr)
    assert (tmp_path / "eval" / "report.md").is_file()

    # The app: a pane answering through the keyed server, a grade and a vote recorded.
    settings = Settings(
        backends=BackendSettings(
            openai_base_url=scripted_url, openai_api_key=OPENAI_KEY, milvus_token=MILVUS_TOKEN
        )
    )
    app = new_app(data, "bm25+openai:ok", "bm25+openai:http500", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        app.session.ask(query)
        await wait_for(pilot, lambda: app.pane("b").error is not None and app.pane("a").answer_text)
        await app.session.grade("a", app.pane("a").hits[0].passage_id, 3)
        from tests.tui.test_app import screen_text

        assert "142 kg" in screen_text(app)
        assert_clean("the screen", screen_text(app))
        assert_clean("the app's error", app.pane("b").error or "")
        with pytest.raises(SessionError, match="a vote needs two answers"):
            await app.session.vote("a")  # pane B failed
        app.session.set_component("b", "generator", "openai:ok")
        pane_b = app.session.panes["b"]
        await wait_for(
            pilot,
            lambda: pane_b.run is not None and pane_b.run.done and pane_b.run.spec.endswith(":ok"),
            60,
        )
        await app.session.vote("a")
        assert_clean("the screen", screen_text(app))
    export = ragtui("labels", "export", corpus, "--out", str(tmp_path / "q"), env=env)
    assert export.returncode == 0, export.stderr

    written = [
        path for root in (data, cache, tmp_path) for path in root.rglob("*") if path.is_file()
    ]
    assert any(path.name == "votes.jsonl" for path in written)
    assert any(path.name == "generations.sqlite" for path in written)
    for path in written:
        assert_clean(str(path), path.read_bytes())


URL_SECRET = "PLANTED-urlpass-91c4"


async def test_credentials_inside_server_urls_appear_in_no_output(
    scripted_openai: str, tmp_path: Path
) -> None:
    host = scripted_openai.removeprefix("http://")
    keyed_url = f"http://gateway-user:{URL_SECRET}@{host}/v1"
    data, cache = tmp_path / "data", tmp_path / "cache"
    env = {
        "OPENAI_BASE_URL": keyed_url,
        # nothing listens there: the connection error names the host
        "OLLAMA_HOST": f"http://ollama-user:{URL_SECRET}@127.0.0.1:{free_port()}",
        "RAGTUI_DATA_DIR": str(data),
        "RAGTUI_CACHE_DIR": str(cache),
    }
    corpus, query = str(SAMPLE_CORPUS), "How heavy is the HB-15?"
    outputs = []
    for command in (
        ["ask", corpus, query, "--pipeline", "bm25+openai:ok", "--json"],
        ["ask", corpus, query, "--pipeline", "bm25+openai:http500"],
        ["ask", corpus, query, "--pipeline", "bm25+openai:no-such-model", "--json"],
        ["ask", corpus, query, "--pipeline", "bm25+ollama:llama3.2:1b"],
        [
            *("eval", corpus, "--retrievers", "bm25", "--generators", "openai:ok,openai:http500"),
            *("--limit", "2", "--out", str(tmp_path / "eval")),
        ],
    ):
        done = ragtui(*command, env=env)
        assert "Traceback" not in done.stderr, (command, done.stderr)
        outputs.append(done.stdout + done.stderr)
    assert "142 kg" in outputs[0]
    assert "127.0.0.1" in outputs[1] and "HTTP 500" in outputs[1]  # the server is still named
    assert "127.0.0.1" in outputs[3]

    settings = Settings(
        backends=BackendSettings(openai_base_url=keyed_url, ollama_host=env["OLLAMA_HOST"])
    )
    app = new_app(data, "bm25+openai:http500", "bm25+ollama:llama3.2:1b", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        app.session.ask(query)
        await wait_for(pilot, lambda: all(app.pane(key).error for key in "ab"), 60)
        from tests.tui.test_app import screen_text

        outputs += [screen_text(app), app.pane("a").error or "", app.pane("b").error or ""]
    written = [path for root in (data, cache, tmp_path / "eval") for path in root.rglob("*")]
    assert any(path.name == "runs.jsonl" for path in written)
    for text in outputs:
        assert URL_SECRET not in text and "gateway-user" not in text, text
    for path in written:
        if path.is_file():
            assert URL_SECRET.encode() not in path.read_bytes(), path
