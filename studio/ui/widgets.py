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
