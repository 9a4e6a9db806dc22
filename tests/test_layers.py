"""The layers: the core imports nothing above it; the app depends on the core only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Folder → the layer its modules belong to (pyproject maps each under results_online.*).
FOLDERS = {"results_online": "core", "keys": "keys", "build": "build",
           "verify_app": "verify_app", "commands": "commands"}
# Which layers each layer may import: the core below everything, the CLI on top.
ALLOWED = {
    "core": {"core"},
    "keys": {"core", "keys"},
    "build": {"core", "keys", "build"},
    "verify_app": {"core", "verify_app"},
    "commands": {"core", "keys", "build", "verify_app", "commands"},
}


def layer_of(module: str) -> str | None:
    """The layer of an imported results_online module name, or None if not ours."""
    parts = module.split(".")
    if parts[0] != "results_online":
        return None
    if len(parts) > 1 and parts[1] in FOLDERS:
        return FOLDERS[parts[1]]
    return "core"  # results_online.<core module>, and the templates package


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, lazily inside functions too, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from results_online import x` names a module in the core or a package.
            if node.module == "results_online":
                found += [(node.lineno, f"results_online.{a.name}") for a in node.names]
    return found


def wrong_way_edges() -> list[str]:
    """Every import that goes from a layer to one it may not use."""
    edges = []
    for folder, layer in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module in imports(path):
                target = layer_of(module)
                if target is not None and target not in ALLOWED[layer]:
                    edges.append(f"{path.relative_to(ROOT)}:{line} ({layer}) imports {module}")
    return edges


def test_no_layer_imports_one_above_it() -> None:
    assert wrong_way_edges() == []


@pytest.mark.parametrize(("module", "layer"), [
    ("results_online.build.render.statements", "build"),
    ("results_online.verify_app.app", "verify_app"),
    ("results_online.keys.store", "keys"),
    ("results_online.index", "core"),
    ("results_online.templates", "core"),
    ("cryptography.hazmat", None),
])
def test_module_names_map_to_their_layer(module: str, layer: str | None) -> None:
    assert layer_of(module) == layer


def test_the_check_sees_a_wrong_way_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from results_online.build.pipeline import build\n")
    (line, module), = imports(bad)
    assert line == 2 and layer_of(module) == "build" and "build" not in ALLOWED["verify_app"]
