"""``ragtui.toml``: named pipelines, backend hosts, generation options, prompts and prices.

Read with tomllib, written with tomli-w. Unknown sections or keys are errors that name
the file and key, because a typo silently ignored would change results unnoticed.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from ragtui.config.backends import BackendSettings
from ragtui.config.paths import config_path
from ragtui.errors import RagtuiError
from ragtui.generation.prices import Price
from ragtui.judging.judge_prompts import JudgeTemplates
from ragtui.prompts import PromptTemplates


class ConfigError(RagtuiError):
    pass


@dataclass(frozen=True)
class GenerationDefaults:
    max_tokens: int = 256
    temperature: float = 0.0
    k: int = 5


@dataclass(frozen=True)
class UiDefaults:
    theme: str = "dark"
    pane_a: str = "bm25+llamacpp:gemma3"
    pane_b: str = "dense+llamacpp:gemma3"


@dataclass(frozen=True)
class Settings:
    """Everything read from the config file (or the defaults when there is none)."""

    path: Path | None = None
    pipelines: dict[str, str] = field(default_factory=dict)
    backends: BackendSettings = field(default_factory=BackendSettings.from_env)
    generation: GenerationDefaults = field(default_factory=GenerationDefaults)
    prompts: PromptTemplates = field(default_factory=PromptTemplates)
    prices: dict[str, Price] = field(default_factory=dict)
    ui: UiDefaults = field(default_factory=UiDefaults)
    judge: JudgeTemplates = field(default_factory=JudgeTemplates)


_SECTIONS = {
    "pipelines",
    "ollama",
    "openai",
    "milvus",
    "generation",
    "prompts",
    "prices",
    "ui",
    "judge",
}


def _check_keys(path: Path, section: str, table: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {section}.{unknown[0]} (known: {', '.join(sorted(allowed))})"
        )
    return table


def _typed(path: Path, key: str, value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{path}: {key} must be a {kind.__name__}, not {value!r}")
    return value


def load_settings(explicit: str | Path | None = None) -> Settings:
    """Settings from the config file in use; defaults (and environment) where it is silent."""
    path = config_path(explicit)
    if path is None:
        return Settings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read ({error})") from None
    unknown = sorted(set(document) - _SECTIONS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}] (known: {', '.join(sorted(_SECTIONS))})"
        )
    from ragtui.config.specs import parse_pipeline_spec

    pipelines = _check_keys(
        path, "pipelines", document.get("pipelines", {}), set(document.get("pipelines", {}))
    )
    for name, spec in pipelines.items():
        parse_pipeline_spec(_typed(path, f"pipelines.{name}", spec, str))

    ollama = _check_keys(path, "ollama", document.get("ollama", {}), {"host"})
    openai = _check_keys(
        path, "openai", document.get("openai", {}), {"base_url", "api_key_env", "timeout_s"}
    )
    key_env = _typed(path, "openai.api_key_env", openai.get("api_key_env", "OPENAI_API_KEY"), str)
    # Tokens stay in the environment: the file names the variable, never holds the secret.
    milvus = _check_keys(path, "milvus", document.get("milvus", {}), {"uri", "token_env"})
    milvus_uri = _typed(path, "milvus.uri", milvus["uri"], str) if "uri" in milvus else None
    token_env = _typed(path, "milvus.token_env", milvus.get("token_env", "MILVUS_TOKEN"), str)
    backends = BackendSettings.from_env(
        ollama_host=None if "OLLAMA_HOST" in os.environ else ollama.get("host"),
        openai_base_url=None if "OPENAI_BASE_URL" in os.environ else openai.get("base_url"),
        openai_api_key=os.environ.get(key_env) or None,
        timeout_s=_typed(path, "openai.timeout_s", openai["timeout_s"], float)
        if "timeout_s" in openai
        else None,
        milvus_uri=None if "MILVUS_URI" in os.environ else milvus_uri,
        milvus_token=os.environ.get(token_env) or None,
    )

    generation_table = _check_keys(
        path,
        "generation",
        document.get("generation", {}),
        {f.name for f in fields(GenerationDefaults)},
    )
    generation = GenerationDefaults(
        **{
            name: _typed(path, f"generation.{name}", value, type(getattr(GenerationDefaults, name)))
            for name, value in generation_table.items()
        }
    )
    prompts_table = _check_keys(
        path, "prompts", document.get("prompts", {}), {f.name for f in fields(PromptTemplates)}
    )
    prompts = PromptTemplates(
        **{
            name: _typed(path, f"prompts.{name}", value, str)
            for name, value in prompts_table.items()
        }
    )
    prompts.validate(str(path))
    judge_table = _check_keys(
        path, "judge", document.get("judge", {}), {f.name for f in fields(JudgeTemplates)}
    )
    judge = JudgeTemplates(
        **{name: _typed(path, f"judge.{name}", value, str) for name, value in judge_table.items()}
    )
    judge.validate(str(path))

    prices: dict[str, Price] = {}
    for model, entry in _check_keys(
        path, "prices", document.get("prices", {}), set(document.get("prices", {}))
    ).items():
        table = _check_keys(
            path, f"prices.{model}", entry, {"input_per_million", "output_per_million"}
        )
        try:
            prices[model] = Price(
                _typed(
                    path, f"prices.{model}.input_per_million", table["input_per_million"], float
                ),
                _typed(
                    path, f"prices.{model}.output_per_million", table["output_per_million"], float
                ),
            )
        except KeyError as missing:
            raise ConfigError(f"{path}: prices.{model} needs {missing.args[0]}") from None
    ui_table = _check_keys(path, "ui", document.get("ui", {}), {f.name for f in fields(UiDefaults)})
    ui = UiDefaults(
        **{name: _typed(path, f"ui.{name}", value, str) for name, value in ui_table.items()}
    )
    return Settings(path, dict(pipelines), backends, generation, prompts, prices, ui, judge)


def write_default_config(path: Path) -> None:
    """A starting ragtui.toml with every section, for users to edit."""
    if path.exists():
        raise ConfigError(f"{path} already exists; edit it or remove it first")
    defaults = PromptTemplates()
    document = {
        "pipelines": {
            "offline": "bm25+llamacpp:smollm2",
            "offline-dense": "dense+llamacpp:smollm2",
            "baseline": "hybrid+extractive",
        },
        "ollama": {"host": "http://127.0.0.1:11434"},
        "openai": {"base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"},
        # No uri: a Milvus Lite file in ragtui's data directory until the user names a server.
        "milvus": {"token_env": "MILVUS_TOKEN"},
        "generation": {"max_tokens": 256, "temperature": 0.0, "k": 5},
        "prompts": {f.name: getattr(defaults, f.name) for f in fields(PromptTemplates)},
        "ui": {f.name: getattr(UiDefaults(), f.name) for f in fields(UiDefaults)},
        "judge": {f.name: getattr(JudgeTemplates(), f.name) for f in fields(JudgeTemplates)},
        "prices": {"openai:my-model": {"input_per_million": 1.0, "output_per_million": 2.0}},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
