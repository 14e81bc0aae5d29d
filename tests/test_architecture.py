"""The package layout holds: layers only import downwards, the core never imports Textual,
and no module imports itself back through others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import REPO


def test_the_layer_contracts_in_pyproject_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Each pair of modules that import each other, directly or through others."""
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append((importer, *back))
    return cycles


def test_no_module_imports_itself_back() -> None:
    # Function-level and TYPE_CHECKING imports count too: a cycle hidden in a function
    # still ties the two modules together.
    cycles = import_cycles(grimp.build_graph("ragtui"))
    assert not cycles, "\n".join(" -> ".join(chain) for chain in cycles)


def test_the_cycle_check_sees_a_cycle(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("def f():\n    from cyclic import second\n")
    (package / "second.py").write_text("from cyclic import first\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(grimp.build_graph("cyclic"))
