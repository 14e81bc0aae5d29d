"""The eval's corrected retrieval estimates (``results.json``'s ``corrected`` and
``corrected_summary``) on the results screen: the report's section, as text."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import ModalScreen
from textual.widgets import Static

from ragtui.display.safe_text import printable


class CorrectedEstimates(ModalScreen[None]):
    """Automatic-only, your grades alone and corrected, each with n and its interval;
    "too few labels" below the floor; which retrievers the data can or cannot order."""

    DEFAULT_CSS = """
    CorrectedEstimates { align: center middle; }
    #corrected {
        width: 95%;
        height: 90%;
        border: thick $accent;
        padding: 0 1;
        background: $surface;
    }
    #corrected Static { margin-bottom: 1; }
    #corrected .corrected-figures { width: auto; }
    #corrected .corrected-prose { width: 100%; }
    """
    BINDINGS = [Binding("escape,c,q", "dismiss(None)", "Close")]

    def __init__(self, results: dict[str, Any]) -> None:
        super().__init__()
        self.results = results

    def compose(self) -> ComposeResult:
        # The report's own text, so the screen and report.md never say different things;
        # imported here, not at the app's start (it is the experiment package).
        from ragtui.experiment.report.corrected import corrected_text

        blocks = corrected_text(self.results) or [
            (False, ["No corrected estimates: this eval ran without a test set's recorded sample."])
        ]
        with ScrollableContainer(id="corrected"):
            # Spec names and notes are user text: plain text, control characters removed.
            # Tables and charts keep their columns (scrolled sideways); prose wraps.
            for aligned, lines in [*blocks, (False, ["Esc closes"])]:
                yield Static(
                    "\n".join(printable(line) for line in lines),
                    classes="corrected-figures" if aligned else "corrected-prose",
                    markup=False,
                )
