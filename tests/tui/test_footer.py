"""The key footer follows the focus, and is rebuilt only when the keys it shows change
(Textual's rebuilds every key widget at each move of focus: tens of milliseconds on 2
cores, in the way of key presses and of the screen opening)."""

from __future__ import annotations

from pathlib import Path

from ragtui.tui.widgets.footer import KeysFooter
from tests.tui.helpers import ask, new_app, wait_for


def footer_text(footer: KeysFooter) -> str:
    return " ".join(str(key.render()) for key in footer.query("FooterKey, FooterLabel"))


async def test_the_footer_is_rebuilt_only_when_its_keys_change(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await ask(pilot, "How heavy is the HB-15?")
        footer = app.query_one(KeysFooter)
        assert app.focused is app.pane("a").passages
        await wait_for(pilot, lambda: "Grade" in footer_text(footer))
        shown = list(footer.children)
        app.pane("b").passages.focus()  # the same keys apply: nothing to rebuild
        await pilot.pause(0.3)
        assert list(footer.children) == shown
        app.query_one("#query").focus()  # the query box has no grade keys
        await wait_for(pilot, lambda: "Grade" not in footer_text(footer))
        assert list(footer.children) != shown
        app.pane("a").passages.focus()
        await wait_for(pilot, lambda: "Grade" in footer_text(footer))


async def test_a_rebuilt_footer_restyles_no_key_it_binds(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await ask(pilot, "How heavy is the HB-15?")
        footer = app.query_one(KeysFooter)
        await wait_for(pilot, lambda: "Grade" in footer_text(footer))
        restyled: list[object] = []
        update_styles = app.update_styles

        def counting(node=None, **options):  # type: ignore[no-untyped-def]
            restyled.append(node)
            return update_styles(node, **options)

        app.update_styles = counting  # type: ignore[method-assign]
        app.query_one("#query").focus()  # other keys: the footer is rebuilt
        await wait_for(pilot, lambda: "Grade" not in footer_text(footer))
        await pilot.pause(0.2)
        keys = [node for node in restyled if type(node).__name__ == "FooterKey"]
        # Only the palette's key, which Textual does not bind to the footer's compact.
        assert [key.has_class("-command-palette") for key in keys] == [True]  # type: ignore[attr-defined]
