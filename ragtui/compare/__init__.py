"""The comparison behind the compare screen: two panes, runs, votes and grades (no Textual)."""
