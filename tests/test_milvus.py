"""Milvus as a retrieval engine: loading a corpus, searching it, and every way it can fail.

Searches go to `milvus-lite server` on a free 127.0.0.1 port (the gRPC path a Milvus
cluster serves) or to a Milvus Lite file (the default with no server).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ragtui.config.backends import BackendSettings
from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.errors import RagtuiError
from ragtui.index.bm25_index import K1
from ragtui.index.cache import Indexes
from ragtui.retrieval import make_retriever
from ragtui.retrieval.milvus import collection as coll
from ragtui.retrieval.milvus import loading
from ragtui.retrieval.milvus.connection import connect, forget_clients
from ragtui.retrieval.milvus.loading import load_corpus_into_milvus
from tests.cli_runner import ragtui
from tests.servers.processes import free_port, milvus_lite_server, milvus_token_server

MODEL = "all-MiniLM-L6-v2"
QUERIES = [
    "How heavy is the HB-15?",
    "What does error E-305 mean?",
    "Can the battery be installed outdoors?",
    "how loud is the fan",
]


@pytest.fixture(autouse=True)
def _fresh_clients():
    yield
    forget_clients()


def _open(corpus_root: Path) -> Indexes:
    return Indexes(load_corpus(corpus_root, ChunkingSettings()))


def _loaded(corpus_root: Path, backends: BackendSettings) -> Indexes:
    indexes = _open(corpus_root)
    load_corpus_into_milvus(indexes, backends, MODEL)
    return indexes


def test_searches_through_the_grpc_server_map_back_to_the_corpus(
    corpus_copy: Path, milvus_server: str
) -> None:
    backends = BackendSettings(milvus_uri=milvus_server)
    indexes = _open(corpus_copy)
    report = load_corpus_into_milvus(indexes, backends, MODEL)
    passages = indexes.corpus.passages
    assert (report.inserted, report.updated, report.deleted) == (len(passages), 0, 0)
    assert report.uri == milvus_server
    assert f"{report.collection} at {milvus_server} created: " in report.summary()

    dense = make_retriever("dense", indexes, backends)
    bm25 = make_retriever("bm25", indexes, backends)
    engines = {mode: make_retriever(mode, indexes, backends) for mode in ("milvus", "milvus:bm25")}
    hybrid = make_retriever("milvus:hybrid", indexes, backends)
    for query in QUERIES:
        # Same vectors, and a corpus small enough that HNSW is exact: the same ranking.
        served = engines["milvus"].search(query, 5)
        local = dense.search(query, 5)
        assert [hit.passage_id for hit in served.hits] == [hit.passage_id for hit in local.hits]
        assert [hit.score for hit in served.hits] == pytest.approx(
            [hit.score for hit in local.hits], abs=1e-4
        )
        assert served.engine == "milvus" and served.engine_ms is not None and served.encode_ms > 0
        # The same tokenizer, k1 and b as ragtui's BM25 over one segment: the same scores
        # but for the textbook (k1 + 1) factor, which Milvus keeps and Lucene drops.
        served = engines["milvus:bm25"].search(query, 5)
        local = bm25.search(query, 5)
        assert [hit.passage_id for hit in served.hits] == [hit.passage_id for hit in local.hits]
        assert [hit.score for hit in served.hits] == pytest.approx(
            [hit.score * (K1 + 1) for hit in local.hits], rel=1e-3
        )
        assert served.encoder is None and served.encode_ms == 0.0
        fused = hybrid.search(query, 5)
        assert len(fused.hits) == 5 and fused.engine_ms is not None
        for hit in fused.hits:
            passage = passages[indexes.corpus.passage_index[hit.passage_id]]
            assert (hit.text, hit.doc_id, hit.source, hit.start, hit.end) == (
                passage.text,
                passage.doc_id,
                passage.source,
                passage.start,
                passage.end,
            )
    assert "milvus" in served.time_breakdown() and "engine_ms" in fused.to_json()


def _edit(root: Path) -> None:
    noise = root / "noise.txt"
    noise.write_text(noise.read_text() + "\n\nThe fan stops entirely below 25 °C.\n")
    (root / "glossary.md").unlink()
    (root / "warranty-extension.txt").write_text("A quokka extension adds 15 years.\n")


def test_a_reload_after_edits_writes_only_the_changed_passages(
    corpus_copy: Path, tmp_path: Path
) -> None:
    backends = BackendSettings(milvus_uri=str(tmp_path / "lite.db"))
    before = _loaded(corpus_copy, backends).corpus
    _edit(corpus_copy)
    indexes = _open(corpus_copy)
    after = indexes.corpus
    old = {p.passage_id: p.content_hash for p in before.passages}
    new = {p.passage_id: p.content_hash for p in after.passages}
    expected = (
        len(new.keys() - old.keys()),
        sum(1 for pid in new.keys() & old.keys() if new[pid] != old[pid]),
        len(old.keys() - new.keys()),
        sum(1 for pid in new.keys() & old.keys() if new[pid] == old[pid]),
    )
    assert expected[0] and expected[1] and expected[2]  # the edit touches all three kinds

    report = load_corpus_into_milvus(indexes, backends, MODEL)
    assert (report.inserted, report.updated, report.deleted, report.unchanged) == expected
    assert not report.recreated
    again = load_corpus_into_milvus(indexes, backends, MODEL)
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)

    client = connect(backends)
    name = coll.collection_name(after, MODEL)
    assert loading.stored_hashes(client, name) == new
    hits = make_retriever("milvus:bm25", indexes, backends).search("quokka", 1)
    assert hits.hits[0].doc_id == "warranty-extension.txt"


def test_an_interrupted_load_resumes_where_it_stopped(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    backends = BackendSettings(milvus_uri=str(tmp_path / "lite.db"))
    indexes = _open(corpus_copy)
    total = len(indexes.corpus.passages)
    monkeypatch.setattr(loading, "WRITE_BATCH", 10)
    client = connect(backends)
    real_insert = client.insert
    calls = []

    def insert_then_die(name, rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user's Ctrl-C, between two batches
        return real_insert(name, rows)

    monkeypatch.setattr(client, "insert", insert_then_die)
    with pytest.raises(KeyboardInterrupt):
        load_corpus_into_milvus(indexes, backends, MODEL)
    monkeypatch.setattr(client, "insert", real_insert)

    # Until the load finishes, a search works and says the collection is behind.
    with caplog.at_level("WARNING", logger="ragtui"):
        make_retriever("milvus", indexes, backends)
    assert "does not hold this version" in caplog.text and "--to milvus" in caplog.text

    report = load_corpus_into_milvus(indexes, backends, MODEL)
    assert report.inserted == total - 20 and report.unchanged == 20
    caplog.clear()
    with caplog.at_level("WARNING", logger="ragtui"):
        make_retriever("milvus", indexes, backends)
    assert "does not hold this version" not in caplog.text


def test_a_forgotten_client_is_closed_and_the_next_one_connects_afresh(
    milvus_server: str,
) -> None:
    """pymilvus keeps shared channels in a process-wide registry; ragtui's are its own."""
    backends = BackendSettings(milvus_uri=milvus_server)
    first = connect(backends)
    handler = first._handler
    options = handler._grpc_options
    # No pings on an idle connection, none more often than a default gRPC server allows:
    # more would earn a GOAWAY "too_many_pings" that fails the next call.
    assert options["grpc.keepalive_permit_without_calls"] is False
    assert options["grpc.keepalive_time_ms"] >= 300_000
    forget_clients()
    assert handler._channel is None  # really closed, not left for the next client
    second = connect(backends)
    assert second._handler is not handler
    assert isinstance(second.list_collections(), list)


