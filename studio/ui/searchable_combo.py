"""A combo box you can type into to filter long option lists (artists, genres, styles)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget


class SearchableCombo(QComboBox):
    choiceMade = Signal(str)  # only for real options, never half-typed text

    def __init__(self, options: list[str], current: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.addItems(options)
        completer = QCompleter(options, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.options = list(options)
        if current in self.options:
            self.setCurrentIndex(self.options.index(current))
        self.activated.connect(self._activated)
        completer.activated.connect(self._pick_text)

    def _activated(self, index: int) -> None:
        if 0 <= index < len(self.options):
            self.choiceMade.emit(self.options[index])

    def _pick_text(self, text: str) -> None:
        if text in self.options:
            self.set_choice(text)
            self.choiceMade.emit(text)

    def set_choice(self, option: str) -> None:
        if option in self.options:
            self.blockSignals(True)
            self.setCurrentIndex(self.options.index(option))
            self.blockSignals(False)

    def choice(self) -> str:
        text = self.currentText()
        return text if text in self.options else (self.options[0] if self.options else "")
