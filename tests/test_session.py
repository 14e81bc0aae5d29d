"""The comparison session on its own: no Textual, real retrievers and generators."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ragtui.compare.events import (
    AnswerDelta,
    HitsRetrieved,
    Notice,
    PaneSpecChanged,
    PaneStatus,
    QueryRestored,
    RunEnded,
    RunStarted,
)
from ragtui.compare.session import SessionError
from ragtui.judging.store import JudgmentStore
from tests.conftest import REPO
from tests.session_helpers import ScriptedCoin, answered, open_session, wait_until

QUERY = "How heavy is the HB-15?"
LONG_QUERY = "Explain every error code in detail"


def test_the_session_never_imports_textual() -> None:
    script = f"""
import asyncio, sys, tempfile
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from tests.session_helpers import answered, open_session, wait_until

async def main():
    async with open_session(Path(tempfile.mkdtemp())) as (session, seen):
        session.ask({QUERY!r})
        await wait_until(lambda: answered(session))
        await session.vote("tie")
        assert session.panes["a"].run.answer
asyncio.run(main())
print("textual" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"], done.stdout


async def test_a_query_runs_on_both_panes_with_tagged_events(tmp_path: Path) -> None:
    async with open_session(tmp_path) as (session, seen):
        assert session.ask(QUERY)
        await wait_until(lambda: answered(session))
        await wait_until(lambda: sum(isinstance(e, RunEnded) for e in seen) == 2)
        for key in ("a", "b"):
            run = session.panes[key].run
            assert run.result is not None and len(run.result.hits) == 5
            assert run.answer and run.stats.timing_mode == "fair"
            mine = [e for e in seen if getattr(e, "pane", None) == key and hasattr(e, "run_id")]
            assert {e.run_id for e in mine if e.run_id} == {run.run_id}
            kinds = [type(e) for e in mine if e.run_id]
            assert kinds[0] is RunStarted and kinds[-1] is RunEnded and HitsRetrieved in kinds
    records = JudgmentStore(session.store.folder).runs()
    assert {(r.pane, r.run_id) for r in records} == {
        (key, session.panes[key].run.run_id) for key in ("a", "b")
    }
    assert all(hit["text_sha256"] for r in records for hit in r.hits)


async def test_events_of_a_superseded_run_are_dropped(tmp_path: Path) -> None:
    async with open_session(
        tmp_path, spec_a="bm25+llamacpp:smollm2", spec_b="bm25+extractive", max_tokens=60
    ) as (session, seen):
        session.ask(LONG_QUERY)
        await wait_until(lambda: any(isinstance(e, AnswerDelta) for e in seen), 120)
        first = session.panes["a"].run.run_id
        session.ask(QUERY)
        second = session.panes["a"].run.run_id
        seen_at_switch = len(seen)
        await wait_until(lambda: answered(session), 120)
        current = {pane.run.run_id for pane in session.panes.values()}
        await wait_until(lambda: {e.run_id for e in seen if isinstance(e, RunEnded)} >= current)
        later = [e for e in seen[seen_at_switch:] if getattr(e, "run_id", None)]
        assert first != second
        assert all(e.run_id != first for e in later if e.pane == "a")
        assert not any(isinstance(e, RunEnded) and e.run_id == first for e in seen)


async def test_a_swap_mid_stream_voids_the_answer_and_the_vote_follows_the_new_run(
    tmp_path: Path,
) -> None:
    async with open_session(
        tmp_path, spec_a="bm25+extractive", spec_b="bm25+llamacpp:smollm2", max_tokens=60
    ) as (session, seen):
        session.ask(LONG_QUERY)
        await wait_until(lambda: bool(session.panes["b"].run.answer), 120)
        old = session.panes["b"].run
        session.set_component("b", "generator", "extractive")
        assert session.panes["b"].run is None
        with pytest.raises(SessionError, match="has no answer"):
            await session.vote("b")
        await wait_until(lambda: any(isinstance(e, PaneSpecChanged) for e in seen))
        await wait_until(lambda: answered(session), 120)
        new = session.panes["b"].run
        assert new.run_id != old.run_id and new.spec == "bm25+extractive"
        vote = await session.vote("b")
        assert (vote.pipeline_b, vote.answer_b, vote.run_id_b) == (
            "bm25+extractive",
            new.answer,
            new.run_id,
        )
        assert vote.answer_b != old.answer
        # nothing the old generator streamed after the swap reached the face
        assert not any(
            isinstance(e, AnswerDelta | RunEnded) and e.run_id == old.run_id
            for e in seen[seen.index(next(e for e in seen if isinstance(e, PaneSpecChanged))) :]
        )


async def test_two_quick_swaps_the_newest_wins(tmp_path: Path) -> None:
    async with open_session(tmp_path) as (session, _seen):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        # The older build (dense) is held until the newer one (bm25) is in and has
        # answered, so it certainly finishes last; it must not be installed.
        release = threading.Event()
        build = session._make_pipeline

        def held_build(text: str):
            if text.startswith("dense"):
                release.wait(60)
            return build(text)

        session._make_pipeline = held_build
        session.set_component("a", "retriever", "dense")
        session.set_component("a", "retriever", "bm25")
        pane = session.panes["a"]
        await wait_until(lambda: pane.pipeline is not None and answered(session), 120)
        assert str(pane.pipeline.spec) == "bm25+extractive"
        release.set()
        await wait_until(lambda: all(t.done() for t in list(session._tasks)), 120)
        pane = session.panes["a"]
        assert pane.spec == "bm25+extractive"
        assert str(pane.pipeline.spec) == "bm25+extractive"
        assert pane.run.spec == "bm25+extractive" and pane.run.result.retriever == "bm25"


async def test_toggling_timing_mid_run_keeps_the_runs_mode(tmp_path: Path) -> None:
    async with open_session(
        tmp_path, spec_a="bm25+llamacpp:smollm2", spec_b="bm25+extractive", max_tokens=40
    ) as (session, _seen):
        session.ask(LONG_QUERY)
        await wait_until(lambda: bool(session.panes["a"].run.answer), 120)
        assert session.toggle_timing() == "concurrent"
        await wait_until(lambda: answered(session), 120)
        assert session.panes["a"].run.stats.timing_mode == "fair"
        session.rerun()
        await wait_until(lambda: answered(session), 120)
        assert session.panes["a"].run.stats.timing_mode == "concurrent"
        vote = await session.vote("tie")
        assert vote.timing_a == "concurrent"


async def test_a_write_queued_when_the_session_closes_still_happens(tmp_path: Path) -> None:
    """close() cancels every task; a run whose record waited behind the other pane's write
    lost it (seen once in CI as a pane not restored). The store's writes are real, on the
    session's own store thread; only their length is stretched."""
    written: list[str] = []

    def slow_write(tag: str) -> None:
        time.sleep(0.3)
        written.append(tag)

    async with open_session(tmp_path) as (session, _seen):
        first = asyncio.create_task(session._on_disk(slow_write, "first"))
        queued = asyncio.create_task(session._on_disk(slow_write, "queued"))
        await asyncio.sleep(0.05)
        queued.cancel()  # as close() cancels the run waiting for its record to be written
    assert written == ["first", "queued"]
    assert first.done()


async def test_the_last_session_comes_back(tmp_path: Path) -> None:
    async with open_session(tmp_path) as (session, _seen):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        answers = {key: pane.run.answer for key, pane in session.panes.items()}
        ids = {key: pane.run.run_id for key, pane in session.panes.items()}
    async with open_session(tmp_path) as (restored, seen):
        assert restored.query == QUERY and restored.query_id == "q05"
        assert any(isinstance(e, QueryRestored) and e.query == QUERY for e in seen)
        for key in ("a", "b"):
            run = restored.panes[key].run
            assert run.restored and run.answer == answers[key] and run.run_id == ids[key]
        vote = await restored.vote("a")  # the restored answers are the shown pipelines'
        assert vote.run_id_a == ids["a"]
    # A pane whose pipeline changed since runs the restored query with its new pipeline.
    async with open_session(tmp_path, spec_b="bm25+extractive") as (changed, seen):
        assert changed.query == QUERY
        assert any(isinstance(e, QueryRestored) and e.query == QUERY for e in seen)
        assert changed.panes["a"].run.restored
        await wait_until(lambda: answered(changed))
        fresh = changed.panes["b"].run
        assert not fresh.restored and fresh.spec == "bm25+extractive" and fresh.answer
        # The restored pane is not left saying it loads (it used to, until ctrl+r).
        statuses = [e.text for e in seen if isinstance(e, PaneStatus) and e.pane == "a"]
        assert "loading pipeline…" not in statuses
    records = JudgmentStore.for_corpus(
        changed.corpus.root, changed.corpus.source_key, tmp_path
    ).runs()
    assert records and all(record.time > 1_600_000_000 for record in records)


async def test_an_answer_whose_passages_changed_is_not_restored(
    tmp_path: Path, corpus_copy: Path
) -> None:
    async with open_session(tmp_path, corpus=corpus_copy) as (session, _seen):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        first_hit = session.panes["a"].run.result.hits[0]
    document = corpus_copy / first_hit.source
    text = document.read_text()
    assert text[first_hit.start : first_hit.end] == first_hit.text
    # An edit inside the passage the answer cites as [1].
    document.write_text(text[: first_hit.end] + " (Edited since.)" + text[first_hit.end :])
    async with open_session(tmp_path, corpus=corpus_copy) as (reopened, _seen):
        assert reopened.query == QUERY
        await wait_until(lambda: answered(reopened))
        run = reopened.panes["a"].run
        # Its [n] would have pointed at other text: the query ran again instead.
        assert not run.restored
        assert [hit.passage_id for hit in run.result.hits]


async def test_dataset_queries_show_the_datasets_judgments(tmp_path: Path) -> None:
    async with open_session(tmp_path) as (session, _seen):
        queries = {query.query_id: query for query in session.dataset_queries()}
        assert len(queries) == 34 and queries["q05"].judgments >= 1
        session.ask(queries["q05"].text)
        await wait_until(lambda: answered(session))
        judgments = session.judgments("a")
        assert judgments.source == "dataset judgments"
        assert "nDCG@5" in judgments.figures
        assert {mark.source for mark in judgments.marks.values()} == {"dataset"}
        hit = session.panes["a"].run.result.hits[0]
        await session.grade("a", hit.passage_id, 1)
        mine = session.judgments("a")
        assert mine.source == "your grades" and mine.marks[hit.passage_id].source == "yours"


def _write_legacy_files(folder: Path, passage_id: str, doc_id: str) -> None:
    """Records exactly as ragtui wrote them before labels had anchors and votes run ids."""
    folder.mkdir(parents=True, exist_ok=True)
    label = {
        "doc_id": doc_id,
        "grade": 2,
        "passage_id": passage_id,
        "query": QUERY,
        "query_id": "q05",
        "time": 1764000000.0,
    }
    vote = {
        "answer_a": "142 kg.",
        "answer_b": "About 140 kg.",
        "choice": "a",
        "pipeline_a": "bm25+extractive",
        "pipeline_b": "hybrid+extractive",
        "query": QUERY,
        "query_id": "q05",
        "stats_a": None,
        "stats_b": None,
        "time": 1764000001.0,
    }
    run = {
        "answer": "142 kg.",
        "error": None,
        "hits": [{"passage_id": passage_id, "rank": 1, "score": 3.2}],
        "pane": "a",
        "pipeline": "bm25+extractive",
        "query": QUERY,
        "query_id": "q05",
        "resolved": "bm25+extractive",
        "stats": None,
        "time": 1764000000.5,
    }
    for name, record in (("labels", label), ("votes", vote), ("runs", run)):
        (folder / f"{name}.jsonl").write_text(json.dumps(record, sort_keys=True) + "\n")


async def test_files_written_by_the_previous_version_still_load(tmp_path: Path) -> None:
    from ragtui.corpus import load_corpus

    corpus = load_corpus(REPO / "sample_corpus")
    passage = next(p for p in corpus.passages if p.doc_id == "hb15-model.md")
    folder = JudgmentStore.for_corpus(corpus.root, corpus.source_key, tmp_path).folder
    _write_legacy_files(folder, passage.passage_id, passage.doc_id)
    async with open_session(tmp_path) as (session, _seen):
        assert session.resolved.grades == {"q05": {passage.passage_id: 2}}
        assert session.resolved.unverified == 1
        assert len(session.votes) == 1 and session.votes[0].run_id_a is None
        assert session.query == QUERY
        assert session.panes["a"].run.restored and session.panes["a"].run.answer == "142 kg."
        assert session.win_table()[0].votes == 1


async def test_start_up_says_what_it_is_doing(tmp_path: Path) -> None:
    from ragtui.compare.events import LoadStage

    async with open_session(
        tmp_path / "data", spec_b="dense+extractive", cache_root=tmp_path / "cache"
    ) as (session, seen):
        await wait_until(lambda: session.ready)
        await wait_until(lambda: any(type(e).__name__ == "SessionReady" for e in seen))
        stages = [e.text for e in seen if isinstance(e, LoadStage)]
    joined = "\n".join(stages)
    assert stages[0].startswith("reading the corpus")
    for step in ("building the BM25 index over 42 passages", "embedding 42 passages"):
        assert step in joined, stages
    counted = [e for e in seen if isinstance(e, LoadStage) and e.total is not None]
    assert counted and counted[-1].done == counted[-1].total == 42


async def test_a_vote_needs_two_answers(tmp_path: Path) -> None:
    async with open_session(tmp_path, spec_b="bm25+foo:bar") as (session, _seen):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        assert session.panes["b"].run.error
        with pytest.raises(SessionError, match=r"Pane B has no answer .*a vote needs two answers"):
            await session.vote("a")
        assert session.votes == []
        assert not (session.store.folder / "votes.jsonl").exists()


async def test_a_vote_is_blind_only_when_the_draw_was_applied_to_the_panes(
    tmp_path: Path,
) -> None:
    # The coin is scripted: 0.9 swaps the panes, 0.2 keeps them; a third draw would fail.
    coin = ScriptedCoin(0.9, 0.2)
    async with open_session(tmp_path, blind=True, side_random=coin) as (session, seen):
        session.ask(QUERY)
        await wait_until(lambda: answered(session))
        assert session.panes["a"].spec == "hybrid+extractive"  # swapped to the left
        vote = await session.vote("a")
        assert (vote.blind, vote.draw, vote.pipeline_a) == (True, "swapped", "hybrid+extractive")

        session.ask("What does error E104 mean?")
        await wait_until(lambda: answered(session))
        vote = await session.vote("b")
        assert (vote.blind, vote.draw, vote.pipeline_a) == (True, "kept", "hybrid+extractive")

        # Pane B is being built again (its generator was just picked) when the next query
        # is asked: no draw is made, the user sees the order they set up, the vote is sighted.
        session.set_component("b", "generator", "extractive")
        session.ask("How long is the warranty?")
        assert session.draw == "" and not session.panes["b"].built.is_set()
        await wait_until(lambda: answered(session))
        vote = await session.vote("tie")
        assert (vote.blind, vote.draw) == (False, None)
        assert any(
            isinstance(event, Notice) and "pane B is still being built" in event.text
            for event in seen
        )
        assert coin.values == []
    stored = JudgmentStore(session.store.folder).votes()
    assert [(vote.blind, vote.draw) for vote in stored] == [
        (True, "swapped"),
        (True, "kept"),
        (False, None),
    ]
