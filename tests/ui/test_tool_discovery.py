"""Tools come from the 'studio.tools' entry points and plugin files, and the Tools menu offers a tool only
for the models it serves (its spec decides; studio/ui never compares family names)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from studio.core.jobs import run_job
from studio.core.paths import bundled_models_dir
from studio.core.registry import ToolSpec, default_registry, discover, reset_default_registry
from studio.ui import tools

PLUGIN = '''
"""A test plugin: no family, one tool for the tiny test family (declared Qt-free)."""
from studio.core.registry import ToolSpec


def make_panel(window):
    from PySide6.QtWidgets import QLabel

    return QLabel(f"plugin tool on {window.current_model_id()}")


TOOLS = [ToolSpec("plugin-tiny", "Tiny plugin tool…", None, make_panel, families=("tiny-test",))]
'''

BUILTIN_FAMILY_NAMES = ("can", "gadn", "cyclegan", "ugatit", "bayes-cyclegan", "csgan", "csgan-style", "cppn")


@pytest.fixture
def plugin_folder(tmp_path, monkeypatch, request):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "tiny_tools.py").write_text(PLUGIN)
    monkeypatch.setenv("STUDIO_PLUGIN_PATH", str(folder))
    reset_default_registry()
    request.getfixturevalue("tiny_family")  # the tiny test family, in the fresh registry
    yield folder
    tools.unregister_tool("plugin-tiny")
    reset_default_registry()


@pytest.fixture
def tool_window(qtbot, plugin_folder, tiny_models_dir, tmp_path):
    from studio.ui.main_window import MainWindow

    w = MainWindow(
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        store_folders=[tiny_models_dir, bundled_models_dir()],
        load_tools=True,
        model="tiny",
        device="cpu",
    )
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.current_model_id() == "tiny" and not w.canvas.image().isNull(), timeout=15000)
    yield w
    w.close()


def _switch(window, qtbot, model_id: str) -> set[str]:
    window.open_model(model_id)
    qtbot.waitUntil(lambda: window.current_model_id() == model_id, timeout=20000)
    return {spec.id for spec in window.visible_tools()}


def test_a_plugin_files_tool_appears_only_for_its_family(tool_window, qtbot):
    w = tool_window
    titles = {a.text() for a in w.tools_menu.actions() if a.isVisible()}
    assert "Tiny plugin tool…" in titles
    ids = {spec.id for spec in w.visible_tools()}
    assert "plugin-tiny" in ids and not {"can", "gadn", "cppn-render"} & ids
    assert {"evaluate", "finetune", "stylize", "translate"} <= ids  # tools for every model

    dock_widget = w.open_tool(next(s for s in w.visible_tools() if s.id == "plugin-tiny"))
    assert dock_widget.text() == "plugin tool on tiny"
    dock = w._tool_docks["plugin-tiny"]
    assert dock.isVisible()

    ids = _switch(w, qtbot, "can-emoji-styles")
    assert "can" in ids and "plugin-tiny" not in ids and "gadn" not in ids
    assert "Tiny plugin tool…" not in {a.text() for a in w.tools_menu.actions() if a.isVisible()}
    assert not dock.isVisible()  # the tool does not serve this model: its dock steps aside

    ids = _switch(w, qtbot, "tiny-child")
    assert "plugin-tiny" in ids and "can" not in ids
    assert dock.isVisible()  # and comes back for a model it serves


def test_builtin_tools_show_for_their_families(tool_window, qtbot):
    w = tool_window
    ids = _switch(w, qtbot, "gadn-emoji")
    assert "gadn" in ids and "can" not in ids and "plugin-tiny" not in ids
    assert {"evaluate", "finetune", "stylize", "translate"} <= ids
    can_action = next(a for s, a in w._tool_actions if s.id == "can")
    assert not can_action.isEnabled()  # a hidden tool's shortcut does not open it either


def test_the_example_plugin_brings_a_tool_for_its_own_models(qtbot, tmp_path, tiny_models_dir):
    from studio.ui.main_window import MainWindow

    reg = default_registry()
    folder = tmp_path / "cppn-models"
    assert run_job(reg.get("cppn").make_job("create", out=folder / "pattern", seed=3)).ok
    w = MainWindow(
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        store_folders=[folder, tiny_models_dir],
        load_tools=True,
        model="pattern",
        device="cpu",
    )
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.current_model_id() == "pattern", timeout=15000)
    spec = next(s for s in w.visible_tools() if s.id == "cppn-render")
    assert "plugin" in str(spec.factory.__module__)  # from plugins/cppn_patterns.py, no edit under studio/
    panel = w.open_tool(spec)
    panel.size_box.setValue(96)
    panel.render_button.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    assert panel.result["image"].shape == (96, 96, 3)
    assert "cppn-render" not in _switch(w, qtbot, "tiny")  # only for the family it serves
    w.close()


def test_plugin_tools_are_discovered_with_families_and_reported_when_broken(tmp_path):
    (tmp_path / "good.py").write_text(PLUGIN)
    (tmp_path / "bad_tools.py").write_text("TOOLS = ['not a spec']\n")
    (tmp_path / "broken.py").write_text("raise RuntimeError('tool plugin bug')\n")
    reg = discover(extra_dirs=[tmp_path])
    from studio.core.registry import discover_tools

    specs, problems = discover_tools(reg, use_entry_points=False)
    assert {s.id for s in specs} == {"plugin-tiny", "cppn-render"}  # the temp plugin + plugins/cppn_patterns.py
    text = "\n".join(problems + reg.errors)
    assert "not a ToolSpec" in text and "tool plugin bug" in text


def test_tool_spec_serves_by_family_capability_and_predicate():
    class Card:
        family = "fam-a"

    class Model:
        card = Card()
        special = True

    every = ToolSpec("t0", "T0", None, lambda w: None)
    by_family = ToolSpec("t1", "T1", None, lambda w: None, families="fam-a")  # one name, not letters
    other = ToolSpec("t2", "T2", None, lambda w: None, families=("fam-b",))
    by_capability = ToolSpec("t3", "T3", None, lambda w: None, requires=("special",))
    lacking = ToolSpec("t4", "T4", None, lambda w: None, requires=("missing",))
    buggy = ToolSpec("t5", "T5", None, lambda w: None, when=lambda m: 1 / 0)
    m = Model()
    assert every.serves(m) and every.serves(None)
    assert by_family.families == ("fam-a",) and by_family.serves(m) and not by_family.serves(None)
    assert not other.serves(m) and by_capability.serves(m) and not lacking.serves(m)
    assert not buggy.serves(m)  # a predicate bug hides the tool, never raises
    with pytest.raises(ValueError):
        ToolSpec("t6", "T6", None, lambda w: None, kind="window")


def test_every_builtin_tool_comes_from_an_entry_point():
    from importlib.metadata import entry_points

    modules = {ep.value for ep in entry_points(group="studio.tools")}
    assert {
        "studio.ui.can_tools",
        "studio.ui.gadn_tools",
        "studio.ui.translate_tool",
        "studio.ui.evaluate_tool",
        "studio.ui.finetune_tool",
        "studio.ui.stylize_tool",
    } <= modules
    assert not tools.load_tools(default_registry())
    assert {"can", "gadn", "translate", "evaluate", "finetune", "stylize"} <= {t.id for t in tools.registered_tools()}
    assert not hasattr(tools, "TOOL_MODULES")  # no hard-coded list left


def _declared_in_a_tool_spec(tree: ast.AST) -> set[int]:
    """ids of the string constants a ToolSpec(...) call may hold: its id and its families=... value."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "ToolSpec":
            if node.args:
                allowed.add(id(node.args[0]))
            for kw in node.keywords:
                if kw.arg in ("id", "families"):
                    allowed |= {id(n) for n in ast.walk(kw.value)}
    return allowed


def test_studio_ui_never_compares_family_names():
    """A family name may appear in studio/ui only where a tool declares what it serves (ToolSpec's id and
    families=); anywhere else it would be the UI testing a family by name. Checked on the syntax tree, so
    the layout of a call (one argument per line) does not matter and comments never count."""
    ui = Path(__file__).resolve().parents[2] / "studio" / "ui"
    offenders = []
    for path in sorted(ui.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = _declared_in_a_tool_spec(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in BUILTIN_FAMILY_NAMES and id(node) not in allowed:
                offenders.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not offenders, offenders
