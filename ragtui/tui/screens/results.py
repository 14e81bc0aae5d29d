"""Win rates of pipeline pairs from the answer votes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ragtui.display.safe_text import printable
from ragtui.judging.store import PairRecord


class VoteResults(ModalScreen[None]):
    BINDINGS = [Binding("escape,v,q", "dismiss(None)", "Close")]

    def __init__(self, rows: list[PairRecord]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="results"):
            total = sum(row.votes for row in self.rows)
            yield Static(
                f"Answer votes: {total} on this corpus (ties and 'both bad' count half)",
                id="results-title",
                markup=False,
            )
            table: DataTable[str] = DataTable(id="results-table", cursor_type="row")
            table.add_columns(
                "pipeline 1",
                "pipeline 2",
                "votes",
                "1 wins",
                "2 wins",
                "tie",
                "both bad",
                "1 win rate",
            )
            for row in self.rows:
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
            yield table
            yield Static("Esc closes", classes="dim", markup=False)
