"""The window's layout: View ▸ Reset layout, and a window that always fits its screen.

Why: a dock that once grew (a long job result, a wide tool) was saved in the settings and came back on
every start, larger than the screen, with no way back. The default layout is captured once the docks
exist, before saved settings are applied, so "Reset layout" can always return to it; the restored
geometry and any later growth are clamped to the screen's available area.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

DEFAULT_SIZE = (1280, 820)
DEFAULT_JOBS_HEIGHT = 150
DEFAULT_SIDE_WIDTHS = (250, 320)


def available_rect(window: QMainWindow) -> QRect | None:
    """The available area (without task bars) of the window's screen, or None without a screen."""
    screen = window.screen()
    return screen.availableGeometry() if screen is not None else None


def clamp_to_screen(window: QMainWindow) -> bool:
    """Shrink and move the window so its frame lies inside the available screen area; True if it changed."""
    area = available_rect(window)
    if area is None or window.isMaximized() or window.isFullScreen():
        return False
    frame = window.frameGeometry()
    extra_w = max(0, frame.width() - window.width())  # the window manager's border and title bar
    extra_h = max(0, frame.height() - window.height())
    w = min(window.width(), area.width() - extra_w)
    h = min(window.height(), area.height() - extra_h)
    changed = (w, h) != (window.width(), window.height())
    if changed:
        window.resize(max(w, 200), max(h, 200))
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.x()), area.right() + 1 - frame.width())
    y = min(max(frame.y(), area.y()), area.bottom() + 1 - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(max(x, area.x()), max(y, area.y()))
        changed = True
    return changed


class LayoutKeeper(QObject):
    """Remembers the default dock layout and keeps the window on its screen (see the module docstring)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.default_state: QByteArray = window.saveState()
        self._pending = False
        self.action = QAction("Reset &layout", window)
        self.action.setObjectName("reset-layout")
        self.action.setStatusTip(
            "put the panels back where they were at the first start, at a size that fits the screen"
        )
        self.action.triggered.connect(self.reset)
        window.addAction(self.action)
        menu = getattr(window, "view_menu", None)
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.action)
        window.installEventFilter(self)

    def default_size(self) -> tuple[int, int]:
        w, h = DEFAULT_SIZE
        area = available_rect(self.window)
        if area is not None:
            w, h = min(w, area.width() - 16), min(h, area.height() - 48)
        return w, h

    def reset(self) -> None:
        """Docks back to their first-start places and sizes; the window at its default size, on screen."""
        win = self.window
        if win.isMaximized() or win.isFullScreen():
            win.showNormal()
        win.restoreState(self.default_state)
        for dock in self._docks():
            if dock.isFloating():
                dock.setFloating(False)
        win.resize(*self.default_size())
        self._size_docks()
        QTimer.singleShot(0, self._size_docks)  # again once the new window size has been laid out
        clamp_to_screen(win)
        show = getattr(win, "show_message", None)
        if callable(show):
            show("layout reset", 4000)

    def _size_docks(self) -> None:
        win = self.window
        jobs, models, controls = (getattr(win, n, None) for n in ("jobs_dock", "models_dock", "controls_dock"))
        if jobs is not None:
            win.resizeDocks([jobs], [DEFAULT_JOBS_HEIGHT], Qt.Orientation.Vertical)
        if models is not None and controls is not None:
            win.resizeDocks([models, controls], list(DEFAULT_SIDE_WIDTHS), Qt.Orientation.Horizontal)

    def _docks(self):
        from PySide6.QtWidgets import QDockWidget

        return self.window.findChildren(QDockWidget)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() in (QEvent.Type.Resize, QEvent.Type.Move) and not self._pending:
            self._pending = True  # after the layout settles: a dock's size hint may grow the window
            QTimer.singleShot(0, self._check)
        return False

    def _check(self) -> None:
        self._pending = False
        if self.window.isVisible():
            area = available_rect(self.window)
            frame = self.window.frameGeometry()
            if area is not None and (frame.width() > area.width() or frame.height() > area.height()):
                clamp_to_screen(self.window)


def install_layout(window: QMainWindow) -> LayoutKeeper:
    """Call once every permanent dock exists and before saved settings are restored."""
    return LayoutKeeper(window)
