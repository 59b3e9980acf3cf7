"""Small builders for the tool panels' forms and button rows (every tool had its own copy of them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLayout, QPushButton, QWidget


def button(text: str, slot: Callable[[], object], enabled: bool = True, tooltip: str = "") -> QPushButton:
    """A push button wired to ``slot`` (disabled ones wait for the state that makes them useful)."""
    b = QPushButton(text)
    b.clicked.connect(slot)
    b.setEnabled(enabled)
    if tooltip:
        b.setToolTip(tooltip)
    return b


def button_row(*buttons: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for b in buttons:
        row.addWidget(b)
    return row


def form(rows: Sequence[tuple[str, QWidget | QLayout]]) -> QFormLayout:
    """A form from (label, widget) pairs; an empty label spans a checkbox or note under the fields."""
    layout = QFormLayout()
    for label, widget in rows:
        layout.addRow(label, widget)
    return layout


class AcceptsFileDrops:
    """Mixin for a QWidget (list it before the Qt class): accepts dragged local files and hands the
    first one to ``self.file_dropped(path) -> bool`` (True when the file was taken)."""

    def dragEnterEvent(self, event) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.file_dropped(paths[0]):
            event.acceptProposedAction()

    def file_dropped(self, path: str) -> bool:
        raise NotImplementedError


def window_device(window) -> str:
    """The device the user chose in the window ('auto' for windows without a device choice, e.g. in tests)."""
    pick = getattr(window, "device_name", None)
    return pick() if callable(pick) else "auto"


class JobSlot:
    """The one job a tool runs at a time. It starts jobs through ``window.start_job`` and forwards
    progress and the result of the *current* job only: a job that was replaced (e.g. a translation
    restarted by a new direction) may still report while it winds down, and must not overwrite the
    newer job's output."""

    def __init__(self, window, on_progress: Callable[[object], None], on_finished: Callable[[object], None]) -> None:
        self.window, self.on_progress, self.on_finished = window, on_progress, on_finished
        self.handle = None

    @property
    def running(self) -> bool:
        return self.handle is not None and bool(self.handle.running)

    def start(self, job):
        handle = self.window.start_job(job)
        self.handle = handle
        handle.progress.connect(lambda p, h=handle: self._forward(h, self.on_progress, p))
        handle.finished.connect(lambda r, h=handle: self._forward(h, self.on_finished, r))
        return handle

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def _forward(self, handle, slot: Callable[[object], None], value) -> None:
        if handle is self.handle:
            slot(value)
