"""Directions that explain themselves: a thumbnail strip per direction slider (−2σ … +2σ around the
canvas), names the user gives them, and new directions made from two states ("from this to that").

Why it is built this way:

- strips are render-engine requests on ``bg:`` channels (one small 5-image request per direction), so
  they render in the render thread, newest-wins per direction, and only when no canvas frame waits; no
  strip is asked for while a slider is held, and the refresh after a change waits for a quiet moment;
- names and two-state directions live in the user's file for the model
  (:mod:`studio.core.direction_names`), never in its card; the sliders of two-state directions carry their
  vector into the state (:mod:`studio.core.direction_edits`), so exports and undo render them anywhere;
- the controller rebuilds the latent panel with the named controls when a model opens, so the main
  window only creates it (one line).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.direction_edits import (
    STRIP_VALUES,
    VECTORS_KEY,
    is_two_state_key,
    next_two_state_key,
    strip_states,
    two_state_vector,
)
from studio.core.direction_names import (
    DirectionBook,
    DirectionFileError,
    TwoStateDirection,
    book_path_for,
    clean_name,
    load_book,
    save_book,
    set_aside,
)
from studio.core.errors import StudioError
from studio.core.family import Control
from studio.engine.frames import Frame
from studio.engine.render import BACKGROUND_PREFIX

CHANNEL = BACKGROUND_PREFIX + "strip:"
THUMB = 56  # px per strip cell on screen
LABEL_PX = 110  # width of a direction slider's name
QUIET_MS = 250  # a strip refresh waits this long after the last change
LAYER_NOTE = (
    "Layer ranges (GANSpace's per-layer edits) are not offered: these generators take their code once, "
    "at the first layer, so an edit cannot be kept to some layers."
)


def caption_row() -> QWidget:
    """'−2σ −1σ now +1σ +2σ', one label over each cell of a strip."""
    row = QWidget()
    h = QHBoxLayout(row)
    h.setContentsMargins(0, 0, 0, 0)
    h.setSpacing(0)
    for v in STRIP_VALUES:
        label = QLabel("now" if v == 0 else f"{v:+g}σ")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setFixedWidth(THUMB + 1)
        h.addWidget(label)
    return row


class StripPopup(QFrame):
    """The strip of the hovered slider, shown beside it (a tooltip-like window that takes no focus)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.ToolTip)
        self.setFrameShape(QFrame.Shape.Box)
        self.setObjectName("direction-strip-popup")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(2)
        self.title = QLabel()
        self.image = QLabel("rendering…")
        self.image.setMinimumSize(THUMB * len(STRIP_VALUES), THUMB)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()  # under the cells' captions: what the units mean, where it needs saying
        self.caption.hide()
        for w in (self.title, self.image, caption_row(), self.caption):
            lay.addWidget(w)
        self.key = ""