def test_one_unavailable_answer_on_connecting_is_retried() -> None:
    # A stand-in client: a GOAWAY at the moment of the first call cannot be provoked on
    # demand from a real server; what ragtui does with the UNAVAILABLE it causes can.
    from ragtui.retrieval.milvus import connection

    class GoneAwayOnce:
        calls = 0

        def list_collections(self) -> list[str]:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("<_InactiveRpcError: StatusCode.UNAVAILABLE, GOAWAY>")
            return []

    client = GoneAwayOnce()
    connection._first_round_trip(client)
    assert client.calls == 2

    class Refusing(GoneAwayOnce):
        def list_collections(self) -> list[str]:
            self.calls += 1
            raise RuntimeError("StatusCode.PERMISSION_DENIED")

    refusing = Refusing()
    with pytest.raises(RuntimeError, match="PERMISSION_DENIED"):
        connection._first_round_trip(refusing)
    assert refusing.calls == 1  # other failures are not retried


def test_server_down_names_the_uri_and_what_to_do(corpus_copy: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    indexes = _open(corpus_copy)
    with pytest.raises(RagtuiError, match="cannot be reached") as caught:
        make_retriever("milvus", indexes, BackendSettings(milvus_uri=uri))
    assert uri in str(caught.value) and "MILVUS_URI" in str(caught.value)


def test_cli_errors_are_one_line_without_traceback(corpus_copy: Path, tmp_path: Path) -> None:
    env = {
        "MILVUS_URI": f"http://127.0.0.1:{free_port()}",
        "MILVUS_TOKEN": "tok-CLI-SECRET-4411",
    }
    for command in (
        ["search", str(corpus_copy), "fan", "-r", "milvus"],
        ["index", str(corpus_copy), "--to", "milvus"],
    ):
        done = ragtui(*command, env=env)
        assert done.returncode == 1, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("ragtui: error")]
        assert len(errors) == 1 and "cannot be reached" in errors[0], done.stderr
        assert "Traceback" not in done.stderr and "tok-CLI-SECRET-4411" not in done.stderr


