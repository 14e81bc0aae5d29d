"""A searchable list of the corpus's own queries, its generated ones and the questions of
its imported sets, to walk a dataset query by query and to accept or reject generated
questions. A question chosen here runs under its own id, so grades made on it count for its
test set (in ``ragtui label`` and eval)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ragtui.compare.session import DatasetQuery
from ragtui.tui.text import flat

REVIEW_MARKS = {"": "  ", "accepted": "✓ ", "rejected": "✗ "}


class QueryPicker(ModalScreen[DatasetQuery | None]):
    """Returns the chosen query, or None when dismissed with Escape."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("a", "review('accepted')", "Accept generated", show=False),
        Binding("x", "review('rejected')", "Reject generated", show=False),
    ]

    def __init__(
        self,
        queries: list[DatasetQuery],
        current_id: str,
        review: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.queries = queries
        self.current_id = current_id
        self.review = review  # stores a verdict on a generated question

    def compose(self) -> ComposeResult:
        own = [query for query in self.queries if not query.testset]
        judged = sum(1 for query in own if query.judgments)
        title = f"The corpus's queries: {len(own)} ({judged} with judgments)"
        imported = sum(1 for query in self.queries if query.imported)
        generated = len(self.queries) - len(own) - imported
        if generated:
            title += f" · generated: {generated} (in the list: a accepts, x rejects)"
        if imported:
            title += f" · imported: {imported}"
        with Vertical(id="picker"):
            yield Static(Text(title, style="bold"), id="picker-title")
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
            if query.testset and not query.imported:
                prompt.append(REVIEW_MARKS.get(query.review, "  "), style="bold")
            prompt.append(f"{flat(query.query_id)}  ", style="dim")
            prompt.append(flat(query.text))
            if query.imported:
                graded = f"{query.judgments} graded"
                prompt.append(f"  imported ({flat(query.testset)}) · {graded}", style="italic")
            elif query.testset:
                prompt.append(f"  generated ({flat(query.testset)})", style="italic")
            else:
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

    async def action_review(self, verdict: str) -> None:
        options = self.query_one(OptionList)
        if self.review is None or not options.has_focus or options.highlighted is None:
            return
        query_id = options.get_option_at_index(options.highlighted).id or ""
        chosen = next((q for q in self.queries if q.query_id == query_id), None)
        if chosen is None or not chosen.testset or chosen.imported:
            self.notify("Only generated questions are reviewed.", severity="warning")
            return
        await self.review(query_id, verdict)
        self.queries = [
            replace(q, review=verdict) if q.query_id == query_id else q for q in self.queries
        ]
        highlighted = options.highlighted
        self._fill(self.query_one(Input).value)
        options.highlighted = highlighted
        self.notify(f"{query_id}: {verdict} (saved with test set {chosen.testset})")

    def _choose(self, query_id: str | None) -> None:
        chosen = {query.query_id: query for query in self.queries}
        self.dismiss(chosen.get(query_id or ""))
