"""Family and tool discovery: built-ins and plugins go through the same two doors.

1. Python entry points: the group ``studio.families`` names Family classes, the group ``studio.tools``
   names the window's tools (the built-in families and tools are registered this way in our own
   pyproject.toml, so they prove the plugin API), and
2. ``*.py`` files in plugin folders (the repo's ``plugins/``, ``$STUDIO_HOME/plugins`` and any folder in
   ``$STUDIO_PLUGIN_PATH``), each defining ``FAMILIES = [SomeFamily, ...]`` and/or
   ``TOOLS = [ToolSpec(...), ...]``.

A tool is a :class:`ToolSpec`: a menu entry plus a factory ``(main_window) -> QWidget``, and which models
it serves (family names and/or capabilities). This module is Qt-free: a spec only *holds* the factory,
which imports Qt when the window calls it, so a plugin file can declare tools without the CLI loading Qt.
Tool entry points are only loaded by the window (:func:`discover_tools`), since they name Qt modules.

A broken plugin never stops the studio: its error is kept in :attr:`Registry.errors` and shown (one line
on stderr for CLI commands, the window's status bar, ``studio plugins``). :attr:`Registry.plugin_folders`
and :attr:`Registry.plugin_files` record where plugins were looked for and what each file gave.

**Plugins are code**: every ``*.py`` file in a plugin folder is imported, with the user's permissions, by
every ``studio`` command (the CLI's commands are built from the families it finds). Putting a file there,
or installing a package with a ``studio.families`` entry point, is the trust decision.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .errors import UnknownFamily
from .family import Family
from .paths import plugin_dirs

ENTRY_POINT_GROUP = "studio.families"
TOOLS_ENTRY_POINT_GROUP = "studio.tools"
TOOL_KINDS = ("dock", "dialog")


@dataclass(frozen=True)
class ToolSpec:
    """One window tool: a stable id, its menu text, an optional shortcut and ``factory(main_window) -> QWidget``.

    ``kind``: "dock" (created once, wrapped in a dock widget) or "dialog" (created each time it is opened).
    Which models it serves (the Tools menu shows it only for those): ``families`` (family names, e.g.
    ``("can",)``), ``requires`` (attributes the loaded model must have, e.g. ``("style_posterior",)``) and
    ``when`` (any predicate on the loaded model). All empty: the tool serves every model, and no model.
    """

    id: str
    menu_title: str
    shortcut: str | None
    factory: Callable[[Any], Any]
    kind: str = "dock"
    help: str = ""
    families: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    when: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind not in TOOL_KINDS:
            raise ValueError(f"tool '{self.id}': kind must be 'dock' or 'dialog', not {self.kind!r}")
        if not callable(self.factory):
            raise TypeError(f"tool '{self.id}': factory must be callable")
        for name in ("families", "requires"):  # a single string is one name, not its letters
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))

    @property
    def for_every_model(self) -> bool:
        return not self.families and not self.requires and self.when is None

    def serves(self, model: Any) -> bool:
        """Whether the tool applies to a loaded model (None: no model on the canvas)."""
        if self.for_every_model:
            return True
        if model is None:
            return False
        if self.families and getattr(getattr(model, "card", None), "family", None) not in self.families:
            return False
        if any(not hasattr(model, attr) for attr in self.requires):
            return False
        if self.when is not None:
            try:
                return bool(self.when(model))
            except Exception:  # a predicate bug hides the tool, never breaks the window
                return False
        return True


def tool_specs(obj: Any, source: str) -> list[ToolSpec]:
    """The ToolSpecs a tool declaration stands for: a ToolSpec, a list of them, a module (its ``TOOLS``
    list, or ``TOOL``), or a callable returning any of these. Raises TypeError for anything else."""
    if isinstance(obj, ToolSpec):
        return [obj]
    if isinstance(obj, types.ModuleType):
        declared = getattr(obj, "TOOLS", None)
        if declared is None:
            declared = getattr(obj, "TOOL", None)
        if declared is None:
            raise TypeError(f"{source}: module {obj.__name__} declares no TOOLS = [ToolSpec(...)] list")
        return tool_specs(declared, source)
    if isinstance(obj, (list, tuple)):
        return [spec for item in obj for spec in tool_specs(item, source)]
    if callable(obj) and not isinstance(obj, type):
        return tool_specs(obj(), source)
    raise TypeError(f"{source}: {obj!r} is not a ToolSpec")


@dataclass
class PluginFile:
    """One ``*.py`` file of a plugin folder: the families and tools it gave, or why it failed."""

    path: Path
    families: list[str] = field(default_factory=list)
    tools: int = 0
    error: str = ""


class Registry:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self.sources: dict[str, str] = {}
        self.errors: list[str] = []
        self.tools: list[tuple[Any, str]] = []  # (declaration, source) from plugin files' TOOLS lists
        self.plugin_folders: list[Path] = []  # every folder searched for plugin files, in order
        self.plugin_files: list[PluginFile] = []  # every plugin file imported (or tried)

    def add(self, family_cls: type, source: str) -> None:
        if not (isinstance(family_cls, type) and issubclass(family_cls, Family)):
            self.errors.append(f"{source}: {family_cls!r} is not a Family subclass")
            return
        family = family_cls()
        if family.name in self.families:
            self.errors.append(
                f"{source}: family '{family.name}' is already provided by {self.sources[family.name]}; ignored"
            )
            return
        self.families[family.name] = family
        self.sources[family.name] = source

    def get(self, name: str) -> Family:
        try:
            return self.families[name]
        except KeyError:
            known = ", ".join(sorted(self.families)) or "none"
            raise UnknownFamily(f"no installed family is called '{name}' (installed: {known})") from None


def _load_plugin_file(path: Path):
    mod_name = f"studio_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


def discover(extra_dirs: list[Path] | None = None, use_entry_points: bool = True) -> Registry:
    """Find every family. ``extra_dirs`` are searched for plugin files before the default folders."""
    reg = Registry()
    if use_entry_points:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                reg.add(ep.load(), f"entry point '{ep.name}' ({ep.value})")
            except Exception as exc:  # a broken third-party package must not stop the studio
                reg.errors.append(f"entry point '{ep.name}': {exc!r}")
    for folder in list(extra_dirs or []) + plugin_dirs():
        reg.plugin_folders.append(folder)
        try:
            if not folder.is_dir():
                continue
            files = sorted(folder.glob("*.py"))
        except OSError as exc:
            reg.errors.append(f"plugin folder {folder}: could not be read ({exc.strerror or exc})")
            continue
        for path in files:
            if path.name.startswith("_"):
                continue
            record = PluginFile(path)
            reg.plugin_files.append(record)
            errors_before = len(reg.errors)
            try:
                module = _load_plugin_file(path)
                for fam in getattr(module, "FAMILIES", []):
                    known = set(reg.families)
                    reg.add(fam, f"plugin {path}")
                    record.families += sorted(set(reg.families) - known)
                for tool in getattr(module, "TOOLS", []):
                    reg.tools.append((tool, f"plugin {path}"))
                    record.tools += 1
            except BaseException as exc:  # a plugin calling exit() fails like any other (Ctrl+C still stops)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                reg.errors.append(f"plugin {path.name}: {exc!r}")
            record.error = "; ".join(reg.errors[errors_before:])
    return reg


def discover_tools(registry: Registry | None = None, use_entry_points: bool = True) -> tuple[list[ToolSpec], list[str]]:
    """Every installed tool: the ``studio.tools`` entry points (sorted by name; each names a module with a
    ``TOOLS`` list, a ToolSpec, or a callable returning specs), then the plugin files' ``TOOLS`` of
    ``registry`` (default: the process-wide one). Returns (specs, problems); never raises. The first spec
    of an id wins; a later one with the same id is reported and ignored."""
    reg = registry if registry is not None else default_registry()
    found: dict[str, ToolSpec] = {}
    problems: list[str] = []

    def add(obj: Any, source: str) -> None:
        for spec in tool_specs(obj, source):
            if spec.id in found:
                problems.append(f"{source}: tool '{spec.id}' is already provided; ignored")
            else:
                found[spec.id] = spec

    if use_entry_points:
        for ep in sorted(entry_points(group=TOOLS_ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                add(ep.load(), f"tool entry point '{ep.name}' ({ep.value})")
            except Exception as exc:  # a broken tool must not stop the window
                problems.append(f"tool entry point '{ep.name}' ({ep.value}) could not be loaded: {exc!r}")
    for obj, source in reg.tools:
        try:
            add(obj, source)
        except Exception as exc:
            problems.append(f"{source}: a tool could not be loaded: {exc!r}")
    return list(found.values()), problems


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, discovered once."""
    global _default
    if _default is None:
        _default = discover()
    return _default


def discovered_registry() -> Registry | None:
    """The process-wide registry if it was discovered already (None: nothing was loaded yet)."""
    return _default


def reset_default_registry() -> None:
    global _default
    _default = None
