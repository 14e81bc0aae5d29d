"""The LLM judge's verdict on the pair on screen, as one status line per pane.

Lines speak of "this answer" and "left"/"right", never of pipelines, so asking the judge
reveals nothing during a blind vote.
"""

from __future__ import annotations

from typing import Any

from ragtui.display.safe_text import printable


def _said(verdict: Any) -> str:
    return printable(verdict.verdict or f"no verdict ({verdict.raw[:40]})")


def judge_lines(judgment: Any, calibration: str = "") -> dict[str, str]:
    """Pane key → line, for a ``PairJudgment`` (pane a's answer is its side "a"), ending
    with how far the judge agrees with the user's votes."""
    orders = (
        f"left shown first: {_said(judgment.forward)}; right shown first: "
        f"{_said(judgment.backward)}"
    )
    lines = {}
    for key, other in (("a", "b"), ("b", "a")):
        if judgment.outcome == key:
            verdict = "judge: this answer is better"
        elif judgment.outcome == other:
            verdict = "judge: the other answer is better"
        elif judgment.outcome == "tie" and judgment.consistent is False:
            verdict = "judge: tie (its verdict followed the position)"
        elif judgment.outcome == "tie":
            verdict = "judge: tie"
        else:
            verdict = "judge: no readable verdict"
        if judgment.method == "logprob" and judgment.forward.p_first is not None:
            p_left = (judgment.forward.p_first + 1 - judgment.backward.p_first) / 2
            share = p_left if key == "a" else 1 - p_left
            verdict += f", p(this better) {share:.2f}"
        lines[key] = f"{verdict} · {orders}" + (f" · {calibration}" if calibration else "")
    return lines
