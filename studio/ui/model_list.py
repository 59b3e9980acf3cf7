"""The model list: bundled and user models from the ModelStore, fine-tunes shown under their parent."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from studio.core.store import ModelStore

ID_ROLE = Qt.ItemDataRole.UserRole


class ModelList(QWidget):
    modelActivated = Signal(str)  # model id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Family", "Size"])
        self.tree.setRootIsDecorated(True)
        # long ids differ at the end (emoji-twitter2fluent vs emoji-twitter2fluent-bayes): cut the middle
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemClicked.connect(self._activated)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c0392b;")
        self.problems.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addWidget(self.problems)
        self._items: dict[str, QTreeWidgetItem] = {}

    def populate(self, store: ModelStore) -> None:
        """Rebuild from the store: roots are models without a known parent, children below them."""
        selected = self.selected_id()
        self.tree.clear()
        self._items.clear()
        entries = store.entries
        pending = list(entries.values())
        while pending:  # parents before children, whatever the order on disk
            progressed = False
            for entry in list(pending):
                parent = entry.card.parent
                if parent in entries and parent not in self._items:
                    continue
                holder = self._items.get(parent) if parent else None
                item = QTreeWidgetItem([entry.id, entry.card.family, f"{entry.card.image_size}px"])
                item.setData(0, ID_ROLE, entry.id)
                t = entry.card.training
                tip = [f"{entry.card.name} ({entry.card.family})", "bundled" if entry.bundled else str(entry.path)]
                if t.data:
                    tip.append(f"data: {t.data}")
                if t.licence:
                    tip.append(f"licence: {t.licence}")
                if t.steps:
                    tip.append(f"{t.steps} steps, {t.wall_time_s / 60:.0f} min")
                item.setToolTip(0, "\n".join(tip))
                (holder.addChild(item) if holder is not None else self.tree.addTopLevelItem(item))
                self._items[entry.id] = item
                pending.remove(entry)
                progressed = True
            if not progressed:  # a parent cycle: show the rest at the top level
                for entry in pending:
                    item = QTreeWidgetItem([entry.id, entry.card.family, f"{entry.card.image_size}px"])
                    item.setData(0, ID_ROLE, entry.id)
                    self.tree.addTopLevelItem(item)
                    self._items[entry.id] = item
                break
        self.tree.expandAll()
        if store.problems:
            self.problems.setText("Some model files could not be read:\n" + "\n".join(store.problems))
            self.problems.show()
        else:
            self.problems.hide()
        if selected:
            self.select(selected)

    def add_external(self, model_id: str, card) -> None:
        """A model opened from a file outside the model folders (shown under "Opened files")."""
        if model_id in self._items:
            return
        holder = self._items.get("\0opened")
        if holder is None:
            holder = QTreeWidgetItem(["Opened files", "", ""])
            holder.setFlags(holder.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.tree.addTopLevelItem(holder)
            self._items["\0opened"] = holder
        item = QTreeWidgetItem([card.name or model_id, card.family, f"{card.image_size}px"])
        item.setData(0, ID_ROLE, model_id)
        item.setToolTip(0, model_id)
        holder.addChild(item)
        holder.setExpanded(True)
        self._items[model_id] = item

    def ids(self) -> list[str]:
        return [k for k in self._items if not k.startswith("\0")]

    def item(self, model_id: str) -> QTreeWidgetItem | None:
        return self._items.get(model_id)

    def selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def select(self, model_id: str | None) -> None:
        item = self._items.get(model_id or "")
        self.tree.blockSignals(True)
        if item is not None:
            self.tree.setCurrentItem(item)
        else:
            self.tree.setCurrentIndex(QModelIndex())  # no current item
        self.tree.blockSignals(False)

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        model_id = item.data(0, ID_ROLE)
        if model_id:
            self.modelActivated.emit(model_id)
