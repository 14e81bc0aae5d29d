"""Where ragtui keeps things on disk, and settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ragtui"


def cache_dir() -> Path:
    """Index cache root: ``RAGTUI_CACHE_DIR`` if set, else the user cache dir (XDG on Linux)."""
    override = os.environ.get("RAGTUI_CACHE_DIR")
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir(APP_NAME))


def data_dir() -> Path:
    """Judgments, votes and history: ``RAGTUI_DATA_DIR`` if set, else the user data dir."""
    override = os.environ.get("RAGTUI_DATA_DIR")
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file in use: --config, RAGTUI_CONFIG, ./ragtui.toml, then the user's."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get("RAGTUI_CONFIG")
    if from_env:
        return Path(from_env).expanduser()
    for candidate in (
        Path.cwd() / "ragtui.toml",
        Path(platformdirs.user_config_dir(APP_NAME)) / "ragtui.toml",
    ):
        if candidate.is_file():
            return candidate
    return None
