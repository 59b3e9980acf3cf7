"""The Gallery dock: canvas states kept across model switches and restarts, picked, and crossbred.

Why a hub object beside the dock: the window only calls :func:`install_gallery`; the hub listens to the
window's signals (states, model switches, close) and owns everything else: the stored gallery
(:mod:`studio.core.gallery`), thumbnails (rendered by the render engine, never here), the last session
(restored on start, with its undo steps), grid picking (:mod:`studio.ui.pick`) and crossbreeding
(:mod:`studio.core.breed` through :class:`BreedDialog`).

What is kept automatically: the state left behind by a model switch, every picked grid cell and every
bred child; anything else with "Keep" (Ctrl+K). Double-clicking an entry puts it back on the canvas
(opening its model when it is another one).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.core.breed import can_breed, crossbreed
from studio.core.errors import StudioError
from studio.core.family import normalise_state
from studio.core.gallery import THUMB_PX, Gallery, GalleryEntry, GalleryError, Session, load_session, save_session

from .pick import LabelClicks, install_picking

SESSION_SAVE_MS = 2000  # the session is written this long after the last change (and on close)
ORIGIN_TEXT = {
    "kept": "kept",
    "picked": "picked from a grid",
    "bred": "bred",
    "switched": "left when switching model",
    "session": "last canvas",
    "tool": "from a tool",
}


def entry_text(entry: GalleryEntry) -> str:
    second = f"bred from {len(entry.parents)}" if entry.parents else f"seed {entry.state.get('seed', 0)}"
    return f"{entry.model}\n{second}"


def lineage_text(entry: GalleryEntry, gallery: Gallery) -> str:
    """'bred from seed 8 × 40 %, seed 40 × 60 %' (or where the entry came from)."""
    if not entry.parents:
        return f"{ORIGIN_TEXT.get(entry.origin, entry.origin)} · seed {entry.state.get('seed', 0)}"
    names = []
    for ref in entry.parents:
        parent = gallery.get(str(ref.get("id", "")))
        label = f"seed {parent.state.get('seed', 0)}" if parent is not None else "(removed)"
        names.append(f"{label} × {float(ref.get('weight', 0)):.0%}")
    return "bred from " + ", ".join(names)


def entry_tooltip(entry: GalleryEntry, gallery: Gallery) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created)) if entry.created else "?"
    lines = [
        f"{entry.model} · seed {entry.state.get('seed', 0)}",
        f"{ORIGIN_TEXT.get(entry.origin, entry.origin)}, {when}",
    ]
    if entry.parents:
        lines.append(lineage_text(entry, gallery))
    lines.append("double-click: put it on the canvas")
    return "\n".join(lines)


class GalleryPanel(QWidget):
    """The dock's widget: thumbnails (newest first), Keep, Crossbreed…, Remove, a model filter."""

    def __init__(self, hub: GalleryHub) -> None:
        super().__init__()
        self.hub = hub
        self.list = QListWidget()
        self.list.setObjectName("gallery-list")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.list.setGridSize(QSize(THUMB_PX + 24, THUMB_PX + 40))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWrapping(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(THUMB_PX + 48)
        self.list.itemDoubleClicked.connect(lambda item: hub.open_entry(item.data(Qt.ItemDataRole.UserRole)))
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.keep_button = QPushButton("Keep current")
        self.keep_button.setToolTip("keep the canvas in the gallery (Ctrl+K)")
        self.keep_button.clicked.connect(hub.keep_current)
        self.breed_button = QPushButton("Crossbreed…")
        self.breed_button.setToolTip("mix the selected states (two or more of one model) with weights you choose")
        self.breed_button.clicked.connect(lambda: hub.crossbreed_selected())
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: hub.remove(self.selected_ids()))
        self.this_model = QCheckBox("this model only")
        self.this_model.toggled.connect(lambda _on: self.populate())
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        buttons = QVBoxLayout()
        self.hint.setObjectName("gallery-lineage")
        self.hint.setMaximumWidth(180)
        for w in (self.keep_button, self.breed_button, self.remove_button, self.this_model, self.hint):
            buttons.addWidget(w)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        self._selection_changed()

    def selected_ids(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def item(self, entry_id: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == entry_id:
                return self.list.item(i)
        return None

    def populate(self) -> None:
        selected = set(self.selected_ids())
        model = self.hub.window.current_model_id()
        self.list.clear()
        for entry in reversed(self.hub.gallery.entries):
            if self.this_model.isChecked() and entry.model != model:
                continue
            item = self._new_item(entry)
            self.list.addItem(item)
            item.setSelected(entry.id in selected)
        self._selection_changed()

    def _new_item(self, entry: GalleryEntry) -> QListWidgetItem:
        item = QListWidgetItem(entry_text(entry))
        item.setData(Qt.ItemDataRole.UserRole, entry.id)
        item.setToolTip(entry_tooltip(entry, self.hub.gallery))
        self.set_icon(item, entry.id)
        return item

    def show_entry(self, entry: GalleryEntry) -> None:
        """Put a new entry first (or refresh its thumbnail) without rebuilding the whole list."""
        if self.item(entry.id) is not None:
            self.refresh_icon(entry.id)
            return
        if self.list.count() >= len(self.hub.gallery.entries):  # the gallery dropped its oldest: rebuild
            self.populate()
            return
        if self.this_model.isChecked() and entry.model != self.hub.window.current_model_id():
            return
        self.list.insertItem(0, self._new_item(entry))

    def set_icon(self, item: QListWidgetItem, entry_id: str) -> None:
        path = self.hub.gallery.thumb_path(entry_id)
        pm = QPixmap(str(path)) if path.is_file() else QPixmap()
        if pm.isNull():
            pm = QPixmap(THUMB_PX, THUMB_PX)
            pm.fill(Qt.GlobalColor.darkGray)
        item.setIcon(QIcon(pm))

    def refresh_icon(self, entry_id: str) -> None:
        item = self.item(entry_id)
        if item is not None:
            self.set_icon(item, entry_id)

    def _selection_changed(self) -> None:
        ids = self.selected_ids()
        n = len(ids)
        self.breed_button.setEnabled(n >= 2)
        self.remove_button.setEnabled(n >= 1)
        entry = self.hub.gallery.get(ids[0]) if n == 1 else None
        if entry is not None:
            self.hint.setText(lineage_text(entry, self.hub.gallery))
        else:
            self.hint.setText(f"{n} selected: Crossbreed… mixes them" if n >= 2 else "")


class BreedDialog(QDialog):
    """Weights per parent and a preview grid of children: the exact mix first, then mixes with nearby
    weights (more of them, further apart, with more "variety"). Clicking a child puts it on the canvas."""

    CHILDREN = 8

    def __init__(self, hub: GalleryHub, parents: list[GalleryEntry]) -> None:
        super().__init__(hub.window)
        self.setWindowTitle("Crossbreed")
        self.hub, self.parents = hub, parents
        self.frame: Any = None
        self.result_state: dict[str, Any] | None = None
        self._stamp = -1
        layout = QVBoxLayout(self)
        grid = QGridLayout()
        self.sliders: list[QSlider] = []
        self.value_labels: list[QLabel] = []
        for i, entry in enumerate(parents):
            thumb = QLabel()
            path = hub.gallery.thumb_path(entry.id)
            pm = QPixmap(str(path)) if path.is_file() else QPixmap()
            if not pm.isNull():
                thumb.setPixmap(pm.scaled(56, 56, Qt.AspectRatioMode.KeepAspectRatio))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setValue(50)
            slider.setToolTip("how much of this parent the child gets")
            slider.valueChanged.connect(lambda _v: self.update_preview())
            value = QLabel()
            grid.addWidget(thumb, i, 0)
            grid.addWidget(QLabel(f"seed {entry.state.get('seed', 0)}"), i, 1)
            grid.addWidget(slider, i, 2)
            grid.addWidget(value, i, 3)
            self.sliders.append(slider)
            self.value_labels.append(value)
        layout.addLayout(grid)
        row = QHBoxLayout()
        row.addWidget(QLabel("variety"))
        self.variety = QSlider(Qt.Orientation.Horizontal)
        self.variety.setRange(0, 100)
        self.variety.setValue(30)
        self.variety.setToolTip("how far the other children's weights stray from yours")
        self.variety.valueChanged.connect(lambda _v: self.update_preview())
        row.addWidget(self.variety, 1)
        layout.addLayout(row)
        self.preview = QLabel("rendering…")
        self.preview.setObjectName("breed-preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(420, 200)
        layout.addWidget(self.preview, 1)
        layout.addWidget(QLabel("The first child is your mix. Click any child to put it on the canvas."))
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        box.button(QDialogButtonBox.StandardButton.Ok).setText("Use the mix")
        box.accepted.connect(self.accept_mix)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self._clicks = LabelClicks(self.preview, lambda: self.frame, self.child_clicked)
        hub.window.engine.frameReady.connect(self._on_frame)
        self.update_preview()

    def child_clicked(self, frame: Any, cell: int) -> None:
        """A click on a child of the preview: it goes on the canvas and into the gallery with its parents."""
        self.result_state = self.hub.use_child(frame.states[cell], frame.cells[cell])

    def weights(self) -> list[float]:
        return [s.value() / 100.0 for s in self.sliders]

    def child_states(self) -> list[dict[str, Any]]:
        """The exact mix, then children of weights jittered by the variety (seeded: the same each time)."""
        if self.hub.window.current_model_id() != self.parents[0].model:
            raise StudioError(f"another model is open now: open {self.parents[0].model} to crossbreed these states")
        model = self.hub.window.current_model()
        weights = self.weights()
        if sum(weights) <= 0:
            weights = [1.0] * len(weights)
        ids = [p.id for p in self.parents]
        states = [p.state for p in self.parents]
        out = [crossbreed(model, states, weights, ids)]
        rng = np.random.default_rng(len(ids) * 7919 + int(sum(weights) * 1000))
        spread = self.variety.value() / 100.0
        for _ in range(self.CHILDREN - 1):
            w = np.asarray(weights) / sum(weights)
            jitter = np.clip(w + spread * rng.normal(0, 0.5, len(w)), 0.02, None)
            out.append(crossbreed(model, states, list(jitter), ids))
        return out

    def update_preview(self) -> None:
        total = sum(self.weights()) or 1.0
        for label, w in zip(self.value_labels, self.weights()):
            label.setText(f"{w / total:.0%}")
        try:
            states = self.child_states()
        except StudioError as exc:
            self.preview.setText(str(exc))
            return
        path = self.hub.window.current_model_path()
        if path is not None:
            self._stamp = self.hub.window.engine.request(path, states, "breed-preview", 2, self.CHILDREN // 2, pad=3)

    def _on_frame(self, frame) -> None:
        if frame.channel != "breed-preview" or frame.stamp != self._stamp:
            return
        self.frame = frame
        pm = QPixmap.fromImage(frame.image)
        width = max(self.preview.width() - 8, 200)
        self.preview.setPixmap(pm.scaledToWidth(width, Qt.TransformationMode.FastTransformation))

    def accept_mix(self) -> None:
        try:
            child = self.child_states()[0]
        except StudioError as exc:
            self.hub.window.show_error(str(exc))
            return
        pixels = self.frame.cells[0] if self.frame is not None and len(self.frame.cells) else None
        self.result_state = self.hub.use_child(child, pixels)
        self.accept()

    def done(self, result: int) -> None:
        try:
            self.hub.window.engine.frameReady.disconnect(self._on_frame)
        except (RuntimeError, TypeError):
            pass
        super().done(result)


class GalleryHub(QObject):
    """See the module docstring. ``window`` is the MainWindow (its public API and signals)."""

    changed = Signal()

    def __init__(self, window: Any, gallery: Gallery | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.gallery = gallery if gallery is not None else Gallery()
        self.panel = GalleryPanel(self)
        self.dock = QDockWidget("Gallery", window)
        self.dock.setObjectName("dock-gallery")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        jobs = getattr(window, "jobs_dock", None)
        if jobs is not None:
            window.tabifyDockWidget(jobs, self.dock)
            jobs.raise_()
        menu = getattr(window, "view_menu", None)
        if menu is not None:
            menu.addAction(self.dock.toggleViewAction())
        self.act_keep = window._action(
            "&Keep in gallery", self.keep_current, "Ctrl+K", tip="keep the canvas in the gallery"
        )
        edit_menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Edit"), None)
        if edit_menu is not None:
            edit_menu.addAction(self.act_keep)
        self._thumb_for: dict[str, str] = {}  # render channel -> gallery entry id
        self._canvas_cell: tuple[dict[str, Any], np.ndarray] | None = None  # the shown state and its pixels
        self._shown: tuple[str, Any, dict[str, Any]] | None = None  # (model id, model path, state) on screen
        self._steps_to_restore: Session | None = None
        self._session_timer = QTimer(self)
        self._session_timer.setSingleShot(True)
        self._session_timer.setInterval(SESSION_SAVE_MS)
        self._session_timer.timeout.connect(self.save_session)
        window.engine.frameReady.connect(self._on_frame)
        window.stateChanged.connect(self._on_state)
        window.modelChanged.connect(self._on_model)
        window.windowClosed.connect(self.save_session)
        install_picking(window)
        self.panel.populate()
        if self.gallery.problem:
            QTimer.singleShot(0, lambda: window.show_error(self.gallery.problem))

    # ---- keeping states ---------------------------------------------------------------------------
    def keep(
        self,
        state: dict[str, Any],
        origin: str = "kept",
        pixels: np.ndarray | None = None,
        parents: list[dict[str, Any]] | None = None,
        model_path: Any = None,
    ) -> GalleryEntry | None:
        """Add a state to the gallery (its thumbnail from ``pixels``, or rendered). Errors are shown."""
        try:
            entry = self.gallery.add(state, origin, parents or [], pixels)
        except (OSError, ValueError) as exc:
            self.window.show_error(f"the gallery could not be saved in {self.gallery.folder}: {exc}")
            return None
        if pixels is None:
            own = entry.model == self.window.current_model_id()  # never render one model's state with another
            path = model_path or (self.window.current_model_path() if own else None)
            if path is not None:
                channel = f"gallery-thumb-{entry.id}"
                self._thumb_for[channel] = entry.id
                self.window.engine.request(path, [entry.state], channel)
        self.panel.show_entry(entry)
        self.changed.emit()
        return entry

    def keep_current(self) -> GalleryEntry | None:
        state = self.window.current_state()
        if not state:
            self.window.show_error("Open a model first: there is nothing to keep yet.")
            return None
        entry = self.keep(state, "kept", self._pixels_of(state))
        if entry is not None:
            self.window.show_message("kept in the gallery", 4000)
        return entry

    def _pixels_of(self, state: dict[str, Any]) -> np.ndarray | None:
        if self._canvas_cell is not None and self._canvas_cell[0] == normalise_state(state):
            return self._canvas_cell[1]
        return None

    def remove(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            self.gallery.remove(ids)
        except OSError as exc:
            self.window.show_error(f"the gallery could not be saved in {self.gallery.folder}: {exc}")
        self.panel.populate()
        self.changed.emit()

    def open_entry(self, entry_id: str) -> bool:
        """Put a gallery state on the canvas (one undo step), opening its model if it is another."""
        entry = self.gallery.get(entry_id)
        if entry is None:
            return False
        if entry.model == self.window.current_model_id():
            self.window.set_state(copy.deepcopy(entry.state))
            return True
        if entry.model not in self.window.store.entries:
            what = "a tool's result" if entry.origin == "tool" else "a canvas state"
            self.window.show_error(
                f"This gallery entry is {what} of the model '{entry.model}', which is not installed here "
                f"(or cannot be opened on the canvas); its thumbnail is kept in {self.gallery.folder / 'thumbs'}."
            )
            return False
        return bool(self.window.open_model(entry.model, copy.deepcopy(entry.state)))

    # ---- crossbreeding ----------------------------------------------------------------------------
    def crossbreed_selected(self, ids: list[str] | None = None) -> BreedDialog | None:
        """Open the crossbreed dialog for the selected entries (or ``ids``); None with a message when it
        cannot be done. The parents' model is opened first when another model is on the canvas."""
        entries = [e for e in (self.gallery.get(i) for i in (ids or self.panel.selected_ids())) if e is not None]
        if len(entries) < 2:
            self.window.show_error("Select two or more states in the gallery to crossbreed them.")
            return None
        models = {e.model for e in entries}
        if len(models) > 1:
            self.window.show_error(
                f"Crossbreeding mixes states of one model; these come from {', '.join(sorted(models))}."
            )
            return None
        model_id = entries[0].model
        if model_id != self.window.current_model_id():
            if not self.window.open_model(model_id, copy.deepcopy(entries[0].state)):
                return None
            wanted = [e.id for e in entries]

            def when_ready(mid: str) -> None:
                self.window.modelChanged.disconnect(when_ready)
                if mid == model_id:  # not another model the user opened meanwhile
                    self.crossbreed_selected(wanted)

            self.window.modelChanged.connect(when_ready)
            return None
        if not can_breed(self.window.current_model()):
            self.window.show_error(f"{model_id} has no latent or content code to crossbreed.")
            return None
        dialog = BreedDialog(self, entries)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialog = dialog
        return dialog

    def use_child(self, child: dict[str, Any], pixels: np.ndarray | None = None) -> dict[str, Any]:
        """Make a bred child the canvas (undoable) and keep it in the gallery with its parents."""
        self.window.set_state(child, undoable=True)
        state = self.window.current_state()
        self.keep(state, "bred", pixels, list(child.get("parents") or []))
        self.window.show_message("crossbred: the child is on the canvas (Ctrl+Z goes back)", 5000)
        return state

    # ---- following the window ---------------------------------------------------------------------
    def _on_frame(self, frame) -> None:
        entry_id = self._thumb_for.pop(frame.channel, None)
        if entry_id is not None:
            if len(frame.cells) and self.gallery.get(entry_id) is not None:
                try:
                    self.gallery.set_thumbnail(entry_id, frame.cells[0])
                except (OSError, ValueError):
                    return
                self.panel.refresh_icon(entry_id)
            return
        if frame.channel == "canvas" and len(frame.cells) and frame.states:
            self._canvas_cell = (normalise_state(frame.states[0]), frame.cells[0])

    def _on_state(self, state: dict[str, Any]) -> None:
        model = self.window.current_model_id()
        if model and state:
            self._shown = (model, self.window.current_model_path(), copy.deepcopy(state))
            self._session_timer.start()

    def _on_model(self, model_id: str) -> None:
        previous = self._shown
        if previous is not None and previous[0] != model_id:  # a switch: keep what was left behind
            state = previous[2]
            self.keep(state, "switched", self._pixels_of(state), model_path=previous[1])
        if self._steps_to_restore is not None:
            session, self._steps_to_restore = self._steps_to_restore, None
            if session.model == model_id:
                self.window.history.restore_steps(session.undo, session.redo)
                self.window._update_undo_actions()
        if self.panel.this_model.isChecked():
            self.panel.populate()

    # ---- the session ------------------------------------------------------------------------------
    def save_session(self) -> None:
        model, history = self.window.current_model_id(), self.window.history
        if not model or not history.current:
            return
        undo, redo = history.steps()
        try:
            save_session(Session(model, copy.deepcopy(history.current), undo, redo), self.gallery.folder)
        except (OSError, ValueError) as exc:
            print(f"GAN Studio: the session could not be saved in {self.gallery.folder}: {exc}")

    def restore_session(self) -> bool:
        """Open the last session's model with its canvas (its undo steps follow when it is ready)."""
        try:
            session = load_session(self.gallery.folder)
        except GalleryError as exc:
            self.window.show_error(f"The last canvas could not be restored: {exc}")
            return False
        if session is None or session.model not in self.window.store.entries:
            return False
        self._steps_to_restore = session
        return bool(self.window.open_model(session.model, session.state))


def install_gallery(window: Any) -> GalleryHub:
    """Create the Gallery dock and hub for ``window`` (call once its docks and menus exist)."""
    return GalleryHub(window)
