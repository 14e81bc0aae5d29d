"""The Milvus collection that holds one corpus: its name, schema and what it records.

One collection per (corpus location, chunking, embedding model). Its name is readable and
stable while the corpus is edited, so a re-load after an edit updates it in place; the
corpus content key, the encoder's identity and the schema version are stored as
collection properties and checked before every use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtui.corpus.model import ChunkingSettings, Corpus
from ragtui.index.bm25_index import K1, B
from ragtui.index.dense_index import EF_CONSTRUCTION, M

# 2: the text field's analyzer names the lowercase filter. Milvus's "standard" tokenizer
# alone does not fold case (by its documentation; Milvus Lite folds it either way), and
# ragtui's own BM25 does: schema-1 collections are rebuilt.
SCHEMA_VERSION = "2"
# The standard tokenizer and lower-casing: what ragtui's BM25 tokenizer does (\w+, lower).
TEXT_ANALYZER = {"tokenizer": "standard", "filter": ["lowercase"]}
TEXT_MAX_BYTES = 65_535  # Milvus's VARCHAR limit
ID_MAX_BYTES = 4_096
# Property names; values are strings (Milvus stores properties as key/value strings).
PROP_SCHEMA = "ragtui.schema"
PROP_MODEL = "ragtui.model"
PROP_CONTENT = "ragtui.content_key"
PROP_CORPUS = "ragtui.corpus"
PROP_CHUNKING = "ragtui.chunking"
PROP_PASSAGES = "ragtui.passages"
# Output fields that let a hit be mapped back to a passage without the text itself.
HIT_FIELDS = ["passage_id", "doc_id", "source", "start", "end", "text_hash"]


def _name_part(text: str, limit: int) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")[:limit] or "x"


def collection_name(corpus: Corpus, model: str) -> str:
    """``ragtui_<folder>_<location hash>_<chunking>_<model>``: letters, digits, underscores."""
    model_part = _name_part(model.rstrip("/").rsplit("/", 1)[-1], 40)
    return (
        f"ragtui_{_name_part(corpus.root.name, 40)}_{corpus.source_key[:8]}_"
        f"{_name_part(corpus.chunking.key, 20)}_{model_part}"
    )


def index_command(corpus: Corpus) -> str:
    """The command that creates or refreshes this corpus's collection."""
    root = str(corpus.root)
    quoted = root if re.fullmatch(r"[\w./~-]+", root) else "'" + root.replace("'", "'\\''") + "'"
    # The collection is per chunking: the command must name the chunking in use.
    chunking = ""
    if corpus.chunking != ChunkingSettings():
        tokens, overlap = corpus.chunking.max_tokens, corpus.chunking.overlap_tokens
        chunking = f" --chunk-tokens {tokens} --chunk-overlap {overlap}"
    return f"ragtui index {quoted} --to milvus{chunking}"


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection says about itself."""

    name: str
    dimension: int | None
    properties: dict[str, str]

    @property
    def is_ragtui(self) -> bool:
        return PROP_SCHEMA in self.properties

    @property
    def schema(self) -> str | None:
        return self.properties.get(PROP_SCHEMA)

    @property
    def model(self) -> str | None:
        return self.properties.get(PROP_MODEL)

    @property
    def content_key(self) -> str | None:
        return self.properties.get(PROP_CONTENT)


def newer_schema(schema: str | None) -> bool:
    """Whether a collection's schema is one this ragtui does not know (a later version's)."""
    try:
        return schema is not None and int(schema) > int(SCHEMA_VERSION)
    except ValueError:
        return False


def describe(client, name: str) -> CollectionInfo:
    described = client.describe_collection(name)
    dimension = None
    for field in described.get("fields", []):
        if field.get("name") == "dense":
            dimension = int(field.get("params", {}).get("dim", 0)) or None
    properties = {str(key): str(value) for key, value in described.get("properties", {}).items()}
    return CollectionInfo(name, dimension, properties)


def create(client, name: str, corpus: Corpus, model_identity: str, dimension: int) -> None:
    """An empty collection with dense vectors, server-side BM25 and both indexes."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, description=f"ragtui passages of {corpus.root}")
    schema.add_field("passage_id", DataType.VARCHAR, is_primary=True, max_length=ID_MAX_BYTES)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_MAX_BYTES)
    schema.add_field("source", DataType.VARCHAR, max_length=ID_MAX_BYTES)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text_hash", DataType.VARCHAR, max_length=64)
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=TEXT_MAX_BYTES,
        enable_analyzer=True,
        analyzer_params=TEXT_ANALYZER,
    )
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index_params = client.prepare_index_params()
    # Vectors are L2-normalised, so inner product is the cosine hnswlib ranks by.
    index_params.add_index(
        "dense",
        index_type="HNSW",
        metric_type="IP",
        params={"M": M, "efConstruction": EF_CONSTRUCTION},
    )
    index_params.add_index(
        "sparse",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params={"bm25_k1": K1, "bm25_b": B},
    )
    client.create_collection(
        name,
        schema=schema,
        index_params=index_params,
        properties={
            PROP_SCHEMA: SCHEMA_VERSION,
            PROP_MODEL: model_identity,
            PROP_CORPUS: str(corpus.root),
            PROP_CHUNKING: corpus.chunking.key,
            PROP_CONTENT: "",
        },
    )


def fit_text(text: str) -> tuple[str, bool]:
    """Text cut to Milvus's VARCHAR limit at a character boundary; True when cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= TEXT_MAX_BYTES:
        return text, False
    return encoded[:TEXT_MAX_BYTES].decode("utf-8", errors="ignore"), True
