"""Themes are ``.tcss`` files: ragtui's own (``ragtui/themes/``, inside the package, so an
installed wheel has them too) and the user's config folder.

Every rule in a theme file is scoped to ``App.theme-NAME`` so all themes can be loaded
at once and switched by changing one class. A first-line comment ``/* base: NAME */``
picks the Textual colour theme that the built-in widgets follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import platformdirs

from ragtui.config.paths import APP_NAME
from ragtui.errors import RagtuiError

# Found through the package, not the source tree: a wheel installed anywhere carries them.
BUILTIN_THEMES = Path(str(files("ragtui").joinpath("themes")))
_BASE = re.compile(r"/\*\s*base:\s*([\w-]+)\s*\*/")


@dataclass(frozen=True)
class ThemeFile:
    name: str
    path: Path
    base: str  # Textual's own theme for built-in widgets

    @property
    def css_class(self) -> str:
        return f"theme-{self.name}"


def theme_folders() -> list[Path]:
    return [BUILTIN_THEMES, Path(platformdirs.user_config_dir(APP_NAME)) / "themes"]


def discover_themes(folders: list[Path] | None = None) -> dict[str, ThemeFile]:
    themes: dict[str, ThemeFile] = {}
    for folder in folders or theme_folders():
        for path in sorted(folder.glob("*.tcss")) if folder.is_dir() else []:
            try:
                head = path.read_text(encoding="utf-8")[:400]
            except (OSError, UnicodeDecodeError):
                continue
            match = _BASE.search(head)
            themes[path.stem] = ThemeFile(
                path.stem, path, match.group(1) if match else "textual-dark"
            )
    return themes


def pick_theme(themes: dict[str, ThemeFile], name: str) -> ThemeFile:
    if name not in themes:
        known = ", ".join(sorted(themes)) or "none found"
        raise RagtuiError(
            f"theme {name!r} not found: use one of {known} (.tcss files in {theme_folders()[-1]})"
        )
    return themes[name]
