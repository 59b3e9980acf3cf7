"""Extension hook: how other features (fine-tune dialog, evaluate panel, translate tool, style meters,
artist tools...) add themselves to the window without editing it.

Why a registry: the main window should not import every feature, and a broken feature must not stop
the window from opening. Each feature lives in its own module and registers a :class:`ToolSpec`; the
window imports the modules listed in :data:`TOOL_MODULES` at start-up and adds one "Tools" menu entry
per registered tool. A module that fails to import is reported in the status bar and skipped.

Adding a tool (one file plus a one-line edit here)::

    # studio/ui/evaluate_panel.py
    from studio.ui.tools import ToolSpec, register_tool

    def make_panel(window):               # window is the studio MainWindow
        return EvaluatePanel(window)      # any QWidget

    register_tool(ToolSpec("evaluate", "Evaluate model…", "Ctrl+Shift+E", make_panel, kind="dock"))

    # and append "studio.ui.evaluate_panel" to TOOL_MODULES below.

``kind`` is ``"dock"`` (the widget is wrapped in a QDockWidget on the right, created once and re-shown)
or ``"dialog"`` (the factory is called each time; a QDialog is shown non-modally, any other widget is
wrapped in one).

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

Tools must not touch tensors in the UI thread for anything slow: run it as a job via ``start_job``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

# Module names imported by the window at start-up. Other engineers: add one line each.
TOOL_MODULES: list[str] = [
    "studio.ui.gadn_tools",
    "studio.ui.can_tools",
    "studio.ui.evaluate_tool",
    "studio.ui.translate_tool",
    "studio.ui.finetune_tool",
    "studio.ui.stylize_tool",
]


@dataclass(frozen=True)
class ToolSpec:
    """One tool: a stable id, its menu text, an optional shortcut and a factory(main_window) -> QWidget."""

    id: str
    menu_title: str
    shortcut: str | None
    factory: Callable[[Any], Any]
    kind: str = "dock"  # "dock" | "dialog"
    help: str = ""


_TOOLS: dict[str, ToolSpec] = {}


def register_tool(spec: ToolSpec) -> ToolSpec:
    """Add (or replace, by id) a tool. Returns the spec so it can be used as a module-level constant."""
    if spec.kind not in ("dock", "dialog"):
        raise ValueError(f"tool '{spec.id}': kind must be 'dock' or 'dialog', not {spec.kind!r}")
    _TOOLS[spec.id] = spec
    return spec


def unregister_tool(tool_id: str) -> None:
    _TOOLS.pop(tool_id, None)


def registered_tools() -> list[ToolSpec]:
    """Tools in registration order."""
    return list(_TOOLS.values())


def load_tool_modules(modules: list[str] | None = None) -> list[str]:
    """Import every tool module; return one readable line per module that failed (never raises)."""
    problems: list[str] = []
    for name in list(TOOL_MODULES if modules is None else modules):
        try:
            importlib.import_module(name)
        except Exception as exc:  # a broken feature must not stop the window
            problems.append(f"tool module '{name}' could not be loaded: {exc!r}")
    return problems
