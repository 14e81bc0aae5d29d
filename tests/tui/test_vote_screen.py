"""The blind voting screen through Pilot: vote keys, skip, undo, resume; votes stored with the
run id, item id, inclusion probability and draw; no pipeline name, verdict or timing ever on
screen; answers shown as text, not markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ragtui.judging.store import JudgmentStore
from ragtui.judging.vote_queue import UNIFORM_DRAW, VoteItem, draw, queue_votes
from ragtui.judging.voting import VotingSession
from ragtui.tui.vote_app import VoteApp
from tests.tui.helpers import wait_for
from tests.tui.test_app import screen_text

PIPELINES = ("bm25+extractive", "dense:minilm+openai:gpt-x")
HIDDEN = re.compile(r"bm25|dense|minilm|extractive|openai|gpt|judge|verdict|\bms\b|cost|\$")


def _items() -> list[VoteItem]:
    return [
        VoteItem(
            query_id=f"q{number}",
            question=f"How long is warranty plan {number}?",
            first=PIPELINES[0],
            second=PIPELINES[1],
            # Markup in an answer stays text: [bold] is shown, not applied.
            answer_first=f"Plan {number} lasts [bold]{number + 1} years[/bold].",
            answer_second=f"Plan {number}: {number + 2} years or 6,000 cycles.",
            judge_outcome="a",
        )
        for number in range(6)
    ]


def _stored(store: JudgmentStore) -> list[dict]:
    return [json.loads(line) for line in store.votes_log.path.read_text().splitlines()]


async def test_keys_vote_skip_undo_and_nothing_names_a_pipeline(tmp_path: Path) -> None:
    items = _items()
    queue = draw(items, 4, seed=5, design=UNIFORM_DRAW)
    store = JudgmentStore(tmp_path / "store")
    session = VotingSession(queue, store)
    app = VoteApp(session, "corpus · " + queue.describe())
    async with app.run_test(size=(120, 30)) as pilot:
        text = screen_text(app)
        first = queue.queued[0]
        assert "item 1 of 4" in text and first.item.question in text
        assert "[bold]" in text  # the answer's markup shown as text
        assert not HIDDEN.search(text), HIDDEN.search(text)

        await pilot.press("a")  # left better
        await wait_for(pilot, lambda: session.position == 1)
        (record,) = _stored(store)
        assert record["queue_run"] == queue.run_id and record["queue_item"] == first.item.item_id
        assert record["inclusion"] == 4 / 6 and record["blind"] is True
        assert record["draw"] == ("swapped" if first.swapped else "kept")
        assert record["queue_draw"]["seed"] == 5 and record["queue_draw"]["design"] == "uniform"
        assert record["pipeline_a"] == first.left[0] and record["choice"] == "a"
        assert "saved: left better" in screen_text(app)

        await pilot.press("s")  # skip the second item
        await wait_for(pilot, lambda: session.position == 2)
        await pilot.press("u")  # undo the skip
        await wait_for(pilot, lambda: session.position == 1)
        await pilot.press("u")  # undo the vote: the first item again, its vote cleared
        await wait_for(pilot, lambda: session.position == 0)
        assert queue_votes(JudgmentStore(store.folder).votes(), queue.run_id) == {}
        await pilot.press("t", "x")  # tie on the first, both bad on the second
        await wait_for(pilot, lambda: session.position == 2)
        await pilot.press("s")  # the third skipped, the fourth voted, then the third again
        await pilot.press("b")
        await wait_for(pilot, lambda: session.position == 2)
        assert "1 skipped" not in screen_text(app)
        assert not HIDDEN.search(screen_text(app))
        await pilot.press("q")
    votes = queue_votes(JudgmentStore(store.folder).votes(), queue.run_id)
    choices = {vote.queue_item: vote.choice for vote in votes.values()}
    assert choices == {
        queue.queued[0].item.item_id: "tie",
        queue.queued[1].item.item_id: "both_bad",
        queue.queued[3].item.item_id: "b",
    }


async def test_a_new_session_resumes_and_never_asks_twice(tmp_path: Path) -> None:
    items = _items()
    queue = draw(items, 5, seed=1, design=UNIFORM_DRAW)
    store = JudgmentStore(tmp_path / "store")
    session = VotingSession(queue, store)
    app = VoteApp(session, "corpus")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a", "s", "b")
        await wait_for(pilot, lambda: session.position == 3)
        await pilot.press("q")
    # The same command again: the same draw, voted items not asked, the skipped one first.
    again = draw(items, 5, seed=1, design=UNIFORM_DRAW)
    assert again == queue
    resumed = VotingSession(again, JudgmentStore(store.folder))
    assert resumed.position == 1 and resumed.voted_before == 2
    asked = []
    app = VoteApp(resumed, "corpus")
    async with app.run_test(size=(100, 30)) as pilot:
        while not resumed.done:
            asked.append(resumed.position)
            await pilot.press("t")
            count = len(asked)
            await wait_for(pilot, lambda count=count: len(resumed.steps) == count)
        assert "all 5 drawn pairs voted" in screen_text(app)
    assert sorted(asked) == [1, 3, 4]
    # A larger budget with the same seed extends the draw: only the new items are asked.
    larger = VotingSession(draw(items, 6, seed=1, design=UNIFORM_DRAW), JudgmentStore(store.folder))
    assert larger.remaining == 1


async def test_the_grading_screen_stores_grades_of_drawn_answers(tmp_path: Path) -> None:
    from ragtui.judging.grade_queue import GradeItem, draw_answers, queue_grades
    from ragtui.judging.voting import GradingSession
    from ragtui.tui.vote_app import GradeApp

    items = [
        GradeItem(f"q{n}", f"Question {n}?", "Ten years.", PIPELINES[n % 2], f"Answer {n}.", 0.5)
        for n in range(6)
    ]
    queue = draw_answers(items, 4, seed=3, design="stratified")
    store = JudgmentStore(tmp_path / "store")
    session = GradingSession(queue, store)
    app = GradeApp(session, "corpus")
    async with app.run_test(size=(120, 30)) as pilot:
        text = screen_text(app)
        assert queue.queued[0].item.answer in text and "Ten years." in text
        assert not HIDDEN.search(text), HIDDEN.search(text)
        await pilot.press("4")
        await wait_for(pilot, lambda: session.position == 1)
        await pilot.press("u")
        await wait_for(pilot, lambda: session.position == 0)
        await pilot.press("2", "s", "5")
        await wait_for(pilot, lambda: len(session.steps) == 3)
        await pilot.press("q")
    grades = queue_grades(JudgmentStore(store.folder).answer_grades(), queue.run_id)
    assert {item: record["grade"] for item, record in grades.items()} == {
        queue.queued[0].item.item_id: 2,
        queue.queued[2].item.item_id: 5,
    }
    record = grades[queue.queued[0].item.item_id]
    assert record["inclusion"] == 2 / 3 and record["queue_draw"]["design"] == "stratified"
    resumed = GradingSession(queue, JudgmentStore(store.folder))
    assert resumed.position == 1 and resumed.remaining == 2


async def test_the_faithfulness_screen_shows_the_passages_and_asks_about_support(
    tmp_path: Path,
) -> None:
    from ragtui.judging.grade_queue import FAITHFULNESS, GradeItem, draw_answers, queue_grades
    from ragtui.judging.voting import GradingSession
    from ragtui.tui.vote_app import FaithfulnessGradeApp, grade_app

    items = [
        GradeItem(
            f"q{n}",
            f"Question {n}?",
            "",
            PIPELINES[n % 2],
            f"Answer {n}.",
            0.5,
            kind=FAITHFULNESS,
            # Markup in a passage stays text: [bold] is shown, not applied.
            passages=(f"Plan {n} lasts [bold]ten[/bold] years.", "Cycles: 6,000."),
        )
        for n in range(4)
    ]
    queue = draw_answers(items, 4, seed=3, design="uniform")
    store = JudgmentStore(tmp_path / "store")
    session = GradingSession(queue, store)
    app = grade_app(session, "corpus")
    assert isinstance(app, FaithfulnessGradeApp)
    async with app.run_test(size=(140, 34)) as pilot:
        text = screen_text(app)
        first = queue.queued[0].item
        assert first.answer in text and first.passages[0] in text and "[2] Cycles" in text
        assert "Is every claim of the answer supported by the passages?" in text
        assert "fully supported" in text  # the keys are named on the faithfulness scale
        assert not HIDDEN.search(text), HIDDEN.search(text)
        await pilot.press("4")
        await wait_for(pilot, lambda: session.position == 1)
        assert "grade 4 (mostly supported)" in screen_text(app)
        await pilot.press("q")
    grades = queue_grades(JudgmentStore(store.folder).answer_grades(), queue.run_id)
    (record,) = grades.values()
    assert record["kind"] == FAITHFULNESS and record["grade"] == 4
