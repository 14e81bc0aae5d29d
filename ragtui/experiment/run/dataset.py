"""What a batch run is scored against: queries, relevance judgments and reference answers.

Three sources: the files shipped with a dataset (BEIR layout: ``queries.jsonl``,
``qrels/*.tsv``, optional ``answers.jsonl``), the queries and passage grades a user made
in the app (``--labels``), so one's own queries become retrieval ground truth, or a test
set (``--testset``), judged by every judgment it holds: the person's grades, a generated
question's source passage and a labeller model's grades
(``ragtui.experiment.run.pooled_judgments``).

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
from typing import TYPE_CHECKING

from ragtui.corpus import ChunkingSettings, load_corpus
from ragtui.corpus.model import Corpus
from ragtui.errors import RagtuiError
from ragtui.judged_unit import id_in_unit

if TYPE_CHECKING:
    from ragtui.experiment.run.pooled_judgments import PooledJudgments

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
    # Judgments used, by where they came from ("human", "source passage", "labeller", or
    # "qrels file" for a dataset's own qrels), over the queries scored.
    judgment_counts: dict[str, int] = field(default_factory=dict)
    # A test set's merged judgments, each with its source (None for other datasets).
    pooled: PooledJudgments | None = None
    # The test set's folder (its pool, label sample and labeller grades), for --testset.
    testset_folder: Path | None = None

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


@dataclass(frozen=True)
class _TestsetJudgments:
    queries: dict[str, str]
    pooled: PooledJudgments
    answers: dict[str, list[str]]
    unit: str
    source: str  # what the set is; the judgments' counts are added once queries are final
    warnings: list[str]
    folder: Path


def _from_testset(
    corpus: Corpus, name_or_dir: str, labeller: str | None, data_root: Path | None
) -> _TestsetJudgments:
    """Queries, every judgment the set holds (``pooled_judgments``) and reference answers.

    A generated set's questions are judged by their source passage or its document, found
    by its text in the corpus as it is now (rejected questions, and questions whose source
    text is gone, are left out), and by any grades of their pool; an imported set's only
    by the grades of its pool.
    """
    from ragtui.experiment.run.pooled_judgments import pooled_judgments
    from ragtui.testsets.anchoring import anchor_questions
    from ragtui.testsets.for_labeling import labeling_only
    from ragtui.testsets.store import find_testset

    found = find_testset(name_or_dir, corpus.root, corpus.source_key)
    meta = found.meta
    unit = str(meta.get("judged_unit") or "passage")
    if meta.get("kind") == "imported":  # the user's own questions, judged by pool grades
        from ragtui.testsets.importing import for_eval

        queries, answers, unit, source = for_eval(found)
        pooled = pooled_judgments(
            corpus, found, queries, unit, labeller=labeller, data_root=data_root
        )
        warnings = list(pooled.warnings)
        if not pooled.judgments:
            warnings.append(
                f"test set {found.name!r} holds no relevance judgments: retrieval metrics "
                "are skipped (grade its pool with 'ragtui label', 'ragtui label import' or "
                "'ragtui judge relevance')"
            )
        return _TestsetJudgments(queries, pooled, answers, unit, source, warnings, found.folder)
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
    source_qrels, more = _clean_qrels(anchored.qrels, queries, known, str(found.folder), unit)
    # Questions only the round trip dropped are offered for labeling (for_labeling); one the
    # person graded the pool of is scored by those grades alone: the round trip did not
    # confirm that its source passage answers it, and a labeller is no ground truth.
    dropped = labeling_only(found)
    pooled = pooled_judgments(
        corpus,
        found,
        [*queries, *dropped],
        unit,
        source_passages=source_qrels,
        labeller=labeller,
        data_root=data_root,
    )
    pooled, graded_dropped = _only_human_for(pooled, dropped)
    queries.update({query_id: dropped[query_id] for query_id in graded_dropped})
    settings = meta.get("settings", {})
    overlap = meta.get("mean_word_overlap")
    source = (
        f"generated questions: test set {found.name!r} written by "
        f"{settings.get('generator')} (seed {settings.get('seed')}; "
        f"{meta.get('funnel_line', 'funnel unknown')}"
        + (f"; mean word overlap with the source passage {overlap:.0%}" if overlap else "")
        + f"), each judged by its source {unit} and by any grades of its pool"
        + (
            f"; {len(graded_dropped)} more that only the round trip dropped, judged by your "
            "grades of their pool alone (no source passage, no reference answer)"
            if graded_dropped
            else ""
        )
    )
    return _TestsetJudgments(
        queries,
        pooled,
        answers,
        unit,
        source,
        warnings + more + list(pooled.warnings),
        found.folder,
    )


def _only_human_for(
    pooled: PooledJudgments, query_ids: dict[str, str]
) -> tuple[PooledJudgments, list[str]]:
    """The merge with only the person's grades kept for ``query_ids``, and those of them
    that hold any (in the set's order); the others leave the merge."""
    from dataclasses import replace

    from ragtui.experiment.run.pooled_judgments import HUMAN

    judgments = dict(pooled.judgments)
    graded = []
    for query_id in query_ids:
        human = {
            judged_id: judgment
            for judged_id, judgment in judgments.pop(query_id, {}).items()
            if judgment.source == HUMAN
        }
        if human:
            judgments[query_id] = human
            graded.append(query_id)
    return replace(pooled, judgments=judgments), graded


def load_dataset(
    path: str | Path,
    chunking: ChunkingSettings | None = None,
    *,
    labels_from: Path | None = None,
    testset: str | None = None,
    limit: int | None = None,
    cache_root: Path | None = None,
    labeller: str | None = None,
    data_root: Path | None = None,
) -> EvalDataset:
    """The corpus at path with its judgments; ``labels_from`` uses the app's labels instead,
    ``testset`` a test set of the corpus (a name or an exported folder), judged by every
    judgment it holds (``labeller`` chooses among several labeller models).

    ``labels_from`` is the data root the app writes to (``ragtui.config.paths.data_dir()``);
    ``data_root`` the one a test set's grades are read from (default: the same).
    """
    if labeller is not None and testset is None:
        raise DatasetError("--labeller chooses among a test set's labellers: add --testset NAME")
    corpus = load_corpus(path, chunking, cache_root=cache_root)
    warnings = list(corpus.warnings)
    pooled: PooledJudgments | None = None
    testset_folder: Path | None = None
    if testset is not None:
        found = _from_testset(corpus, testset, labeller, data_root)
        testset_folder = found.folder
        queries, answers, unit, more = found.queries, found.answers, found.unit, found.warnings
        pooled, qrels, source = found.pooled, found.pooled.qrels(), found.source
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
    if pooled is not None:
        counts = pooled.counts(queries)
        source = f"{source}; judgments used: {pooled.describe(queries)}"
    else:
        kind = "human" if labels_from is not None else "qrels file"
        counts = {kind: sum(len(qrels.get(query_id, {})) for query_id in queries)}
    if not qrels and not answers:
        why = f" ({'; '.join(pooled.warnings)})" if pooled is not None and pooled.warnings else ""
        raise DatasetError(
            f"{corpus.root}: nothing to score: no relevance judgments and no answers.jsonl{why}"
        )
    return EvalDataset(
        corpus=corpus,
        queries=queries,
        qrels={query_id: grades for query_id, grades in qrels.items() if query_id in queries},
        answers={query_id: texts for query_id, texts in answers.items() if query_id in queries},
        judged_unit=unit,
        source=source,
        warnings=tuple(warnings),
        judgment_counts=counts,
        pooled=pooled,
        testset_folder=testset_folder,
    )
