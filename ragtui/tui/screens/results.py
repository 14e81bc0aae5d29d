"""Win rates of pipeline pairs from the answer votes: blind and sighted votes apart, and
the voter's own position bias; below them, the latest eval run's corrected retrieval
figures with each automatic source's agreement with the voter (read after the screen
opens, off the event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ragtui.display.safe_text import printable
from ragtui.judging.agreement import position_bias
from ragtui.judging.store import Vote, win_table

# Blocks of plain lines, each flagged True when aligned (never wrapped): ``corrected_text``.
Blocks = list[tuple[bool, list[str]]]


class VoteResults(ModalScreen[None]):
    BINDINGS = [Binding("escape,v,q", "dismiss(None)", "Close")]

    def __init__(
        self, votes: Sequence[Vote], eval_figures: Callable[[], Blocks] | None = None
    ) -> None:
        """``eval_figures`` reads the latest eval run's figures (blocking: run in a thread
        once the screen is up); None leaves the section out."""
        super().__init__()
        self.votes = list(votes)
        self.eval_figures = eval_figures

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="results"):
            yield Static(
                f"Answer votes: {len(self.votes)} on this corpus (ties and 'both bad' count "
                "half). Pipeline 1 and 2 are in name order, not screen order.",
                id="results-title",
                markup=False,
            )
            for blind, title in ((True, "Blind votes"), (False, "Sighted votes")):
                votes = [vote for vote in self.votes if vote.blind is blind]
                bias = position_bias([vote.choice for vote in votes])
                yield Static(
                    f"{title}: {len(votes)} · your position bias: {bias.sentence()}",
                    classes="results-section",
                    markup=False,
                )
                if votes:
                    yield self._table(votes, "blind" if blind else "sighted")
            if self.eval_figures is not None:
                with Vertical(id="results-eval", classes="results-section"):
                    yield Static("Reading the latest eval run …", markup=False)
            yield Static("Esc closes", classes="dim", markup=False)

    def on_mount(self) -> None:
        if self.eval_figures is not None:
            self.run_worker(self._show_eval_figures(), group="eval-figures", exclusive=True)

    async def _show_eval_figures(self) -> None:
        assert self.eval_figures is not None
        blocks = await asyncio.to_thread(self.eval_figures)
        section = self.query_one("#results-eval", Vertical)
        await section.remove_children()
        # Spec names, folders and notes are user text: plain text, control characters
        # removed. Charts keep their columns.
        for aligned, lines in blocks:
            text = Static(
                "\n".join(printable(line) for line in lines),
                classes="results-figures" if aligned else "results-prose",
                markup=False,
            )
            if aligned:  # its own sideways scroll: a long name never cuts a chart's end
                await section.mount(HorizontalScroll(text, classes="results-wide"))
            else:
                await section.mount(text)

    @staticmethod
    def _table(votes: list[Vote], name: str) -> DataTable[str]:
        table: DataTable[str] = DataTable(
            id=f"results-{name}", classes="results-table", cursor_type="row"
        )
        table.add_columns(
            "pipeline 1", "pipeline 2", "votes", "1 wins", "2 wins", "tie", "both bad", "1 win rate"
        )
        for row in win_table(votes):
            table.add_row(
                # Specs are user text; DataTable would read a str as markup.
                Text(printable(row.first)),
                Text(printable(row.second)),
                str(row.votes),
                str(row.first_wins),
                str(row.second_wins),
                str(row.ties),
                str(row.both_bad),
                f"{row.first_win_rate:.0%}",
            )
        return table
