"""A modal list of components (retrievers or generators), plus a box for any spec."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ragtui.config.choices import Choice


class ComponentPicker(ModalScreen[str | None]):
    """Returns the chosen spec, or None when dismissed with Escape."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, choices: list[Choice], current: str) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text(self.title_text, style="bold"), id="picker-title")
            options = []
            for choice in self.choices:
                prompt = Text()
                prompt.append("● " if choice.spec == self.current else "  ")
                prompt.append(choice.spec, style="bold")
                prompt.append(f"  {choice.description}", style="dim")
                options.append(Option(prompt, id=choice.spec))
            yield OptionList(*options, id="picker-options")
            yield Input(placeholder="or type any spec and press Enter", id="picker-spec")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        specs = [choice.spec for choice in self.choices]
        if self.current in specs:
            options.highlighted = specs.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.dismiss(event.value.strip())
