"""Small builders for the tool panels' forms and button rows (every tool had its own copy of them)."""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QWidget


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


def form(rows: Sequence[tuple[str, QWidget]]) -> QFormLayout:
    """A form from (label, widget) pairs; an empty label spans a checkbox or note under the fields."""
    layout = QFormLayout()
    for label, widget in rows:
        layout.addRow(label, widget)
    return layout


class AcceptsFileDrops:
    """Mixin for a QWidget (list it before the Qt class): accepts dragged local files and hands the
    first one to ``self.file_dropped(path) -> bool`` (True when the file was taken)."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt)
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt)
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.file_dropped(paths[0]):
            event.acceptProposedAction()

    def file_dropped(self, path: str) -> bool:
        raise NotImplementedError
