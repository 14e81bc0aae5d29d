"""Backend faults, provoked by tests/servers/scripted_openai.py on 127.0.0.1.

Each fault gives one message naming the backend and what happened, keeps what was
answered so far (marked partial by the pipeline), and is retried only when nothing had
been answered yet.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from ragtui.config.backends import BackendSettings
from ragtui.generation import (
    GenerationDone,
    GenerationError,
    GenerationOptions,
    Retrying,
    TextDelta,
    make_generator,
)
from ragtui.prompts import PromptTemplates, build_prompt
from tests.cli_runner import ragtui
from tests.conftest import SAMPLE_CORPUS

PROMPT = build_prompt("chat", "How heavy is the HB-15?", ["It weighs 142 kg."], PromptTemplates())


@pytest.fixture
def scripted_url(scripted_openai: str) -> str:
    return scripted_openai


def requests_made(url: str, model: str) -> int:
    return httpx.get(f"{url}/health").json()["requests"].get(model, 0)


async def run(url: str, model: str, timeout_s: float = 30.0, **options: object):
    generator = make_generator(
        f"openai:{model}", BackendSettings(openai_base_url=f"{url}/v1", timeout_s=timeout_s)
    )
    events: list = []
    error: GenerationError | None = None
    try:
        async for event in generator.stream(PROMPT, GenerationOptions(**options)):  # type: ignore[arg-type]
            events.append(event)
    except GenerationError as failure:
        error = failure
    finally:
        await generator.aclose()
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    return events, text, error


def assert_names_backend(error: GenerationError | None, model: str, url: str) -> str:
    assert error is not None
    message = str(error)
    assert message.startswith(f"openai:{model} at {url}/v1: ")
    assert "\n" not in message
    return message


async def test_a_malformed_chunk_ends_the_answer_keeping_what_came(scripted_url: str) -> None:
    _, text, error = await run(scripted_url, "malformed")
    message = assert_names_backend(error, "malformed", scripted_url)
    assert "malformed event" in message
    assert text == "Half an " and error.partial == "Half an "


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("http500", "HTTP 500: model crashed: out of memory; check the server's log"),
        ("http500-empty", "HTTP 500: no message; check the server's log"),
    ],
)
async def test_server_errors_with_and_without_a_body(
    scripted_url: str, model: str, expected: str
) -> None:
    before = requests_made(scripted_url, model)
    events, _, error = await run(scripted_url, model)
    assert expected in assert_names_backend(error, model, scripted_url)
    # A 500 may have done work on the server: it is not repeated.
    assert requests_made(scripted_url, model) == before + 1
    assert not any(isinstance(event, Retrying) for event in events)


async def test_busy_statuses_are_retried_with_backoff_and_said_so(scripted_url: str) -> None:
    events, text, error = await run(scripted_url, "http503-twice")
    assert error is None and text == "Answered after retries."
    retries = [event for event in events if isinstance(event, Retrying)]
    assert [(r.attempt, r.attempts) for r in retries] == [(2, 3), (3, 3)]
    assert "HTTP 503; retrying in" in retries[0].describe()
    assert isinstance(events[-1], GenerationDone)
    assert requests_made(scripted_url, "http503-twice") == 3


async def test_retries_stop_after_the_last_attempt(scripted_url: str) -> None:
    events, _, error = await run(scripted_url, "http429-always")
    message = assert_names_backend(error, "http429-always", scripted_url)
    assert "HTTP 429 after 3 attempts: rate limited" in message
    assert sum(isinstance(event, Retrying) for event in events) == 2


async def test_a_cut_stream_keeps_the_partial_answer(scripted_url: str) -> None:
    _, text, error = await run(scripted_url, "cut")
    message = assert_names_backend(error, "cut", scripted_url)
    assert "cut mid-answer" in message or "ended before the answer was complete" in message
    assert text == "Partial answer " and error.partial == text


async def test_an_endless_stream_is_bounded_by_max_tokens(scripted_url: str) -> None:
    _, text, error = await run(scripted_url, "endless", max_tokens=20)
    assert "kept sending past max_tokens=20; stopped" in assert_names_backend(
        error, "endless", scripted_url
    )
    assert error.partial == text and text.count("more") == 20 + 16


async def test_an_endless_stream_without_text_is_bounded_by_time(scripted_url: str) -> None:
    started = time.monotonic()
    _, _, error = await run(scripted_url, "silent-endless", max_time_s=1.0)
    assert "no end to the answer after 1 s; stopped (max time)" in assert_names_backend(
        error, "silent-endless", scripted_url
    )
    assert time.monotonic() - started < 10


async def test_a_first_byte_slower_than_the_timeout(scripted_url: str) -> None:
    started = time.monotonic()
    _, _, error = await run(scripted_url, "slow-first-byte", timeout_s=1.0)
    assert "no answer within 1 s (timeout)" in assert_names_backend(
        error, "slow-first-byte", scripted_url
    )
    assert time.monotonic() - started < 10


async def test_a_failing_pane_leaves_the_other_whole_and_marks_its_partial(
    scripted_url: str, tmp_path: Path
) -> None:
    from ragtui.config.settings_file import Settings
    from tests.session_helpers import answered, open_session, wait_until

    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_url}/v1"))
    async with open_session(tmp_path, "bm25+openai:cut", "bm25+extractive", settings=settings) as (
        session,
        _,
    ):
        session.ask("How heavy is the HB-15?")
        await wait_until(lambda: answered(session))
        failed, whole = session.panes["a"].run, session.panes["b"].run
        assert "cut" in failed.error and failed.answer == "Partial answer "
        assert failed.stats is not None and failed.stats.partial
        # Text arrived before the cut: its time to first token is known, not "–".
        assert failed.stats.ttft_ms is not None and failed.stats.ttft_ms > 0
        assert failed.stats.total_ms is not None and failed.stats.total_ms >= failed.stats.ttft_ms
        assert whole.error is None and whole.answer and not whole.stats.partial


async def test_the_retry_shows_in_the_pane(scripted_url: str, tmp_path: Path) -> None:
    from ragtui.config.settings_file import Settings
    from ragtui.tui.widgets.pane import PipelinePane
    from tests.tui.helpers import new_app, wait_for

    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_url}/v1"))
    app = new_app(tmp_path, "bm25+openai:http429-always", "bm25+extractive", settings=settings)
    seen: list[str] = []
    original = PipelinePane.set_status

    def record(self, text: str, error: bool = False) -> None:
        seen.append(text)
        original(self, text, error)

    PipelinePane.set_status = record  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.session.ready)
            app.session.ask("How heavy is the HB-15?")
            await wait_for(pilot, lambda: app.pane("a").error is not None)
            error = app.pane("a").error
    finally:
        PipelinePane.set_status = original  # type: ignore[method-assign]
    assert any("HTTP 429; retrying in" in text and "attempt 2 of 3" in text for text in seen)
    assert "after 3 attempts" in error


HOSTILE_BYTES = ("\x1b", "\x00", "\x07", "\x08", "\x9b", "\u202e")


def test_hostile_model_output_is_printed_as_text(scripted_url: str) -> None:
    env = {"OPENAI_BASE_URL": f"{scripted_url}/v1"}
    for extra in ([], ["--json"]):
        done = ragtui(
            "ask",
            str(SAMPLE_CORPUS),
            "How heavy is the HB-15?",
            *("--pipeline", "bm25+openai:hostile", *extra),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        for raw in HOSTILE_BYTES:
            assert raw not in done.stdout and raw not in done.stderr, (extra, repr(raw))
        if extra:
            import json

            answer = json.loads(done.stdout)["answer"]
            assert "\u202e" in answer and "\x1b" in answer  # the data itself is intact
        else:
            assert "[bold red]not markup[/]" in done.stdout and "x" * 10_000 in done.stdout


async def test_hostile_model_output_renders_as_text_in_the_app(
    scripted_url: str, tmp_path: Path
) -> None:
    from ragtui.config.settings_file import Settings
    from tests.tui.helpers import new_app, wait_for
    from tests.tui.test_app import screen_text

    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_url}/v1"))
    app = new_app(tmp_path, "bm25+openai:hostile", "bm25+extractive", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        app.session.ask("How heavy is the HB-15?")
        await wait_for(pilot, lambda: app.pane("a").stats is not None)
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "[bold red]not markup[/]" in text  # markup shown, not applied
        assert "pwned title" not in text and "evil.example" not in text
        for raw in HOSTILE_BYTES:
            assert raw not in text, repr(raw)
        await pilot.press("escape", "j")  # the 10,000-character token broke nothing
        assert app.pane("a").error is None
