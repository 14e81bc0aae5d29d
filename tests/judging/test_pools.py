"""Pools: each query's union of every retriever's top depth, stored with the set.

Real bm25 and dense indexes on the sample corpus (a folder: passages are judged), and a
tiny BEIR dataset whose documents span several passages (documents are judged, each once,
ranked by its best passage as eval scores them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.experiment.run.grid import GridPlan
from ragtui.index.cache import Indexes
from ragtui.judging.label_queue import QueueDesign, build_queue, graded_pairs
from ragtui.judging.pools import EVAL_SEARCH_DEPTH, POOL_FILE, extend_pool, pool_key, read_pool
from ragtui.judging.store import JudgmentStore
from ragtui.metrics import scores_by_unit, trec_order
from ragtui.retrieval import make_retriever
from ragtui.testsets.importing import import_testset, set_queries
from ragtui.testsets.store import find_testset
from tests.conftest import SAMPLE_CORPUS

QUESTIONS = (
    "What does error E-104 mean?\nHow long is the warranty?\nHow do I update the firmware?\n"
)


@pytest.fixture(scope="module")
def sample_retrievers():
    corpus = load_corpus(SAMPLE_CORPUS)
    indexes = Indexes(corpus)
    return corpus, {name: make_retriever(name, indexes) for name in ("bm25", "dense")}


def _imported(corpus, tmp_path: Path, name: str = "mine"):
    questions = tmp_path / "questions.txt"
    questions.write_text(QUESTIONS, encoding="utf-8")
    import_testset(corpus, questions, name, data_root=tmp_path / "data")
    return find_testset(
        str(tmp_path / "data" / "corpora" / _folder(tmp_path) / "testsets" / name),
        corpus.root,
        corpus.source_key,
    )


def _folder(tmp_path: Path) -> str:
    return next((tmp_path / "data" / "corpora").iterdir()).name


def _top(retriever, query: str, k: int) -> list[str]:
    return [hit.passage_id for hit in retriever.search(query, k).hits]


def test_the_pool_is_the_union_of_each_retrievers_top_depth(sample_retrievers, tmp_path) -> None:
    corpus, retrievers = sample_retrievers
    testset = _imported(corpus, tmp_path)
    queries = set_queries(testset)
    pool = extend_pool(testset.folder, corpus, "passage", queries, retrievers, depth=3)
    for query_id, text in queries.items():
        tops = {name: _top(retriever, text, 3) for name, retriever in retrievers.items()}
        assert set(pool.items[query_id]) == set(tops["bm25"]) | set(tops["dense"])
        for name, top in tops.items():
            for rank, passage_id in enumerate(top, start=1):
                item = pool.items[query_id][passage_id]
                assert item.placed[name] == rank
                passage = corpus.passages[corpus.passage_index[passage_id]]
                assert (item.doc_id, item.passage_id) == (passage.doc_id, passage.passage_id)
                assert (item.start, item.end) == (passage.start, passage.end)
                assert item.text_sha256 == passage.content_hash
    # Stored with the set, and read back the same.
    assert read_pool(testset.folder, "passage", pool_key(corpus)).items.keys() == pool.items.keys()


def test_a_larger_depth_or_another_retriever_extends_the_pool_and_loses_nothing(
    sample_retrievers, tmp_path
) -> None:
    corpus, retrievers = sample_retrievers
    testset = _imported(corpus, tmp_path)
    queries = set_queries(testset)
    first = extend_pool(testset.folder, corpus, "passage", queries, {"bm25": retrievers["bm25"]}, 2)
    before = (testset.folder / POOL_FILE).read_text()
    assert len(before.splitlines()) == len(queries)
    # A grade made on the first pool is kept through every extension.
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, tmp_path / "data")
    design = QueueDesign(("bm25",), 2, None, 0, False)
    graded = build_queue(first, corpus, queries, design).pairs[0]
    store.add_label(graded.label(3, corpus.chunking.key, "test"))

    wider = extend_pool(testset.folder, corpus, "passage", queries, retrievers, depth=5)
    after = (testset.folder / POOL_FILE).read_text()
    assert after.startswith(before)  # appended, never rewritten
    for query_id, items in first.items.items():
        for passage_id, item in items.items():
            assert wider.items[query_id][passage_id].placed["bm25"] == item.placed["bm25"]
    assert sum(map(len, wider.items.values())) > sum(map(len, first.items.values()))
    assert all("dense" in item.placed for item in wider.pairs(["dense"], 5))
    # The same call again searches nothing more.
    extend_pool(testset.folder, corpus, "passage", queries, retrievers, depth=5)
    assert (testset.folder / POOL_FILE).read_text() == after
    # And a smaller depth asks about a part of the pool without dropping the rest.
    extend_pool(testset.folder, corpus, "passage", queries, retrievers, depth=1)
    assert read_pool(testset.folder, "passage", pool_key(corpus)).items == wider.items

    queue = build_queue(wider, corpus, queries, QueueDesign(("bm25", "dense"), 5, None, 0, False))
    assert graded_pairs(store, queue) == {
        (graded.query_id, graded.judged.doc_id, graded.judged.start, graded.judged.end,
         graded.judged.text_sha256): 3
    }  # fmt: skip


def test_only_where_the_retrievers_differ(sample_retrievers, tmp_path) -> None:
    corpus, retrievers = sample_retrievers
    testset = _imported(corpus, tmp_path)
    queries = set_queries(testset)
    pool = extend_pool(testset.folder, corpus, "passage", queries, retrievers, depth=5)
    differing = {
        (i.query_id, i.judged_id) for i in pool.pairs(["bm25", "dense"], 5, only_differing=True)
    }
    expected = set()
    for query_id, text in queries.items():
        bm25, dense = (set(_top(retrievers[name], text, 5)) for name in ("bm25", "dense"))
        expected |= {(query_id, passage_id) for passage_id in bm25 ^ dense}
    assert differing == expected
    assert len(pool.pairs(["bm25", "dense"], 5)) > len(differing) > 0


def test_a_beir_pool_judges_documents_each_once(tmp_path: Path) -> None:
    beir = tmp_path / "beir"
    beir.mkdir()
    words = [
        "pump",
        "valve",
        "pressure",
        "seal",
        "flow",
        "line",
        "motor",
        "tank",
        "filter",
        "gauge",
    ]
    documents = []
    for number in range(6):
        # Each document is a few passages long, and "valve" fills document 0's passages.
        body = " ".join(words[(number + i) % len(words)] for i in range(40))
        if number == 0:
            body = " ".join(["valve pressure"] * 30)
        documents.append({"_id": f"d{number}", "title": "", "text": body})
    (beir / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in documents))
    (beir / "queries.jsonl").write_text('{"_id": "1", "text": "valve pressure"}\n')
    corpus = load_corpus(beir, ChunkingSettings(10, 2))
    assert corpus.kind == "beir" and len(corpus.passages) > 2 * len(corpus.documents)
    queries_file = tmp_path / "q.jsonl"
    queries_file.write_text('{"_id": "v1", "text": "valve pressure"}\n')
    import_testset(corpus, queries_file, "docs", data_root=tmp_path / "data")
    testset = find_testset(
        str(tmp_path / "data" / "corpora" / _folder(tmp_path) / "testsets" / "docs"),
        corpus.root,
        corpus.source_key,
    )
    assert testset.meta["judged_unit"] == "document"
    bm25 = make_retriever("bm25", Indexes(corpus, cache_root=tmp_path / "cache"))
    pool = extend_pool(testset.folder, corpus, "document", set_queries(testset), {"bm25": bm25}, 3)
    items = pool.items["v1"]
    # Three documents although document 0's passages alone fill bm25's top 3 passages.
    assert len(items) == 3 and set(items) <= {d.doc_id for d in corpus.documents}
    assert items["d0"].placed["bm25"] == 1
    document = next(d for d in corpus.documents if d.doc_id == "d0")
    assert items["d0"].passage_id is None
    assert (items["d0"].start, items["d0"].end) == (0, len(document.text))
    assert items["d0"].text_sha256 == document.content_hash
    assert sorted(item.placed["bm25"] for item in items.values()) == [1, 2, 3]


def test_a_damaged_pool_record_is_skipped_with_a_warning(
    sample_retrievers, tmp_path, caplog
) -> None:
    corpus, retrievers = sample_retrievers
    testset = _imported(corpus, tmp_path)
    queries = set_queries(testset)
    bm25 = {"bm25": retrievers["bm25"]}
    pool = extend_pool(testset.folder, corpus, "passage", queries, bm25, depth=2)
    query_id = next(iter(queries))
    with (testset.folder / POOL_FILE).open("a", encoding="utf-8") as handle:
        damaged = {"query_id": query_id, "retriever": "dense", "unit": "passage", "depth": 2}
        handle.write(json.dumps({**damaged, "ranked": [{"id": "x"}]}) + "\n")
    with caplog.at_level("WARNING", logger="ragtui"):
        assert read_pool(testset.folder, "passage", pool_key(corpus)).items == pool.items
    assert "1 damaged pool records skipped" in caplog.text
    # The search it stood for is run again.
    wider = extend_pool(testset.folder, corpus, "passage", queries, retrievers, depth=2)
    assert all(
        any("dense" in item.placed for item in items.values()) for items in wider.items.values()
    )


def test_searches_on_an_earlier_corpus_content_are_not_part_of_the_pool(
    corpus_copy: Path, tmp_path: Path
) -> None:
    """An edited file changes the corpus content: the pool is the searches made on the
    corpus as it is now; the earlier ones stay on disk and are not merged into it."""
    corpus = load_corpus(corpus_copy, cache_root=tmp_path / "cache")
    testset = _imported(corpus, tmp_path)
    queries = set_queries(testset)
    query_id = next(q for q, text in queries.items() if "warranty" in text)

    def bm25_of(loaded):
        return {"bm25": make_retriever("bm25", Indexes(loaded, cache_root=tmp_path / "cache"))}

    before = extend_pool(testset.folder, corpus, "passage", queries, bm25_of(corpus), depth=3)
    first = min(before.items[query_id].values(), key=lambda item: item.placed["bm25"])
    # The document bm25 placed first now holds other text.
    (corpus_copy / first.doc_id).write_text("Zebras graze on the savanna at dawn.\n")
    stored = (testset.folder / POOL_FILE).read_text()

    edited = load_corpus(corpus_copy, cache_root=tmp_path / "cache")
    assert edited.content_key != corpus.content_key
    assert read_pool(testset.folder, "passage", pool_key(edited)).items == {}
    after = extend_pool(testset.folder, edited, "passage", queries, bm25_of(edited), depth=3)
    assert (testset.folder / POOL_FILE).read_text().startswith(stored)  # nothing lost
    now = bm25_of(edited)["bm25"]
    for qid, text in queries.items():
        top = _top(now, text, 3)
        assert set(after.items[qid]) == set(top)
        for rank, passage_id in enumerate(top, start=1):
            item = after.items[qid][passage_id]
            passage = edited.passages[edited.passage_index[passage_id]]
            assert item.placed == {"bm25": rank} and item.text_sha256 == passage.content_hash
    assert first.judged_id not in set(_top(now, queries[query_id], 3))
    # The earlier pool is still there for the corpus it was made on.
    assert read_pool(testset.folder, "passage", pool_key(corpus)).items == before.items


def test_twin_documents_tied_at_the_cut_are_pooled_as_eval_ranks_them(tmp_path: Path) -> None:
    # "a1" and "z9" hold the same text: bm25 scores them alike and lists a1 first (its
    # row), while eval ranks by trec_eval's order, which puts z9 first (ids descending).
    beir = tmp_path / "twins"
    beir.mkdir()
    twin = "valve pressure seal"
    documents = [
        {"_id": "a1", "title": "", "text": twin},
        {"_id": "z9", "title": "", "text": twin},
        {"_id": "m5", "title": "", "text": "pump motor tank valve"},
        {"_id": "k2", "title": "", "text": "filter gauge line flow"},
    ]
    (beir / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in documents))
    (beir / "queries.jsonl").write_text('{"_id": "1", "text": "valve pressure"}\n')
    corpus = load_corpus(beir)
    bm25 = make_retriever("bm25", Indexes(corpus, cache_root=tmp_path / "cache"))
    hits = bm25.search("valve pressure", EVAL_SEARCH_DEPTH).hits
    assert [hit.doc_id for hit in hits[:2]] == ["a1", "z9"] and hits[0].score == hits[1].score
    # eval's top 1 from its run (GridPlan's search depth, trec_eval's order)
    assert GridPlan((), ()).depth == EVAL_SEARCH_DEPTH
    eval_top = trec_order(scores_by_unit(hits, "document"))[:1]
    assert eval_top == ["z9"]
    folder = tmp_path / "set"
    folder.mkdir()
    pool = extend_pool(folder, corpus, "document", {"v": "valve pressure"}, {"bm25": bm25}, 1)
    assert list(pool.items["v"]) == eval_top


def test_ties_at_the_cut_are_pooled_as_eval_ranks_them(tmp_path: Path) -> None:
    # bm25:okapi scores every passage, most of them 0 for a question with few matching
    # words: the passages tied at the cut must be the ones eval's top depth holds
    # (trec_order over a deeper search: score, then id, descending), or the pool misses
    # passages eval scores.
    corpus = load_corpus(SAMPLE_CORPUS)
    okapi = make_retriever("bm25:okapi", Indexes(corpus))
    testset = _imported(corpus, tmp_path)
    queries = {**set_queries(testset), "rare": "zeolite"}
    pool = extend_pool(testset.folder, corpus, "passage", queries, {"okapi": okapi}, depth=5)
    tied = 0
    for query_id, text in queries.items():
        scores = scores_by_unit(okapi.search(text, 100).hits, "passage")
        eval_top = trec_order(scores)[:5]
        tied += len({scores[passage_id] for passage_id in eval_top}) < 5
        placed = {pid: item.placed["okapi"] for pid, item in pool.items[query_id].items()}
        assert placed == {passage_id: rank for rank, passage_id in enumerate(eval_top, 1)}
    assert tied  # the case this is about occurred
