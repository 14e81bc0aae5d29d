"""A searchable list of the corpus's own queries, to walk a dataset query by query."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ragtui.compare.session import DatasetQuery
from ragtui.tui.text import flat


class QueryPicker(ModalScreen[str | None]):
    """Returns the chosen query's text, or None when dismissed with Escape."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, queries: list[DatasetQuery], current_id: str) -> None:
        super().__init__()
        self.queries = queries
        self.current_id = current_id

    def compose(self) -> ComposeResult:
        judged = sum(1 for query in self.queries if query.judgments)
        with Vertical(id="picker"):
            yield Static(
                Text(
                    f"The corpus's queries: {len(self.queries)} ({judged} with judgments)",
                    style="bold",
                ),
                id="picker-title",
            )
            yield Input(placeholder="type to filter; ↓ to the list, Enter asks", id="picker-filter")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, words: str) -> None:
        needles = words.casefold().split()
        options = self.query_one(OptionList)
        options.clear_options()
        shown = [
            query
            for query in self.queries
            if all(needle in f"{query.query_id} {query.text}".casefold() for needle in needles)
        ]
        for query in shown:
            prompt = Text()
            prompt.append("● " if query.query_id == self.current_id else "  ")
            prompt.append(f"{flat(query.query_id)}  ", style="dim")
            prompt.append(flat(query.text))
            prompt.append(f"  {query.judgments} judged", style="italic")
            options.add_option(Option(prompt, id=query.query_id))
        if shown:
            ids = [query.query_id for query in shown]
            options.highlighted = ids.index(self.current_id) if self.current_id in ids else 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def key_down(self) -> None:
        if self.query_one(Input).has_focus:
            self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, query_id: str | None) -> None:
        texts = {query.query_id: query.text for query in self.queries}
        self.dismiss(texts.get(query_id or ""))
