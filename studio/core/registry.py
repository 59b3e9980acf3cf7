"""Family discovery: built-ins and plugins go through the same two doors.

1. Python entry points in the group ``studio.families`` (the built-in families are registered this way
   in our own pyproject.toml, so they prove the plugin API), and
2. ``*.py`` files in plugin folders (the repo's ``plugins/``, ``$STUDIO_HOME/plugins`` and any folder in
   ``$STUDIO_PLUGIN_PATH``), each defining ``FAMILIES = [SomeFamily, ...]``.

A broken plugin never stops the studio: its error is kept in :attr:`Registry.errors` and shown.
"""
from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from .errors import UnknownFamily
from .family import Family
from .paths import plugin_dirs

ENTRY_POINT_GROUP = "studio.families"


class Registry:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self.sources: dict[str, str] = {}
        self.errors: list[str] = []

    def add(self, family_cls: type, source: str) -> None:
        if not (isinstance(family_cls, type) and issubclass(family_cls, Family)):
            self.errors.append(f"{source}: {family_cls!r} is not a Family subclass")
            return
        family = family_cls()
        if family.name in self.families:
            self.errors.append(f"{source}: family '{family.name}' is already provided by "
                               f"{self.sources[family.name]}; ignored")
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
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                module = _load_plugin_file(path)
                for fam in getattr(module, "FAMILIES", []):
                    reg.add(fam, f"plugin {path}")
            except Exception as exc:
                reg.errors.append(f"plugin {path.name}: {exc!r}")
    return reg


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, discovered once."""
    global _default
    if _default is None:
        _default = discover()
    return _default


def reset_default_registry() -> None:
    global _default
    _default = None