def test_missing_collection_names_the_command_that_creates_it(
    corpus_copy: Path, tmp_path: Path
) -> None:
    indexes = _open(corpus_copy)
    with pytest.raises(RagtuiError, match="has no collection") as caught:
        make_retriever("milvus:bm25", indexes, BackendSettings(milvus_uri=str(tmp_path / "x.db")))
    assert f"ragtui index {corpus_copy} --to milvus" in str(caught.value)


def test_the_missing_collection_hint_is_the_exact_command_that_fixes_it(
    corpus_copy: Path, tmp_path: Path
) -> None:
    env = {"MILVUS_URI": str(tmp_path / "hint.db")}
    chunking = ("--chunk-tokens", "100", "--chunk-overlap", "10")
    done = ragtui("search", str(corpus_copy), "fan", "-r", "milvus", *chunking, env=env)
    assert done.returncode == 1
    command = done.stderr.split("`")[1] if "`" in done.stderr else done.stderr
    assert f"ragtui index {corpus_copy} --to milvus --chunk-tokens 100 --chunk-overlap 10" in (
        done.stderr
    ), command
    # Running the named command makes the same search work.
    index = ragtui("index", str(corpus_copy), "--to", "milvus", *chunking, env=env)
    assert index.returncode == 0, index.stderr
    again = ragtui("search", str(corpus_copy), "fan", "-r", "milvus", *chunking, env=env)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("dimension", "model", "message"),
    [
        (8, None, "holds 8-dimensional vectors but all-MiniLM-L6-v2 makes 384"),
        (384, "some-other-model", "built with another model (some-other-model)"),
    ],
)
def test_a_collection_of_another_shape_or_model_is_refused(
    corpus_copy: Path, tmp_path: Path, dimension: int, model: str | None, message: str
) -> None:
    backends = BackendSettings(milvus_uri=str(tmp_path / "x.db"))
    indexes = _open(corpus_copy)
    identity = model or indexes.encoder(MODEL).identity
    name = coll.collection_name(indexes.corpus, MODEL)
    coll.create(connect(backends), name, indexes.corpus, identity, dimension)
    with pytest.raises(RagtuiError, match="rebuild it with") as caught:
        make_retriever("milvus", indexes, backends)
    assert message in str(caught.value)
    # Loading again re-creates the collection for this model, and then it serves.
    report = load_corpus_into_milvus(indexes, backends, MODEL)
    assert report.recreated and report.inserted == len(indexes.corpus.passages)
    assert make_retriever("milvus", indexes, backends).search("fan noise", 3).hits


def test_text_is_lower_cased_and_an_older_schema_is_refused_then_rebuilt(
    corpus_copy: Path, tmp_path: Path
) -> None:
    """ragtui's BM25 folds case; the collection's analyzer must say so itself (Milvus's
    standard tokenizer alone does not lower-case, by its documentation). A collection of
    the older layout is refused with the command that rebuilds it, and a load rebuilds it."""
    (corpus_copy / "upper.txt").write_text("THE QUOKKA GRID OUTAGE LASTED NINE HOURS.\n")
    backends = BackendSettings(milvus_uri=str(tmp_path / "x.db"))
    indexes = _loaded(corpus_copy, backends)
    client = connect(backends)
    name = coll.collection_name(indexes.corpus, MODEL)
    text = next(f for f in client.describe_collection(name)["fields"] if f["name"] == "text")
    assert json.loads(text["params"]["analyzer_params"]) == coll.TEXT_ANALYZER
    assert "lowercase" in coll.TEXT_ANALYZER["filter"]
    hits = make_retriever("milvus:bm25", indexes, backends).search("quokka outage", 3).hits
    assert hits and hits[0].doc_id == "upper.txt"

    client.alter_collection_properties(name, {coll.PROP_SCHEMA: "1"})
    forget_clients()
    with pytest.raises(RagtuiError, match="schema 1, this one reads") as caught:
        make_retriever("milvus:bm25", indexes, backends).search("quokka outage", 3)
    assert coll.index_command(indexes.corpus) in str(caught.value)
    report = load_corpus_into_milvus(indexes, backends, MODEL)
    assert report.recreated and report.inserted == len(indexes.corpus.passages)
    assert make_retriever("milvus:bm25", indexes, backends).search("quokka outage", 3).hits

    # A later ragtui's collection is neither read nor dropped.
    connect(backends).alter_collection_properties(name, {coll.PROP_SCHEMA: "99"})
    forget_clients()
    with pytest.raises(RagtuiError, match="upgrade ragtui"):
        make_retriever("milvus:bm25", indexes, backends).search("quokka outage", 3)
    with pytest.raises(RagtuiError, match="made by a newer ragtui"):
        load_corpus_into_milvus(indexes, backends, MODEL)
    assert connect(backends).has_collection(name)


