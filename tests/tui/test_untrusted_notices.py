"""Text from outside (typed specs, file names, server messages) never becomes markup.

Textual parses a notification's text as markup unless told not to: ``[/]`` in a typed
spec used to crash the app at its next redraw, ``[link=…]`` would plant a hidden link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets.markdown import MarkdownBlock

from ragtui.config.backends import BackendSettings
from ragtui.config.settings_file import Settings
from tests.tui.helpers import ask, new_app, wait_for
from tests.tui.test_app import screen_text

HOSTILE = ["[/]", "[red]", "[link=http://evil.example]x[/link]"]


def notices(app) -> list[str]:
    """The notifications shown so far; each must be plain text, never markup."""
    shown = list(app._notifications)
    assert all(notification.markup is False for notification in shown)
    return [notification.message for notification in shown]


@pytest.mark.parametrize("typed", HOSTILE)
async def test_a_typed_spec_with_markup_is_shown_as_typed(tmp_path: Path, typed: str) -> None:
    app = new_app(tmp_path, spec_b="bm25+extractive")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        app.pane("a").passages.focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.screen.query("#picker-spec"))
        app.screen.query_one("#picker-spec").focus()
        await pilot.press(*typed, "enter")
        await pilot.pause(0.3)
        await pilot.press("j", "k")  # the next redraw is where the crash came
        await pilot.pause(0.3)
        assert app.is_running
        assert any(typed in message for message in notices(app)), notices(app)


async def test_a_file_name_with_markup_is_named_literally(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Zebras are striped horses of the savanna.")
    for name in HOSTILE:
        # Empty files are skipped with a warning that names them.
        (corpus / f"{name.replace('/', '_')}.md").write_text("")
    app = new_app(tmp_path / "data", corpus=corpus, spec_b="bm25+extractive")
    async with app.run_test(size=(160, 40)) as pilot:
        await ask(pilot, "zebras")
        await pilot.press("j")
        await pilot.pause(0.3)
        assert app.is_running
        shown = "\n".join(notices(app))
        for name in HOSTILE:
            assert f"skipped {name.replace('/', '_')}.md" in shown


async def test_a_server_error_with_markup_is_shown_as_sent(
    tmp_path: Path, scripted_openai: str
) -> None:
    # The scripted server answers an unknown model with "model '<name>' not found".
    settings = Settings(backends=BackendSettings(openai_base_url=f"{scripted_openai}/v1"))
    app = new_app(
        tmp_path, spec_a="bm25+openai:[red]x[/]", spec_b="bm25+extractive", settings=settings
    )
    async with app.run_test(size=(200, 40)) as pilot:
        await ask(pilot, "How heavy is the HB-15?")
        await pilot.press("j")
        await pilot.pause(0.3)
        assert app.is_running
        error = app.pane("a").error
        assert error and "[red]x[/]" in error and "not found" in error
        assert "[red]x[/]" in screen_text(app)


async def test_links_in_an_answer_show_their_target_and_do_not_open(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zebra.md").write_text(
        "Zebra feeding guide. Zebras eat grass, see [the docs](http://evil.example/steal) "
        "and <http://evil.example/auto> for the feeding guide.\n"
    )
    (corpus / "other.txt").write_text("Giraffes are tall and eat leaves from acacia trees.")
    app = new_app(tmp_path / "data", corpus=corpus, spec_a="bm25+extractive")
    async with app.run_test(size=(200, 40)) as pilot:
        await ask(pilot, "zebra feeding guide")
        assert "http://evil.example/steal" in app.pane("a").answer_text
        answer = app.pane("a").answer
        shown = " ".join(block._content.plain for block in answer.query(MarkdownBlock))
        # The link is shown as written, target included, not as a bare underlined "the docs".
        assert "[the docs](http://evil.example/steal)" in shown
        assert "<http://evil.example/auto>" in shown
        assert answer._open_links is False
