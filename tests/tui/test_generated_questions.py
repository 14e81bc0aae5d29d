"""Generated questions in the app: listed in the query picker beside the corpus's own,
judged by their source passage (hollow marks and live figures), and accepted or rejected
from the keyboard — which changes what ``ragtui eval --testset`` scores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ragtui.cli import main
from ragtui.testsets.store import read_testset
from tests.test_testsets import make_corpus
from tests.tui.helpers import answered, ask, new_app, wait_for


@pytest.fixture
def corpus_with_a_set(
    scripted_openai: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{scripted_openai}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    data = tmp_path / "data"
    monkeypatch.setenv("RAGTUI_DATA_DIR", str(data))
    corpus = make_corpus(tmp_path / "corpus", ["valve", "pump", "generic"])
    made = main(["testset", str(corpus), "--generator", "openai:qgen", "-n", "3", "--name", "s"])
    assert made == 0
    return corpus, data


async def test_a_generated_question_is_picked_judged_and_reviewed(
    corpus_with_a_set: tuple[Path, Path], tmp_path: Path
) -> None:
    corpus, data = corpus_with_a_set
    folder = next(data.rglob("testsets/s"))
    kept = read_testset(folder).kept
    assert len(kept) == 2
    # Typing "zorblax" in the picker finds the valve question, wherever the seeded sample
    # put it in the set.
    (valve,) = [record for record in kept if "zorblax" in record["question"]]
    app = new_app(data, "bm25+extractive", "bm25+extractive", corpus=corpus)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.ready)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "QueryPicker")
        title = str(app.screen.query_one("#picker-title").render())
        assert "generated: 2" in title
        await pilot.press(*"zorblax")
        await pilot.press("down")  # into the list: a and x review there
        await pilot.press("x")
        await pilot.pause(0.2)
        assert read_testset(folder).review == {valve["query_id"]: "rejected"}
        await pilot.press("enter")
        await wait_for(pilot, lambda: answered(app))
        await pilot.pause(0.1)
        assert app.session.query_id == valve["query_id"]
        pane = app.pane("a")
        source = valve["passage_id"]
        assert any(hit.passage_id == source for hit in pane.hits)
        assert pane.grade_shown(source) == 1  # the source passage, drawn hollow
        figures = str(pane.query_one("#figures").render())
        assert "source passage (test set s; not checked against your labels)" in figures
        assert "nDCG@" in figures

    out = tmp_path / "eval"
    args = ["eval", str(corpus), "--testset", "s", "--retrievers", "bm25"]
    # eval runs its own event loop: off this test's loop, in a thread.
    code = await asyncio.to_thread(main, [*args, "--generators", "extractive", "--out", str(out)])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["judged_queries"] == 1  # the rejected one is left out


async def test_source_figures_say_how_far_the_source_agrees_with_your_grades(
    corpus_with_a_set: tuple[Path, Path],
) -> None:
    """A generated question's figures rest on an automatic judgment (its source passage):
    they say whether your grades of the set's other questions have checked it."""
    corpus, data = corpus_with_a_set
    first, second = read_testset(next(data.rglob("testsets/s"))).kept
    app = new_app(data, "bm25+extractive", "bm25+extractive", corpus=corpus)

    def figures() -> str:
        return str(app.pane("a").query_one("#figures").render())

    async with app.run_test(size=(160, 40)) as pilot:
        await ask(pilot, second["question"])
        assert app.session.query_id == second["query_id"]
        assert "(test set s; not checked against your labels)" in figures()
        await ask(pilot, first["question"])
        session, pane = app.session, app.pane("a")
        assert app.focused is pane.passages and len(pane.hits) >= 2
        await pilot.press("2", "j", "0")  # the person grades two passages of the first
        await wait_for(pilot, lambda: len(session.resolved.grades.get(first["query_id"], {})) == 2)
        await pilot.pause(0.1)
        assert "your grades" in figures()
        await ask(pilot, second["question"])
        assert "(test set s; too few of your labels to tell (n = 2 pairs graded by both))" in (
            figures()
        )
