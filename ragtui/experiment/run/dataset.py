"""What a batch run is scored against: queries, relevance judgments and reference answers.

Two sources: the files shipped with a dataset (BEIR layout: ``queries.jsonl``,
``qrels/*.tsv``, optional ``answers.jsonl``), or the queries and passage grades a user made
in the app (``--labels``), so one's own queries become retrieval ground truth.

Problems that would silently skew scores are errors naming the file and line (the loaders
in ``ragtui.corpus.loading``). Judgments that cannot count are skipped with one warning
each kind: qrels for queries not in the query set, and qrels naming no document or passage
of the corpus (trec_eval would count those as relevant but unretrievable, lowering every
retriever's recall alike; the qrels actually used are written next to the report).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.corpus.model import Corpus
from ragtui.errors import RagtuiError
from ragtui.judged_unit import id_in_unit

log = logging.getLogger("ragtui")


class DatasetError(RagtuiError):
    """A dataset that cannot be evaluated, with what to do about it."""


@dataclass(frozen=True)
class EvalDataset:
    corpus: Corpus
    queries: dict[str, str]  # query id → text, in file order
    qrels: dict[str, dict[str, int]]  # query id → judged id → grade
    answers: dict[str, list[str]]
    judged_unit: str  # "document" (BEIR qrels) or "passage" (labels made in the app)
    source: str  # where judgments came from, for the report
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def judged_queries(self) -> list[str]:
        return [query_id for query_id in self.queries if self.qrels.get(query_id)]


def _clean_qrels(
    qrels: dict[str, dict[str, int]],
    queries: dict[str, str],
    known_ids: set[str],
    where: str,
    unit: str,
) -> tuple[dict[str, dict[str, int]], list[str]]:
    warnings: list[str] = []
    unknown_queries = sorted(set(qrels) - set(queries))
    if unknown_queries:
        warnings.append(
            f"{where}: {len(unknown_queries)} judged query ids are not in the query set "
            f"(e.g. {unknown_queries[0]!r}); their judgments are skipped"
        )
    cleaned: dict[str, dict[str, int]] = {}
    missing: list[str] = []
    for query_id, judgments in qrels.items():
        if query_id not in queries:
            continue
        for judged_id, grade in judgments.items():
            if judged_id in known_ids:
                cleaned.setdefault(query_id, {})[judged_id] = grade
            else:
                missing.append(judged_id)
    if missing:
        warnings.append(
            f"{where}: {len(missing)} judgments name no {unit} of the corpus, or an empty one "
            f"(e.g. {missing[0]!r}); they are skipped"
        )
    return cleaned, warnings


def _from_testset(corpus: Corpus, name_or_dir: str):
    """Queries, pseudo-judgments (each question's source passage or its document, found by
    its text in the corpus as it is now) and reference answers of a generated test set;
    rejected questions, and questions whose source text is gone, are left out."""
    from ragtui.testsets.anchoring import anchor_questions
    from ragtui.testsets.store import find_testset

    found = find_testset(name_or_dir, corpus.root, corpus.source_key)
    meta = found.meta
    unit = str(meta.get("judged_unit") or "passage")
    if meta.get("kind") == "imported":  # the user's own questions, judged by pool grades
        from ragtui.testsets.importing import for_eval

        return for_eval(found)
    scored = found.scored()
    if not scored:
        raise DatasetError(
            f"test set {found.name!r} ({found.folder}) has no kept questions to score; "
            "make a larger one (-n) or review fewer out"
        )
    anchored = anchor_questions(scored, unit, corpus)
    if not anchored.qrels:
        raise DatasetError(
            f"test set {found.name!r} ({found.folder}): none of its {len(scored)} questions "
            f"can be scored on {corpus.root} as it is now ({anchored.summary()}); "
            "make a new set from the corpus"
        )
    warnings = [f"{found.folder}: {anchored.summary()}"] if anchored.summary() else []
    scored = [record for record in scored if record["query_id"] in anchored.qrels]
    queries = {record["query_id"]: record["question"] for record in scored}
    answers = {r["query_id"]: [r["answer"]] for r in scored if r.get("answer")}
    known = {id_in_unit(p.doc_id, p.passage_id, unit) for p in corpus.passages}
    qrels, more = _clean_qrels(anchored.qrels, queries, known, str(found.folder), unit)
    settings = meta.get("settings", {})
    overlap = meta.get("mean_word_overlap")
    source = (
        f"generated questions: test set {found.name!r} written by "
        f"{settings.get('generator')} (seed {settings.get('seed')}; "
        f"{meta.get('funnel_line', 'funnel unknown')}"
        + (f"; mean word overlap with the source passage {overlap:.0%}" if overlap else "")
        + f"), each judged by its source {unit}"
    )
    return queries, qrels, answers, unit, source, warnings + more


def load_dataset(
    path: str | Path,
    chunking: ChunkingSettings | None = None,
    *,
    labels_from: Path | None = None,
    testset: str | None = None,
    limit: int | None = None,
    cache_root: Path | None = None,
) -> EvalDataset:
    """The corpus at path with its judgments; ``labels_from`` uses the app's labels instead,
    ``testset`` a test set generated from the corpus (a name or an exported folder).

    ``labels_from`` is the data root the app writes to (``ragtui.config.paths.data_dir()``).
    """
    corpus = load_corpus(path, chunking, cache_root=cache_root)
    warnings = list(corpus.warnings)
    if testset is not None:
        queries, qrels, answers, unit, source, more = _from_testset(corpus, testset)
    elif labels_from is not None:
        from ragtui.judging.anchors import labels_for_corpus

        store, resolved = labels_for_corpus(corpus, labels_from)
        if resolved.summary():
            warnings.append(f"{store.labels_log.path}: {resolved.summary()}")
        queries = resolved.queries
        if not queries:
            stale = f" ({resolved.summary()})" if resolved.stale else ""
            raise DatasetError(
                f"no usable passage grades for {corpus.root}{stale} "
                f"(looked in {store.labels_log.path}); grade some with 'ragtui {path}' first"
            )
        known = set(corpus.passage_index)
        qrels, more = _clean_qrels(
            resolved.grades, queries, known, str(store.labels_log.path), "passage"
        )
        unit, source = "passage", f"labels made in the app ({store.labels_log.path})"
        answers = {
            query_id: corpus.answers[query_id] for query_id in queries if query_id in corpus.answers
        }
    else:
        queries = dict(corpus.queries)
        if not queries:
            raise DatasetError(
                f'{corpus.root}: no queries.jsonl; add one ({{"_id", "text"}} per line) '
                "or grade passages in the app and pass --labels"
            )
        if not corpus.qrels:
            warnings.append(
                f"{corpus.root}: no qrels/*.tsv; retrieval metrics are skipped "
                "(answers are still scored)"
            )
        known = {document.doc_id for document in corpus.documents}
        qrels, more = _clean_qrels(
            corpus.qrels, queries, known, str(corpus.root / "qrels"), "document"
        )
        unit, source = "document", f"{corpus.root / 'qrels'}"
        answers = dict(corpus.answers)
        stray = sorted(set(answers) - set(queries))
        if stray:
            warnings.append(
                f"{corpus.root / 'answers.jsonl'}: {len(stray)} answers belong to no query "
                f"(e.g. {stray[0]!r}); they are skipped"
            )
    warnings.extend(more)
    if limit is not None:
        queries = dict(list(queries.items())[:limit])
    if not qrels and not answers:
        raise DatasetError(
            f"{corpus.root}: nothing to score: no relevance judgments and no answers.jsonl"
        )
    return EvalDataset(
        corpus=corpus,
        queries=queries,
        qrels={query_id: grades for query_id, grades in qrels.items() if query_id in queries},
        answers={query_id: texts for query_id, texts in answers.items() if query_id in queries},
        judged_unit=unit,
        source=source,
        warnings=tuple(warnings),
    )
