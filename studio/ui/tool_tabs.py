"""Readable tool tabs: the tool docks share the right side with Controls as vertical tabs with short names.

Why: with Controls and six tools tabbed in a 320 px wide side panel, horizontal tabs had 45 px each and
read "C…", "Tran…" (issue 17 item 7). Tabs on the window's right edge run vertically, where a side
panel has 700+ px for them, and each tool's tab shows its first word ("Translate", "Stylize",
"Fine-tune"…) with the full menu title as the tab's tooltip and the dock's title bar text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabBar, QTabWidget


def short_title(menu_title: str) -> str:
    """'Translate image…' -> 'Translate'; 'GADN artists && style transfer…' -> 'GADN'."""
    text = menu_title.replace("&&", "&").rstrip("…. ").strip()
    return text.split()[0] if text else "Tool"


def full_title(menu_title: str) -> str:
    return menu_title.replace("&&", "&").rstrip("…. ").strip()


def install_tool_tabs(window: Any) -> None:
    """Tabs of docks tabbed on the right run down the window's right edge (vertical, not cut)."""
    window.setTabPosition(Qt.DockWidgetArea.RightDockWidgetArea, QTabWidget.TabPosition.East)


def name_tool_dock(dock: QDockWidget, menu_title: str) -> None:
    """A tool dock's tab says the short name; its tooltip (and the tab's) the whole title."""
    dock.setWindowTitle(short_title(menu_title))
    dock.setToolTip(full_title(menu_title))
    dock.toggleViewAction().setText(full_title(menu_title))


def dock_tab_bars(window: Any) -> list[QTabBar]:
    """The tab bars QMainWindow made for tabbed docks (tests read them)."""
    return [b for b in window.findChildren(QTabBar) if b.parent() is window and b.count() > 0]
