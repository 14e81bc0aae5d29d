"""The grades a labeller's agreement with the person is measured on, gathered from a test
set: the person's grades (the judgment store, attached to the corpus as it is now by their
text) and each labeller's (``relevance_grades.jsonl``, of the current text only), both
keyed by (query id, judged id) exactly as eval scores them (``pooled_judgments``).

The figures themselves are ``ragtui.judging.labeller_agreement``'s. Here only what feeds
them: eval gives its own runs, ``ragtui judge relevance`` the set's pool (each retriever's
top ``depth`` as it placed them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ragtui.corpus.model import Corpus
from ragtui.experiment.run.pooled_judgments import _human_grades, _labeller_grades
from ragtui.judging.automatic_grades import AutomaticGrades, LabellerSource
from ragtui.judging.labeller_agreement import LabellerAgreement, Runs, labeller_agreement
from ragtui.judging.pools import Pool
from ragtui.judging.store import JudgmentStore
from ragtui.metrics import run_from_rankings
from ragtui.testsets.store import StoredTestset


def runs_from_pool(pool: Pool, retrievers: Iterable[str], depth: int) -> Runs:
    """retriever → query → judged id → score, from where each retriever placed the pool's
    items (its top ``depth``), in its order."""
    names = list(retrievers)
    ranked: dict[str, dict[str, list[tuple[int, str]]]] = {name: {} for name in names}
    for query_id, items in pool.items.items():
        for judged_id, item in items.items():
            for name in names:
                rank = item.placed.get(name)
                if rank is not None and rank <= depth:
                    ranked[name].setdefault(query_id, []).append((rank, judged_id))
    return {
        name: run_from_rankings(
            {query_id: [i for _, i in sorted(placed)] for query_id, placed in by_query.items()}
        )
        for name, by_query in ranked.items()
    }


def check_labellers(
    corpus: Corpus,
    testset: StoredTestset,
    unit: str,
    query_ids: Iterable[str],
    runs: Runs | None,
    k: int,
    *,
    sources: Iterable[LabellerSource] | None = None,
    data_root: Path | None = None,
) -> list[LabellerAgreement]:
    """Each labeller of the set (or those of ``sources``) against the person's grades of
    the set's ``query_ids``; τ over ``runs`` where given."""
    wanted = set(query_ids)
    store = JudgmentStore.for_corpus(corpus.root, corpus.source_key, data_root)
    human, _summary, _stale = _human_grades(store, corpus, unit, wanted)
    automatic = AutomaticGrades(testset.folder)
    chosen = list(automatic.sources() if sources is None else sources)
    latest = automatic.latest()
    checked = []
    for source in chosen:
        grades, _stale = _labeller_grades(latest.get(source.key, {}).values(), corpus, unit, wanted)
        checked.append(labeller_agreement(source.describe(), human, grades, runs, k))
    return checked


def agreement_json(checked: Iterable[LabellerAgreement]) -> list[Mapping[str, object]]:
    """results.json's ``labeller_agreement``."""
    return [agreement.to_json() for agreement in checked]


def for_eval(dataset, run, testset: str, k: int) -> list[Mapping[str, object]]:
    """results.json's ``labeller_agreement`` for an eval: the labeller whose grades eval
    used, against the person's grades of the scored queries, τ over eval's retrievers.
    Empty when no labeller's grades were used."""
    from ragtui.experiment.run.scoring import build_runs
    from ragtui.testsets.store import find_testset

    pooled = dataset.pooled
    if pooled is None or pooled.labeller is None:
        return []
    corpus = dataset.corpus
    found = find_testset(testset, corpus.root, corpus.source_key)
    checked = check_labellers(
        corpus,
        found,
        dataset.judged_unit,
        dataset.queries,
        build_runs(run),
        k,
        sources=[pooled.labeller],
    )
    return agreement_json(checked)
