"""Blind voting and the J key, through Pilot: specs hidden until the vote, sides drawn at
random per query (here by a scripted coin), the stored vote naming the pipeline that was on
the chosen side."""

from __future__ import annotations

from pathlib import Path

from ragtui.judging.store import JudgmentStore
from tests.session_helpers import ScriptedCoin
from tests.tui.helpers import ask, new_app, wait_for
from tests.tui.test_app import screen_text

SPECS = ("bm25+extractive", "hybrid+extractive")
QUERIES = [
    "How heavy is the HB-15?",
    "What does error E104 mean?",
    "How long is the warranty?",
    "Can the battery work off-grid?",
    "How loud is the inverter?",
    "What is backup mode?",
    "How do I update the firmware?",
    "What does LED status mean?",
]


def _names_on_screen(app) -> list[str]:
    """The retrievers named as part of a spec: in a pane title ("bm25 + extractive") or
    a notice ("bm25+extractive"). The corpus itself mentions a "hybrid inverter"."""
    text = screen_text(app)
    return [
        name
        for name in ("bm25", "hybrid")
        if f"{name} + extractive" in text or f"{name}+extractive" in text
    ]


async def test_blind_mode_hides_specs_until_the_vote_and_stores_the_right_side(
    tmp_path: Path,
) -> None:
    # The draw is scripted (0.5 and above swaps the panes), so each pipeline certainly
    # comes to the left and back: swapped, kept, swapped, kept.
    coin = ScriptedCoin(0.9, 0.1, 0.6, 0.3)
    expected_left = [SPECS[1], SPECS[1], SPECS[0], SPECS[0]]
    expected_draws = ["swapped", "kept", "swapped", "kept"]
    app = new_app(tmp_path, *SPECS, blind=True, side_random=coin)
    lefts, draws = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.session
        for number, query in enumerate(QUERIES[: len(expected_left)]):
            await ask(pilot, query)
            await pilot.pause(0.1)
            assert _names_on_screen(app) == [], f"a spec is on screen before vote {number}"
            assert " 1 " in screen_text(app) and "pipeline hidden" in screen_text(app)
            left_spec, right_spec = session.panes["a"].spec, session.panes["b"].spec
            left_answer = session.panes["a"].run.answer
            await pilot.press("a")  # the left answer is better
            await wait_for(pilot, lambda n=number: len(session.votes) == n + 1)
            await pilot.pause(0.1)
            # Both names are revealed right after the vote.
            assert _names_on_screen(app) == ["bm25", "hybrid"]
            vote = session.votes[-1]
            assert vote.blind
            assert vote.choice == "a" and vote.pipeline_a == left_spec
            assert vote.pipeline_b == right_spec and vote.answer_a == left_answer
            lefts.append(vote.pipeline_a)
            draws.append(vote.draw)
        assert lefts == expected_left and draws == expected_draws
        assert coin.values == []  # one draw per query, no more

        await pilot.press("ctrl+b")  # blind off: the next query shows its specs
        await ask(pilot, QUERIES[len(lefts)])  # a new query, not the last asked
        await pilot.pause(0.1)
        assert _names_on_screen(app) == ["bm25", "hybrid"]
        await pilot.press("b")
        await wait_for(pilot, lambda: len(session.votes) == len(lefts) + 1)
        assert not session.votes[-1].blind and session.votes[-1].draw is None

        await pilot.press("v")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert f"Blind votes: {len(lefts)}" in text and "Sighted votes: 1" in text
        assert f"left answer won 100% of {len(lefts)} decided votes" in text

    stored = JudgmentStore(app.session.store.folder).votes()
    assert [vote.blind for vote in stored] == [True] * len(lefts) + [False]
    assert [vote.pipeline_a for vote in stored[: len(lefts)]] == expected_left


async def test_the_judge_key_without_a_judge_says_how_to_get_one(tmp_path: Path) -> None:
    app = new_app(tmp_path, *SPECS)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERIES[0])
        await pilot.press("J")
        await wait_for(pilot, lambda: any("--judge SPEC" in n.message for n in app._notifications))
        assert not app.pane("a").query_one("#judge").display
        assert app.session.votes == []


async def test_the_judge_key_shows_both_orders_and_records_no_vote(
    tmp_path: Path, scripted_openai: str, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAGTUI_CACHE_DIR", str(tmp_path / "cache"))
    app = new_app(tmp_path, *SPECS, blind=True, judge="openai:judge-first")
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, QUERIES[0])
        await pilot.press("J")
        lines = [app.pane(key).query_one("#judge") for key in ("a", "b")]
        await wait_for(pilot, lambda: all("judge:" in str(line.render()) for line in lines))
        await pilot.pause(0.1)
        for line in lines:
            # judge-first always prefers the answer shown first: a tie by the swap rule.
            shown = str(line.render())
            assert "tie (its verdict followed the position)" in shown
            assert "left shown first: 1; right shown first: 1" in shown
            # No votes yet: the line says the judge is not checked against them.
            assert "judge not checked against your votes (you have cast none" in shown
        assert "judge: tie" in screen_text(app)  # under the answers, on screen
        assert _names_on_screen(app) == []  # nothing revealed
        assert app.session.votes == []
