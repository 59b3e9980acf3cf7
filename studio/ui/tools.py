"""Extension hook: how features (fine-tune, evaluate, translate, a family's own panels, a plugin's
panels…) add themselves to the window's Tools menu without editing the window or this file.

Why a registry: the main window should not import every feature, should not know which family a panel
belongs to, and a broken feature must not stop the window from opening. Each tool is a
:class:`ToolSpec` (defined Qt-free in :mod:`studio.core.registry`, re-exported here) and the window finds
them through the same two doors as families:

1. the ``studio.tools`` entry-point group. Each entry names a module with a ``TOOLS = [ToolSpec(...)]``
   list (or a ``ToolSpec``, or a callable returning specs). The built-in tools are registered this way
   in our own pyproject.toml::

       [project.entry-points."studio.tools"]
       can = "studio.ui.can_tools"               # the CAN family's style meter + steering dock
       translate = "studio.ui.translate_tool"

   A family package ships its panels the same way: its distribution's pyproject.toml adds an entry.
2. ``TOOLS = [...]`` in a ``plugins/*.py`` file, next to its ``FAMILIES = [...]``.

Adding a tool (one file, plus one entry-point line for an installed package)::

    # mypackage/artist_panel.py
    from studio.core.registry import ToolSpec  # Qt-free: a plugin file may declare tools cheaply

    def make_panel(window):                    # window is the studio MainWindow
        from mypackage.panel_widgets import ArtistPanel   # Qt imported only when the tool opens
        return ArtistPanel(window)             # any QWidget

    TOOLS = [ToolSpec("artist-panel", "Artist panel…", "Ctrl+Shift+K", make_panel, kind="dock",
                      families=("myfamily",))]

Which models a tool serves decides when the Tools menu shows it: ``families`` (family names),
``requires`` (attributes of the loaded model, i.e. capabilities), ``when`` (a predicate on the model);
all empty = every model. The window re-checks on every model change (and hides the dock of a tool that
does not serve the new model, re-showing it when a model it serves returns). ``studio/ui`` never tests a
family's name itself: a panel asks its own spec (``TOOL.serves(model)``).

``kind`` is ``"dock"`` (the widget is wrapped in a QDockWidget on the right, created once and re-shown)
or ``"dialog"`` (the factory is called each time; a QDialog is shown non-modally, any other widget is
wrapped in one). A module that fails to import, or a declaration that is not a ToolSpec, is reported in
the status bar and skipped.

The MainWindow API a tool may use (everything else is private)::

    window.current_model()            -> LoadedModel | None   (the model on the canvas)
    window.current_model_id()         -> str | None           (its id in the model store, or the card
                                                               path for a model opened from a file)
    window.current_model_path()       -> Path | None          (its .json card)
    window.current_state()            -> dict                 (a deep copy of the canvas state)
    window.set_state(state, undoable=True)                    (re-render; one undo step if undoable)
    window.start_job(job)             -> JobHandle            (runs a studio.core.jobs job in a worker
                                                               thread, shown in the job panel; the handle
                                                               has .cancel() and the Qt signals
                                                               progress(Progress) and finished(JobResult))
    window.show_error(text)                                   (status bar + message box, never a crash)
    window.show_message(text)                                 (status bar only)
    window.refresh_models()                                   (re-scan model folders, e.g. after training)
    window.open_model(model_id_or_card_path)                  (load a model onto the canvas)
    window.device_name()              -> str                  ('auto', 'cpu', 'cuda:0', ...)
    window.stateChanged  (Signal(dict))                       (after every canvas state change)
    window.modelChanged  (Signal(str))                        (model id; '' when none)
    window.engine                                             (the RenderEngine client; see studio.engine)

Tools must not touch tensors in the UI thread for anything slow: run it as a job via ``start_job``
(a family's jobs live Qt-free next to the family, e.g. ``studio/models/can/jobs.py``, so the CLI's
``studio run FAMILY JOB`` runs the same classes).
"""

from __future__ import annotations

import importlib
from typing import Any

from studio.core.registry import Registry, ToolSpec, discover_tools, tool_specs

__all__ = [
    "ToolSpec",
    "register_tool",
    "unregister_tool",
    "registered_tools",
    "tools_for",
    "load_tools",
    "load_tool_modules",
]

_FOUND: dict[str, ToolSpec] = {}  # discovered: entry points + plugin files (replaced by each load_tools)
_TOOLS: dict[str, ToolSpec] = {}  # registered by hand (scripts, tests); wins over a discovered id
_loaded = False


def register_tool(spec: ToolSpec) -> ToolSpec:
    """Add (or replace, by id) a tool by hand. Returns the spec so it can be used as a module-level constant."""
    if not isinstance(spec, ToolSpec):
        raise TypeError(f"{spec!r} is not a ToolSpec")
    _TOOLS[spec.id] = spec
    return spec


def unregister_tool(tool_id: str) -> None:
    _TOOLS.pop(tool_id, None)
    _FOUND.pop(tool_id, None)


def registered_tools(discover: bool = True) -> list[ToolSpec]:
    """Every known tool: the discovered ones (entry-point order, then plugins), then hand-registered ones.
    With ``discover`` the installed tools are found on first use."""
    if discover and not _loaded:
        load_tools()
    merged = dict(_FOUND)
    merged.update(_TOOLS)
    return list(merged.values())


def tools_for(model: Any, discover: bool = True) -> list[ToolSpec]:
    """The tools that serve a loaded model (None: no model)."""
    return [t for t in registered_tools(discover) if t.serves(model)]


def load_tools(registry: Registry | None = None, use_entry_points: bool = True) -> list[str]:
    """(Re)discover the installed tools (``studio.tools`` entry points and the plugin files' TOOLS of
    ``registry``, default the process-wide one). Returns one readable line per problem; never raises."""
    global _loaded
    specs, problems = discover_tools(registry, use_entry_points)
    _FOUND.clear()
    _FOUND.update((s.id, s) for s in specs)
    _loaded = True
    return problems


def load_tool_modules(modules: list[str] | None = None) -> list[str]:
    """Import tool modules by name and add their ``TOOLS``; ``None`` = :func:`load_tools`. Returns one
    readable line per module that failed (never raises)."""
    if modules is None:
        return load_tools()
    problems: list[str] = []
    for name in modules:
        try:
            for spec in tool_specs(importlib.import_module(name), f"tool module '{name}'"):
                _FOUND[spec.id] = spec
        except Exception as exc:  # a broken feature must not stop the window
            problems.append(f"tool module '{name}' could not be loaded: {exc!r}")
    return problems
