"""The layering rules of ARCHITECTURE.md, checked statically (every import statement, including the ones
inside functions: a lazy Qt import in a Qt-free module would still load Qt for the CLI or a trainer)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STUDIO = Path(__file__).resolve().parents[1] / "studio"
QT_FREE = ("core", "train", "models", "losses", "metrics", "stylize")
QT_PACKAGES = {"PySide6", "shiboken6", "qasync"}
GUI_LAYERS = {"ui", "engine", "cli"}  # what a Qt-free layer must not reach into


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import statement in a file under studio/."""
    package = list(path.relative_to(STUDIO.parent).parts[:-1])  # the module's package, for relative imports
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def files_of(layer: str) -> list[Path]:
    return sorted((STUDIO / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", QT_FREE)
def test_qt_free_layers_never_import_qt(layer):
    files = files_of(layer)
    assert files, f"studio/{layer} has no modules"
    bad = [
        f"{path.relative_to(STUDIO.parent)}:{line} imports {name}"
        for path in files
        for line, name in imported_modules(path)
        if name.split(".")[0] in QT_PACKAGES
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("layer", QT_FREE)
def test_qt_free_layers_do_not_reach_into_the_gui_or_the_cli(layer):
    bad = [
        f"{path.relative_to(STUDIO.parent)}:{line} imports {name}"
        for path in files_of(layer)
        for line, name in imported_modules(path)
        if name.startswith("studio.") and name.split(".")[1] in GUI_LAYERS
    ]
    assert not bad, "\n".join(bad)


def test_core_depends_on_nothing_else_in_the_studio():
    bad = [
        f"{path.relative_to(STUDIO.parent)}:{line} imports {name}"
        for path in files_of("core")
        for line, name in imported_modules(path)
        if name.startswith("studio.") and not name.startswith("studio.core")
    ]
    assert not bad, "\n".join(bad)


def test_the_engine_uses_qt_core_and_gui_but_no_widgets():
    bad = [
        f"{path.relative_to(STUDIO.parent)}:{line} imports {name}"
        for path in files_of("engine")
        for line, name in imported_modules(path)
        if name.startswith(("PySide6.QtWidgets", "studio.ui", "qasync"))
    ]
    assert not bad, "\n".join(bad)


def test_the_scan_sees_relative_and_lazy_imports(tmp_path, monkeypatch):
    """The checker itself: a lazy ``from PySide6 import ...`` and a relative import are both found."""
    module = STUDIO / "core" / "example.py"  # never written: only its place in the package matters
    source = "from .errors import StudioError\n\ndef f():\n    from PySide6.QtCore import QObject\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert imported_modules(module) == [(1, "studio.core.errors"), (4, "PySide6.QtCore")]
