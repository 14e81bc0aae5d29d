"""The panes' pipelines as specs, and the embedding models they need started early.

Light on purpose: the CLI calls ``start_encoders_for`` before importing Textual, so the
models load in their own processes while the app's process starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ragtui.config.settings_file import Settings
from ragtui.config.specs import PipelineSpec, parse_pipeline_spec
from ragtui.errors import RagtuiError


def resolve_spec(text: str, settings: Settings) -> PipelineSpec:
    """A spec string, or the name of a pipeline in ragtui.toml, as a spec value."""
    return parse_pipeline_spec(settings.pipelines.get(text, text))


def start_encoders_for(specs: Iterable[str], settings: Settings, cache_root: Path | None) -> None:
    """Start loading the embedding models these pipelines' retrievers need (a spec that
    does not parse is left for the session to report)."""
    from ragtui.encoders import embedding_model, start_loading

    models = []
    for text in specs:
        try:
            model = embedding_model(resolve_spec(text, settings).retriever)
        except RagtuiError:
            continue
        if model is not None:
            models.append(model)
    start_loading(models, cache_root)