class DirectionStrips(QObject):
    """Strips, names and two-state directions for the window's current model (see the module doc)."""

    stripReady = Signal(str)  # direction key
    directionsChanged = Signal()  # names or the set of directions changed

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.book: DirectionBook | None = None
        self.book_problem = ""  # the message of a damaged names file ('' when fine)
        self.pixmaps: dict[str, QPixmap] = {}
        self.cells: dict[str, np.ndarray] = {}  # key -> [len(STRIP_VALUES), H, W, 3] uint8, the newest strip
        self.render_ms: dict[str, float] = {}
        self.fresh: set[str] = set()  # strips drawn for the current state
        self.watched: set[str] = set()  # strips someone is looking at (hover, preview dialog)
        self.marked: dict[str, Any] | None = None  # "mark as A"
        self.dialog: DirectionsDialog | None = None
        self.popup = StripPopup(window)
        self._filters: dict[QObject, str] = {}
        self._asked: dict[str, tuple[int, str]] = {}  # key -> (newest request's stamp, its state)
        self.requests = 0  # strips asked for (for tests and the bench)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(QUIET_MS)
        self._timer.timeout.connect(self._refresh)
        self.preview_action = QAction("Preview &directions…", window)
        self.preview_action.setShortcut("Ctrl+D")
        self.preview_action.setStatusTip("every direction slider with a strip of what it does; rename them")
        self.preview_action.triggered.connect(self.show_dialog)
        window.addAction(self.preview_action)
        self.new_action = QAction("New direction from two states…", window)
        self.new_action.triggered.connect(lambda: self.new_direction_dialog())
        self._add_to_view_menu()
        window.modelChanged.connect(lambda _id: self._model_changed())
        window.stateChanged.connect(lambda _state: self._state_changed())
        window.engine.frameReady.connect(self._on_frame)

    def _add_to_view_menu(self) -> None:
        for act in self.window.menuBar().actions():
            menu = act.menu()
            if menu is not None and act.text().replace("&", "") == "View":
                menu.addSeparator()
                menu.addAction(self.preview_action)
                menu.addAction(self.new_action)
                return

    # ------------------------------------------------------------------------------ model and names
    def model(self):
        return self.window.current_model()

    def directions(self) -> list[tuple[str, str]]:
        """(key, shown name) of every direction of the current model: stored axes, then two-state ones."""
        model = self.model()
        if model is None:
            return []
        out = [(c.name, self.name_of(c.name, c.label)) for c in model.controls() if c.kind == "direction"]
        if self.book is not None:
            out += [(d.key, d.name) for d in self.book.two_state]
        return out

    def name_of(self, key: str, default: str) -> str:
        return self.book.name_of(key, default) if self.book is not None else default

    def controls_for(self, model) -> list[Control]:
        """The model's controls with the user's names, plus a slider per two-state direction."""
        out = []
        for c in model.controls():
            if c.kind == "direction":
                c = replace(c, label=self.name_of(c.name, c.label), help=f"{c.label}: {c.help}" if c.help else c.label)
            out.append(c)
        if self.book is not None:
            at = max((i + 1 for i, c in enumerate(out) if c.kind == "direction"), default=len(out))
            extra = [
                Control(
                    "direction",
                    d.key,
                    d.name,
                    -3.0,
                    3.0,
                    0.0,
                    help="made from two states: 0 = as it is, 1 = moved by the whole A → B difference",
                )
                for d in self.book.two_state
            ]
            out[at:at] = extra
        return out

    def _model_changed(self) -> None:
        self.pixmaps.clear()
        self.cells.clear()
        self.fresh.clear()
        self.watched.clear()
        self.popup.hide()
        self.marked = None
        model = self.model()
        self.book, self.book_problem = None, ""
        if model is not None:
            try:
                self.book = load_book(model.card.name, model.card.tensors_sha256)
            except DirectionFileError as exc:
                self.book = DirectionBook(model.card.name, model.card.tensors_sha256)
                self.book_problem = str(exc)
                self.window.show_error(f"direction names not loaded: {exc}")
        self._rebuild_panel()
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.populate()

    def _rebuild_panel(self) -> None:
        """Rebuild the latent panel with the named controls and the two-state vectors."""
        model = self.model()
        panel = self.window.panel
        self.popup.hide()
        if model is None:
            return
        panel.direction_vectors = {d.key: d.vector for d in self.book.two_state} if self.book else {}
        panel.build(self.controls_for(model), self.window.current_state())
        self._filters.clear()
        for key, slider in panel.sliders.items():
            if key.startswith("dir:"):
                set_label(slider, slider.label.text())
                slider.installEventFilter(self)
                slider.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
                self._filters[slider] = key[4:]
        self._add_panel_buttons()
        self.directionsChanged.emit()

    def _add_panel_buttons(self) -> None:
        sliders = [s for k, s in self.window.panel.sliders.items() if k.startswith("dir:")]
        box = sliders[0].parentWidget() if sliders else None
        if box is None or box.layout() is None:
            return
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 2, 0, 0)
        preview = QPushButton("Preview directions…")
        preview.setToolTip("a strip of thumbnails for every direction (hover a slider for its own); rename them")
        preview.clicked.connect(self.show_dialog)
        new = QPushButton("From A to B…")
        new.setToolTip("a new direction from an earlier state (A) to this one (B)")
        new.clicked.connect(lambda: self.new_direction_dialog())
        h.addWidget(preview)
        h.addWidget(new)
        box.layout().addWidget(row)

    def _save(self) -> bool:
        """Save the book; a damaged file is set aside only when the user agrees. False if not saved."""
        model = self.model()
        if model is None or self.book is None:
            return False
        if self.book_problem:
            if not self.ask_set_aside(self.book_problem):
                self.window.show_error(
                    f"direction names not saved: {book_path_for(model.card)} is damaged and was left as it is"
                )
                return False
            try:
                moved = set_aside(model.card.name, model.card.tensors_sha256)
            except DirectionFileError as exc:
                self.window.show_error(str(exc))
                return False
            self.book_problem = ""
            if moved is not None:
                self.window.show_message(f"the damaged names file was kept as {moved.name}")
        try:
            save_book(self.book)
        except DirectionFileError as exc:
            self.book_problem = str(exc)
            self.window.show_error(str(exc))
            return False
        return True

    def ask_set_aside(self, problem: str) -> bool:
        """Ask whether a damaged names file may be set aside (tests replace the answer)."""
        answer = QMessageBox.question(
            self.window,
            "Direction names",
            f"{problem}\n\nSet the damaged file aside (it is kept, renamed) and start a new one?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def rename(self, key: str, name: str) -> bool:
        """Give direction ``key`` a name (an empty one restores the default); saved at once."""
        if self.book is None:
            return False
        self.book.rename(key, name)
        if not self._save():
            return False
        shown = dict(self.directions()).get(key, key)
        slider = self.window.panel.sliders.get(f"dir:{key}")
        if slider is not None:
            set_label(slider, shown)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.set_name(key, shown)
        self.directionsChanged.emit()
        return True

    def rename_dialog(self, key: str) -> None:
        current = dict(self.directions()).get(key, key)
        name, ok = QInputDialog.getText(self.window, "Rename direction", "Name:", QLineEdit.EchoMode.Normal, current)
        if ok:
            self.rename(key, name)

    # ------------------------------------------------------------------------------ two-state directions
    def history_states(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, state) of the states of this model a direction can start from: the marked one, the undo
        steps (newest first), then the gallery's kept states (newest first)."""
        out: list[tuple[str, dict[str, Any]]] = []
        if self.marked is not None:
            out.append(("the marked state (A)", copy.deepcopy(self.marked)))
        history = self.window.history
        steps = history.steps()[0] if callable(getattr(history, "steps", None)) else getattr(history, "_undo", [])
        current = self.window.current_state()
        model_id = self.window.current_model_id()
        n = 0
        for state in reversed(list(steps)):
            if isinstance(state, dict) and state != current and state.get("model") in (None, model_id):
                n += 1
                out.append((f"{n} step{'s' if n > 1 else ''} back: {describe(state)}", copy.deepcopy(state)))
        gallery = getattr(getattr(self.window, "gallery", None), "gallery", None)
        for entry in reversed(list(getattr(gallery, "entries", []))):
            state = getattr(entry, "state", None)
            if getattr(entry, "model", None) == model_id and isinstance(state, dict) and state != current:
                out.append((f"gallery: {describe(state)}", copy.deepcopy(state)))
        return out

    def mark(self) -> None:
        """Remember the current state as A (for "from A to here")."""
        self.marked = self.window.current_state()
        self.window.show_message("marked this state as A: change the image, then make a direction from A to it")

    def new_direction(self, state_a: dict[str, Any], state_b: dict[str, Any], name: str = "") -> str | None:
        """Make, save and show a direction from A to B; returns its key (None when it could not be made)."""
        model = self.model()
        if model is None or self.book is None:
            self.window.show_error("Open a model first.")
            return None
        try:
            vector = two_state_vector(model, state_a, state_b)
        except StudioError as exc:
            self.window.show_error(f"no direction made: {exc}")
            return None
        key = next_two_state_key([d.key for d in self.book.two_state])
        label = clean_name(name) or f"A → B {key[2:]}"
        keep = ("seed", "directions", "z_edits", "labels", "truncation")
        made_from = {
            "a": {k: state_a.get(k) for k in keep if k in state_a},
            "b": {k: state_b.get(k) for k in keep if k in state_b},
        }
        self.book.two_state.append(TwoStateDirection(key, label, vector, made_from))
        if not self._save():
            self.book.two_state.pop()
            return None
        self._rebuild_panel()
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.populate()
        self.window.show_message(f"new direction '{label}': its slider moves the image from A (0) to B (1)")
        return key

    def delete_direction(self, key: str) -> bool:
        if self.book is None or self.book.find(key) is None:
            return False
        found = self.book.find(key)
        self.book.two_state = [d for d in self.book.two_state if d.key != key]
        if not self._save():
            if found is not None:
                self.book.two_state.append(found)
            return False
        state = self.window.current_state()
        if key in state.get("directions", {}):
            state["directions"].pop(key, None)
            if isinstance(state.get(VECTORS_KEY), dict):
                state[VECTORS_KEY].pop(key, None)
            self.window.set_state(state)
        self._rebuild_panel()
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.populate()
        return True

    def new_direction_dialog(self) -> None:
        if self.model() is None:
            self.window.show_error("Open a model first.")
            return
        choices = self.history_states()
        if not choices:
            self.window.show_error(
                "A direction needs two states: change the image first (or mark this state as A with the "
                "sliders' right-click menu), then make the direction from that earlier state to the new one."
            )
            return
        dialog = NewDirectionDialog(choices, self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            state_a = choices[dialog.combo.currentIndex()][1]
            self.new_direction(state_a, self.window.current_state(), dialog.name.text())

    # ------------------------------------------------------------------------------ strips
    def request_strip(self, key: str) -> int | None:
        """Ask the render engine for the strip of ``key`` around the current state (a background request)."""
        model, path = self.model(), self.window.current_model_path()
        state = self.window.current_state()
        if model is None or path is None or not state:
            return None
        two = self.book.find(key) if (self.book is not None and is_two_state_key(key)) else None
        states = strip_states(state, key, vector=two.vector if two is not None else None)
        stamp = self.window.engine.request(path, states, CHANNEL + key, 1, len(states), pad=2, background=48)
        self._asked[key] = (stamp, _signature(state))
        self.requests += 1
        return stamp

    def watch(self, keys, on: bool = True) -> None:
        """Keep these strips up to date (while shown); asks for any that is not fresh."""
        for key in keys:
            if on:
                self.watched.add(key)
                if key not in self.fresh:
                    self.request_strip(key)
            else:
                self.watched.discard(key)

    def _slider_held(self) -> bool:
        return any(s.slider.isSliderDown() for s in self.window.panel.sliders.values())

    def _state_changed(self) -> None:
        self.fresh.clear()
        if self.watched:
            self._timer.start()  # after a quiet moment, never during a drag

    def _refresh(self) -> None:
        if self._slider_held():
            self._timer.start()
            return
        for key in sorted(self.watched):
            if key not in self.fresh:
                self.request_strip(key)

    def _on_frame(self, frame: Frame) -> None:
        if not frame.channel.startswith(CHANNEL):
            return
        path = self.window.current_model_path()
        if path is None or frame.model_key != str(path):
            return
        key = frame.channel[len(CHANNEL) :]
        self.cells[key] = frame.cells
        self.render_ms[key] = frame.render_ms
        self.pixmaps[key] = QPixmap.fromImage(frame.image).scaledToHeight(
            THUMB, Qt.TransformationMode.SmoothTransformation
        )
        stamp, asked = self._asked.get(key, (0, ""))
        if frame.stamp == stamp and asked == _signature(self.window.current_state()):
            self.fresh.add(key)
        if self.popup.isVisible() and self.popup.key == key:
            self.popup.image.setPixmap(self.pixmaps[key])
            self.popup.adjustSize()
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.set_strip(key, self.pixmaps[key])
        self.stripReady.emit(key)

    # ------------------------------------------------------------------------------ hover and menus
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        key = self._filters.get(obj)
        if key is None:
            return False
        kind = event.type()
        if kind == QEvent.Type.Enter:
            self.show_popup(key, obj)
        elif kind == QEvent.Type.Leave:
            self.popup.hide()
            if self.dialog is None or not self.dialog.isVisible():
                self.watch([key], on=False)
        elif kind == QEvent.Type.ContextMenu:
            self._context_menu(key, event.globalPos())  # type: ignore[attr-defined]
            return True
        return False

    def show_popup(self, key: str, slider: Any) -> None:
        self.popup.key = key
        self.popup.title.setText(dict(self.directions()).get(key, key))
        self.popup.caption.setText("1 = the whole way from A to B")
        self.popup.caption.setVisible(is_two_state_key(key))
        if key in self.pixmaps:
            self.popup.image.setPixmap(self.pixmaps[key])
        else:
            self.popup.image.setText("rendering…")
        self.popup.adjustSize()
        corner = slider.mapToGlobal(QPoint(0, 0))
        self.popup.move(max(0, corner.x() - self.popup.sizeHint().width() - 16), corner.y() - 8)
        self.popup.show()
        self.watch([key])

    def _context_menu(self, key: str, where: QPoint) -> None:
        menu = QMenu(self.window)
        menu.addAction("Rename…", lambda: self.rename_dialog(key))
        menu.addAction("Preview directions…", self.show_dialog)
        menu.addSeparator()
        menu.addAction("Mark this state as A", self.mark)
        menu.addAction("New direction from A to this state…", self.new_direction_dialog)
        if is_two_state_key(key):
            menu.addAction("Delete this direction", lambda: self.delete_direction(key))
        menu.popup(where)

    # ------------------------------------------------------------------------------ the preview view
    def show_dialog(self) -> DirectionsDialog | None:
        if self.model() is None:
            self.window.show_error("Open a model first.")
            return None
        if not self.directions():
            self.window.show_error(
                f"{self.window.current_model_id()} has no direction sliders (it stores no principal directions); "
                "New direction from two states can make one"
            )
            return None
        if self.dialog is None:
            self.dialog = DirectionsDialog(self)
        self.dialog.populate()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def set_label(slider: Any, text: str) -> None:
    """A direction slider's name, elided to the label's width (the full name in its tooltip), so long
    names never squeeze the slider."""
    label = slider.label
    label.setFixedWidth(LABEL_PX)
    label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, LABEL_PX))
    label.setToolTip(text)


