"""A combo box you can type into to filter long option lists (artists, genres, styles)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget


class SearchableCombo(QComboBox):
    choiceMade = Signal(str)  # only for real options, never half-typed text

    def __init__(
        self,
        options: list[str],
        current: str | None = None,
        parent: QWidget | None = None,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # what is shown and typed (``labels``, e.g. "google → twitter") vs what is stored ("a2b")
        self.labels = list(labels) if labels and len(labels) == len(options) else list(options)
        self.addItems(self.labels)
        completer = QCompleter(self.labels, self)
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
        if text in self.labels:
            option = self.options[self.labels.index(text)]
            self.set_choice(option)
            self.choiceMade.emit(option)

    def set_choice(self, option: str) -> None:
        if option in self.options:
            self.blockSignals(True)
            self.setCurrentIndex(self.options.index(option))
            self.blockSignals(False)

    def choice(self) -> str:
        text = self.currentText()
        if text in self.labels:
            return self.options[self.labels.index(text)]
        return self.options[0] if self.options else ""
