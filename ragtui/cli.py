"""Command line: argument parsing and printing only; the work happens in the core modules."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ragtui import __version__
from ragtui.errors import RagtuiError

log = logging.getLogger("ragtui")


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line, like every other ragtui error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _OneLineHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = "warning" if record.levelno >= logging.WARNING else "info"
        sys.stderr.write(f"ragtui: {level}: {record.getMessage()}\n")


def _add_corpus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", help="a folder of .txt/.md/.rst/.html files or a BEIR dataset")
    parser.add_argument(
        "--chunk-tokens", type=int, default=180, metavar="N", help="passage budget in words"
    )
    parser.add_argument(
        "--chunk-overlap", type=int, default=30, metavar="N", help="words shared by neighbours"
    )
    parser.add_argument("--cache-dir", type=Path, help="index cache (default: user cache dir)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ragtui", description="Compare RAG pipelines on your own corpus.")
    parser.add_argument("--version", action="version", version=f"ragtui {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    index = commands.add_parser("index", help="build (or refresh) a corpus's cached indexes")
    _add_corpus_options(index)
    index.add_argument(
        "--retrievers",
        default="bm25,dense",
        help="comma-separated retriever specs whose indexes to build (default: bm25,dense)",
    )

    search = commands.add_parser("search", help="retrieve passages for one query")
    _add_corpus_options(search)
    search.add_argument("query", help="the question or keywords")
    search.add_argument("--retriever", "-r", default="bm25", help="bm25 | dense[:MODEL] | hybrid")
    search.add_argument("-k", type=int, default=10, help="how many passages (default 10)")
    search.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _open(args: argparse.Namespace):
    from ragtui.corpus import ChunkingSettings, load_corpus
    from ragtui.index.cache import Indexes
    from ragtui.progress import ProgressPrinter

    corpus = load_corpus(args.corpus, ChunkingSettings(args.chunk_tokens, args.chunk_overlap))
    for warning in corpus.warnings:
        log.warning(warning)
    return Indexes(corpus, cache_root=args.cache_dir, progress=ProgressPrinter())


def _cmd_index(args: argparse.Namespace) -> int:
    from ragtui.retrieval import make_retriever
    from ragtui.specs import parse_retriever_spec

    specs = [parse_retriever_spec(text) for text in args.retrievers.split(",") if text.strip()]
    indexes = _open(args)
    for spec in specs:
        make_retriever(spec, indexes)
    corpus = indexes.corpus
    print(
        f"indexed {len(corpus.documents)} documents as {len(corpus.passages)} passages "
        f"({', '.join(str(spec) for spec in specs)}) in {indexes.folder}"
    )
    return 0


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _cmd_search(args: argparse.Namespace) -> int:
    from ragtui.retrieval import make_retriever
    from ragtui.specs import parse_retriever_spec

    spec = parse_retriever_spec(args.retriever)
    if args.k < 1:
        raise RagtuiError(f"-k {args.k}: ask for at least 1 passage")
    indexes = _open(args)
    result = make_retriever(spec, indexes).search(args.query, args.k)
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"{len(result.hits)} hits from {result.retriever} in {result.elapsed_ms:.1f} ms")
    for hit in result.hits:
        print(f"{hit.rank:>3}  {hit.score:8.4f}  {hit.passage_id}")
        print(f"     {_snippet(hit.text)}")
    return 0


COMMANDS = {"index": _cmd_index, "search": _cmd_search}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    log.addHandler(_OneLineHandler())
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        return COMMANDS[args.command](args)
    except RagtuiError as error:
        sys.stderr.write(f"ragtui: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("ragtui: interrupted\n")
        return 130
