"""The layers DEVELOPERS.md names, held by the code: each module imports only from layers below its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# desktop's layers, bottom to top; the CLI and the window are two faces on the same floor.
RANK = {"core": 0, "store": 1, "services": 2, "cli": 3, "ui": 3}
# Libraries a layer must not reach for: core has no Qt and no database; no widgets below the window
# (services draw the map with QtGui's painter, which needs no display).
BARRED = {"core": ("PySide6", "sqlalchemy", "torch"), "store": ("PySide6", "torch"),
          "services": ("PySide6.QtWidgets", "torch"), "cli": ("PySide6.QtWidgets", "torch"), "ui": ("torch",)}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, inside functions too (the CLI imports lazily)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def layer_of(module: str) -> str | None:
    """The desktop layer a dotted module name lies in ('desktop.store.queries' -> 'store'), else None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "desktop" and parts[1] in RANK else None


def wrong_imports(package: Path, layer: str, barred: tuple[str, ...], foreign: str) -> list[str]:
    """Imports in `package` that reach a layer above `layer`, a sibling face, a barred library, or `foreign`."""
    wrong = []
    for path in sorted(package.rglob("*.py")):
        for line, module in imported_modules(path):
            other = layer_of(module)
            upward = other is not None and other != layer and RANK[other] >= RANK[layer]
            if upward or module.split(".")[0] == foreign or any(module == b or module.startswith(b + ".") for b in barred):
                wrong.append(f"{path.relative_to(package.parent)}:{line}: {module}")
    return wrong


@pytest.mark.parametrize("layer", list(RANK))
def test_each_desktop_layer_imports_only_from_below(layer):
    package = ROOT / "desktop" / layer
    assert package.is_dir()
    assert wrong_imports(package, layer, BARRED[layer], foreign="trainer") == []


def test_the_trainer_never_imports_the_app():
    # The ONNX file is the contract between them: neither package imports the other.
    assert wrong_imports(ROOT / "trainer", "core", (), foreign="desktop") == []


def test_a_wrong_import_is_found(tmp_path):
    package = tmp_path / "core"
    package.mkdir()
    (package / "scan.py").write_text("def f():\n    from desktop.store import queries\n    import PySide6.QtWidgets\n")
    (package / "fine.py").write_text("from desktop.core.errors import GenreTaggerError\nimport PySide6.QtGui\n")
    (package / "trained.py").write_text("from trainer.export import export_onnx\n")
    assert sorted(wrong_imports(package, "core", BARRED["core"], foreign="trainer")) == [
        "core/fine.py:2: PySide6.QtGui", "core/scan.py:2: desktop.store", "core/scan.py:3: PySide6.QtWidgets",
        "core/trained.py:1: trainer.export"]
    assert wrong_imports(package, "ui", BARRED["ui"], foreign="trainer") == ["core/trained.py:1: trainer.export"]