def _signature(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, default=str)


def describe(state: dict[str, Any]) -> str:
    """A short line about a state, for lists of states."""
    parts = [f"seed {state.get('seed', 0)}"]
    dirs = {k: v for k, v in (state.get("directions") or {}).items() if v}
    if dirs:
        parts.append(", ".join(f"{k} {float(v):+.1f}" for k, v in list(dirs.items())[:3]))
    labels = state.get("labels") or {}
    if labels:
        parts.append(", ".join(str(v) for v in list(labels.values())[:2]))
    return " · ".join(parts)


class NewDirectionDialog(QDialog):
    """Pick A (an earlier state) for a direction that ends at the current state (B)."""

    def __init__(self, choices: list[tuple[str, dict[str, Any]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New direction from two states")
        form = QFormLayout(self)
        note = QLabel(
            "The new slider moves any image along the way from A to B: 0 leaves it as it is, 1 moves it by "
            "the whole difference (A becomes B), negative values go the other way."
        )
        note.setWordWrap(True)
        form.addRow(note)
        self.combo = QComboBox()
        for label, _state in choices:
            self.combo.addItem(label)
        form.addRow("From (A)", self.combo)
        form.addRow("To (B)", QLabel("the image on the canvas now"))
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. day to night")
        form.addRow("Name", self.name)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class DirectionsDialog(QDialog):
    """Preview directions: every direction with its strip and an editable name."""

    def __init__(self, strips: DirectionStrips) -> None:
        super().__init__(strips.window)
        self.strips = strips
        self.setWindowTitle("Directions")
        self.setObjectName("directions-dialog")
        self.resize(560, 640)
        lay = QVBoxLayout(self)
        head = QLabel(
            "Each strip shows the canvas moved along one direction (−2σ … +2σ; the middle is the canvas). "
            "Type a name to rename a direction; names are saved for this model."
        )
        head.setWordWrap(True)
        lay.addWidget(head)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        lay.addWidget(self.area, 1)
        note = QLabel(LAYER_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: grey")
        lay.addWidget(note)
        row = QHBoxLayout()
        mark = QPushButton("Mark this state as A")
        mark.clicked.connect(strips.mark)
        new = QPushButton("New direction from A to this…")
        new.clicked.connect(lambda: strips.new_direction_dialog())
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row.addWidget(mark)
        row.addWidget(new)
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.names: dict[str, QLineEdit] = {}
        self.images: dict[str, QLabel] = {}

    def populate(self) -> None:
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(8)
        grid.addWidget(caption_row(), 0, 1, Qt.AlignmentFlag.AlignLeft)
        self.names.clear()
        self.images.clear()
        keys = []
        for row, (key, name) in enumerate(self.strips.directions(), start=1):
            edit = QLineEdit(name)
            edit.setMaximumWidth(170)
            edit.setToolTip(f"direction '{key}': type a new name and press Enter (empty = the default)")
            edit.editingFinished.connect(lambda k=key, e=edit: self._renamed(k, e))
            image = QLabel("rendering…")
            image.setMinimumSize(THUMB * len(STRIP_VALUES), THUMB)
            if key in self.strips.pixmaps:
                image.setPixmap(self.strips.pixmaps[key])
            grid.addWidget(edit, row, 0)
            grid.addWidget(image, row, 1)
            if is_two_state_key(key):
                delete = QPushButton("Delete")
                delete.clicked.connect(lambda _c=False, k=key: self.strips.delete_direction(k))
                grid.addWidget(delete, row, 2)
            self.names[key] = edit
            self.images[key] = image
            keys.append(key)
        grid.setRowStretch(len(keys) + 1, 1)
        self.area.setWidget(body)
        self.strips.watch(keys)

    def _renamed(self, key: str, edit: QLineEdit) -> None:
        shown = dict(self.strips.directions()).get(key)
        if shown is not None and edit.text().strip() != shown:
            self.strips.rename(key, edit.text())

    def set_name(self, key: str, name: str) -> None:
        if key in self.names and self.names[key].text() != name:
            self.names[key].setText(name)

    def set_strip(self, key: str, pixmap: QPixmap) -> None:
        if key in self.images:
            self.images[key].setPixmap(pixmap)

    def closeEvent(self, event) -> None:
        self.strips.watch(list(self.names), on=False)
        super().closeEvent(event)