def test_a_wrong_token_is_refused_without_showing_it(corpus_copy: Path, tmp_path: Path) -> None:
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    with milvus_token_server(tmp_path / "auth", port, "root:Right-Token-1"):
        indexes = _loaded(
            corpus_copy, BackendSettings(milvus_uri=uri, milvus_token="root:Right-Token-1")
        )
        assert (
            make_retriever(
                "milvus:bm25",
                indexes,
                BackendSettings(milvus_uri=uri, milvus_token="root:Right-Token-1"),
            )
            .search("fan", 2)
            .hits
        )
        wrong = BackendSettings(milvus_uri=uri, milvus_token="root:Wrong-Token-2")
        with pytest.raises(RagtuiError, match="refused the credentials") as caught:
            make_retriever("milvus", indexes, wrong)
        assert "MILVUS_TOKEN" in str(caught.value) and "Wrong-Token-2" not in str(caught.value)
        assert "Wrong-Token-2" not in repr(wrong)


def test_a_locked_lite_file_says_who_holds_it(corpus_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "held.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pymilvus; c = pymilvus.MilvusClient(sys.argv[1]);"
            " print('held', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RagtuiError, match="in use by another process") as caught:
            make_retriever("milvus", _open(corpus_copy), BackendSettings(milvus_uri=str(db)))
        assert "milvus-lite server --data-dir" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()


async def test_a_server_that_dies_fails_only_its_own_pane(
    corpus_copy: Path, tmp_path: Path
) -> None:
    from ragtui.config.settings_file import Settings
    from tests.session_helpers import answered, open_session, wait_until

    port = free_port()
    settings = Settings(backends=BackendSettings(milvus_uri=f"http://127.0.0.1:{port}"))
    async with open_session(
        tmp_path / "data",
        "milvus+extractive",
        "bm25+extractive",
        corpus=corpus_copy,
        settings=settings,
    ) as (session, _):
        # No server at all: pane A says so, pane B answers.
        session.ask("How heavy is the HB-15?")
        await wait_until(lambda: session.panes["a"].error is not None and answered_b(session))
        assert "cannot be reached" in session.panes["a"].error
        with milvus_lite_server(tmp_path / "server", port):
            _loaded(corpus_copy, settings.backends)
            session.set_component("a", "retriever", "milvus")
            await wait_until(lambda: session.panes["a"].pipeline is not None)
            session.ask("How heavy is the HB-15?")
            await wait_until(lambda: answered(session))
            assert session.panes["a"].run.error is None
            assert session.panes["a"].run.result.engine == "milvus"
        # The server went away mid-session: the next search fails in pane A only.
        session.ask("What does error E-305 mean?")
        await wait_until(lambda: answered(session), timeout_s=120)
        assert "milvus at" in session.panes["a"].run.error
        assert session.panes["b"].run.error is None and session.panes["b"].run.answer


def answered_b(session) -> bool:
    run = session.panes["b"].run
    return run is not None and run.done


async def test_the_retriever_picker_offers_milvus_and_the_pane_shows_the_engine_time(
    tmp_path: Path,
) -> None:
    from textual.widgets import OptionList

    from ragtui.config.settings_file import Settings
    from tests.conftest import SAMPLE_CORPUS
    from tests.tui.helpers import answered, ask, new_app, wait_for

    backends = BackendSettings(milvus_uri=str(tmp_path / "lite.db"))
    _loaded(SAMPLE_CORPUS, backends)
    app = new_app(tmp_path / "data", settings=Settings(backends=backends))
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, "How heavy is the HB-15?")
        await pilot.press("r")  # pane A's retriever
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ComponentPicker")
        options = app.screen.query_one(OptionList)
        specs = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
        assert {"milvus", "milvus:bm25", "milvus:hybrid"} <= set(specs), specs
        options.highlighted = specs.index("milvus:hybrid")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.panes["a"].spec == "milvus:hybrid+extractive")
        await wait_for(pilot, lambda: answered(app) and app.pane("a").hits)
        run = app.session.panes["a"].run
        assert run.result.engine == "milvus" and run.error is None
        assert run.stats.engine == "milvus" and run.stats.engine_ms > 0
        stats_line = str(app.pane("a").query_one("#stats").render())
        # the query's encoding, then the engine's own time
        pattern = r"retrieval [\d.,]+ ms \(onnx fp32 [\d.,]+ ms, milvus [\d.,]+ ms\)"
        assert re.search(pattern, stats_line), stats_line
