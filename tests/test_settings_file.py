from pathlib import Path

import pytest

from ragtui.config.settings_file import ConfigError, load_settings, write_default_config


def test_no_config_means_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RAGTUI_CONFIG", raising=False)
    settings = load_settings()
    assert settings.path is None and settings.generation.k == 5


def test_default_config_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    path = tmp_path / "ragtui.toml"
    write_default_config(path)
    settings = load_settings(path)
    assert settings.pipelines["offline"] == "bm25+llamacpp:smollm2"
    assert settings.prices["openai:my-model"].output_per_million == 2.0
    assert settings.backends.ollama_host == "http://127.0.0.1:11434"
    with pytest.raises(ConfigError, match="already exists"):
        write_default_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pipelnes]\nx = 'bm25+extractive'\n", r"unknown section \[pipelnes\]"),
        ("[generation]\nmax_token = 3\n", "unknown key generation.max_token"),
        ("[generation]\nk = 'five'\n", "generation.k must be a int"),
        ("[pipelines]\nfast = 'bm25'\n", "pipeline 'bm25': write RETRIEVER\\+GENERATOR"),
        ("[prompts]\nuser = '{context} {question}'\n", r"prompts.user uses \{context\}"),
        ("[prices.'openai:x']\ninput_per_million = 1\n", "needs output_per_million"),
        ("generation = [\n", "not valid TOML"),
        ("[milvus]\nuri = 19530\n", "milvus.uri must be a str"),
        # A token does not belong in a file: the file names the variable that holds it.
        ("[milvus]\ntoken = 'root:Milvus'\n", "unknown key milvus.token"),
    ],
)
def test_config_mistakes_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ragtui.toml"
    path.write_text(text)
    with pytest.raises(Exception, match=message) as failure:
        load_settings(path)
    assert str(path) in str(failure.value) or "pipeline" in str(failure.value)


def test_milvus_settings_come_from_the_environment_then_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ragtui.toml"
    path.write_text("[milvus]\nuri = 'http://10.0.0.5:19530'\ntoken_env = 'TEAM_MILVUS_KEY'\n")
    monkeypatch.delenv("MILVUS_URI", raising=False)
    monkeypatch.setenv("TEAM_MILVUS_KEY", "team-secret-7")
    backends = load_settings(path).backends
    assert backends.milvus_uri == "http://10.0.0.5:19530"
    assert backends.milvus_token == "team-secret-7"
    assert "team-secret-7" not in repr(backends)
    monkeypatch.setenv("MILVUS_URI", "http://127.0.0.1:19531")
    assert load_settings(path).backends.milvus_uri == "http://127.0.0.1:19531"
