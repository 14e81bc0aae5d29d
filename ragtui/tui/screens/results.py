"""Win rates of pipeline pairs from the answer votes: blind and sighted votes apart, and
the voter's own position bias."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ragtui.display.safe_text import printable
from ragtui.judging.agreement import position_bias
from ragtui.judging.store import Vote, win_table


class VoteResults(ModalScreen[None]):
    BINDINGS = [Binding("escape,v,q", "dismiss(None)", "Close")]

    def __init__(self, votes: Sequence[Vote]) -> None:
        super().__init__()
        self.votes = list(votes)

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
            yield Static("Esc closes", classes="dim", markup=False)

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
