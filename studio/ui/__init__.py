"""Widgets only (PySide6): the main window and its parts, one widget per file. See main_window.py
for the window and tools.py for how other features add themselves to it."""

from studio.engine.refguard import install as _install_refguard

_install_refguard()  # before any widget code runs: see studio/engine/refguard.py
