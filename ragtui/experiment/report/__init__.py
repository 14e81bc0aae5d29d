"""Writing a grid's results for people: report.md and the terminal lines, report.html
with its charts, and the judge's and the decision's sentences."""
