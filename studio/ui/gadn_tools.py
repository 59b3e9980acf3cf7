"""GADN tools dock: artist picker with thumbnails, style blending, "new content", the two grids
("this content × all artists", "this artist × many contents") and style transfer of a dropped image.

Everything slow runs elsewhere: thumbnails and grids are render-engine requests (render thread),
encoding a dropped image is a job (job thread: the Qt-free :class:`~studio.models.gadn.jobs.EncodeImageJob`,
also ``studio run gadn encode``). This widget only edits the canvas state: picking an artist sets
labels.artist, the blend slider sets labels.artist2 + scalars.blend, and a transferred image's content
code goes into state["content"] so every other control keeps working on it.

The tool is declared by :data:`TOOL` (it serves GADN models) and found through the ``studio.tools``
entry point ``gadn``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.images import IMAGE_SUFFIXES
from studio.core.registry import ToolSpec
from studio.engine.frames import array_to_qimage
from studio.engine.jobs import JobHandle
from studio.models.gadn.jobs import EncodeImageJob

from .pick import make_label_pickable
from .result_actions import ResultActions

THUMB_SEED = 7
THUMB_PX = 56


class DropLabel(QLabel):
    """A label that accepts one dropped image file."""

    dropped = Signal(str)

    def __init__(self, text: str):
        super().__init__(text)
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(96, 96)
        self.setStyleSheet("QLabel { border: 2px dashed #888; border-radius: 6px; }")

    def dragEnterEvent(self, event) -> None:
        if self._path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._path(event)
        if path is not None:
            event.acceptProposedAction()
            self.dropped.emit(path)

    @staticmethod
    def _path(event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        for url in urls:
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in IMAGE_SUFFIXES:
                return url.toLocalFile()
        return None


def pixmap_of(pixels: np.ndarray, size: int | None = None) -> QPixmap:
    pm = QPixmap.fromImage(array_to_qimage(pixels))
    if size:
        pm = pm.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
    return pm


class GADNPanel(QWidget):
    """The dock widget. ``window`` is the studio MainWindow (public API only)."""

    def __init__(self, window: Any):
        super().__init__()
        self.main_window = window
        self.artists: list[str] = []
        self._model_key = None
        self._stamps: dict[str, int] = {}
        self.last_grid_cells = 0
        self.transfer_handle: JobHandle | None = None
        self._build()
        window.modelChanged.connect(lambda _id: self.model_changed())
        window.stateChanged.connect(self.state_changed)
        window.engine.frameReady.connect(self._on_frame)
        window.engine.renderFailed.connect(self._on_failed)
        self.model_changed()

    # ------------------------------------------------------------------------------ widgets
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        self.note = QLabel("Open a GADN model to pick artists, blend styles and redraw your own images.")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)

        box = QGroupBox("Artist")
        bl = QVBoxLayout(box)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search artists…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter_artists)
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.list.setMinimumHeight(140)
        self.list.itemActivated.connect(self._artist_picked)
        self.list.itemClicked.connect(self._artist_picked)
        bl.addWidget(self.search)
        bl.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(QLabel("blend with"))
        self.blend_with = QComboBox()
        self.blend_with.currentTextChanged.connect(lambda _t: self._blend_changed())
        row.addWidget(self.blend_with, 1)
        bl.addLayout(row)
        self.blend = QSlider(Qt.Orientation.Horizontal)
        self.blend.setRange(0, 100)
        self.blend.setToolTip("0 = the picked artist, 100 = the 'blend with' artist")
        self.blend.valueChanged.connect(lambda _v: self._blend_changed(live=True))
        self.blend.sliderReleased.connect(lambda: self._blend_changed())
        bl.addWidget(self.blend)
        lay.addWidget(box)

        box = QGroupBox("Content")
        cl = QVBoxLayout(box)
        self.new_content = QPushButton("Sample new content")
        self.new_content.clicked.connect(self.sample_new_content)
        cl.addWidget(self.new_content)
        row = QHBoxLayout()
        self.content_grid_button = QPushButton("This content × all artists")
        self.content_grid_button.clicked.connect(self.show_content_grid)
        self.artist_grid_button = QPushButton("This artist × many contents")
        self.artist_grid_button.clicked.connect(self.show_artist_grid)
        row.addWidget(self.content_grid_button)
        row.addWidget(self.artist_grid_button)
        cl.addLayout(row)
        self.grid_count = QSpinBox()
        self.grid_count.setRange(2, 64)
        self.grid_count.setValue(16)
        self.grid_count.setPrefix("contents ")
        cl.addWidget(self.grid_count)
        self.grid_view = QLabel()
        self.grid_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid_view.setMinimumHeight(80)
        self.grid_frame = None  # the grid on show: a click on one of its cells makes it the canvas
        self._grid_clicks = make_label_pickable(self.grid_view, lambda: self.grid_frame, self.main_window)
        cl.addWidget(self.grid_view)
        lay.addWidget(box)

        box = QGroupBox("Style transfer")
        tl = QVBoxLayout(box)
        row = QHBoxLayout()
        self.drop = DropLabel("drop an image here")
        self.drop.dropped.connect(self.transfer_file)
        self.output_view = QLabel()
        self.output_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.output_view.setMinimumSize(96, 96)
        row.addWidget(self.drop)
        row.addWidget(QLabel("→"))
        row.addWidget(self.output_view)
        tl.addLayout(row)
        self.choose = QPushButton("Choose image…")
        self.choose.clicked.connect(self._choose_file)
        tl.addWidget(self.choose)
        self.transfer_pixels: np.ndarray | None = None  # the redrawn picture on show (Save / Keep / Send to)
        self.result_actions = ResultActions(self.main_window, __name__, self.result_for_handoff, self.save_dialog)
        tl.addWidget(self.result_actions)
        lay.addWidget(box)
        lay.addStretch(1)
        self.controls = [
            self.search,
            self.list,
            self.blend_with,
            self.blend,
            self.new_content,
            self.content_grid_button,
            self.artist_grid_button,
            self.grid_count,
            self.drop,
            self.choose,
        ]

    # ------------------------------------------------------------------------------ model / state
    def model(self):
        m = self.main_window.current_model()
        return m if TOOL.serves(m) else None

    def model_key(self):
        return self.main_window.current_model_path() or self.main_window.current_model_id()

    def model_changed(self) -> None:
        model = self.model()
        for w in self.controls:
            w.setEnabled(model is not None)
        self.note.setVisible(model is None)
        self.list.clear()
        self.blend_with.blockSignals(True)
        self.blend_with.clear()
        self.artists = list(model.artists) if model is not None else []
        for name in self.artists:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        self.blend_with.addItems(self.artists)
        self.blend_with.blockSignals(False)
        self.grid_view.clear()
        self.grid_frame = None
        self.output_view.clear()
        self.transfer_pixels = None
        self.result_actions.set_ready(False)
        if model is not None:
            self.request_thumbnails()
            self.state_changed(self.main_window.current_state())

    def state_changed(self, state: dict) -> None:
        if self.model() is None or not state:
            return
        artist = (state.get("labels") or {}).get("artist")
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == artist and not item.isSelected():
                self.list.setCurrentItem(item)
        other = (state.get("labels") or {}).get("artist2")
        if other in self.artists and other != self.blend_with.currentText():
            self.blend_with.blockSignals(True)
            self.blend_with.setCurrentText(other)
            self.blend_with.blockSignals(False)
        try:
            blend = int(round(float((state.get("scalars") or {}).get("blend", 0.0)) * 100))
        except (TypeError, ValueError):
            blend = 0
        if blend != self.blend.value() and not self.blend.isSliderDown():
            self.blend.blockSignals(True)
            self.blend.setValue(blend)
            self.blend.blockSignals(False)
        if state.get("content") is not None:
            self._request("gadn-transfer", [state])

    def _edit(self, change, undoable: bool = True) -> None:
        state = self.main_window.current_state()
        if not state:
            return
        change(state)
        self.main_window.set_state(state, undoable=undoable)

    # ------------------------------------------------------------------------------ artist + blend
    def filter_artists(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def visible_artists(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    def pick_artist(self, name: str) -> None:
        def change(s):
            s.setdefault("labels", {})["artist"] = name

        self._edit(change)

    def _artist_picked(self, item: QListWidgetItem) -> None:
        self.pick_artist(item.data(Qt.ItemDataRole.UserRole))

    def _blend_changed(self, live: bool = False) -> None:
        if not self.artists:
            return
        value, other = self.blend.value() / 100.0, self.blend_with.currentText()

        def change(s):
            s.setdefault("labels", {})["artist2"] = other
            s.setdefault("scalars", {})["blend"] = value

        self._edit(change, undoable=not live)

    # ------------------------------------------------------------------------------ content + grids
    def sample_new_content(self) -> None:
        seed = random.randrange(2**31 - 1)

        def change(s):
            s["seed"] = seed
            s.pop("content", None)
            s["directions"] = {}

        self._edit(change)

    def content_grid_states(self) -> list[dict]:
        base = self.main_window.current_state()
        out = []
        for name in self.artists:
            s = dict(base)
            s["labels"] = dict(base.get("labels") or {}, artist=name)
            s["scalars"] = dict(base.get("scalars") or {}, blend=0.0)
            out.append(s)
        return out

    def artist_grid_states(self) -> list[dict]:
        base = self.main_window.current_state()
        start = int(base.get("seed", 0))
        out = []
        for i in range(self.grid_count.value()):
            s = dict(base, seed=start + i, directions={})
            s.pop("content", None)
            out.append(s)
        return out

    def show_content_grid(self) -> None:
        states = self.content_grid_states()
        self._request("gadn-grid", states, 1, len(states))

    def show_artist_grid(self) -> None:
        states = self.artist_grid_states()
        cols = int(np.ceil(np.sqrt(len(states))))
        self._request("gadn-grid", states, int(np.ceil(len(states) / cols)), cols)

    def request_thumbnails(self) -> None:
        model = self.model()
        base = model.default_state(self.main_window.current_model_id() or "", THUMB_SEED)
        states = []
        for name in self.artists:
            s = dict(base)
            s["labels"] = dict(base["labels"], artist=name)
            states.append(s)
        self._request("gadn-thumbs", states, 1, len(states))

    def _request(self, channel: str, states: list[dict], rows: int = 1, cols: int = 1) -> None:
        if self.model() is None or not states:
            return
        self._stamps[channel] = self.main_window.engine.request(self.model_key(), states, channel, rows, cols)

    def _on_frame(self, frame) -> None:
        if self._stamps.get(frame.channel) != frame.stamp:
            return
        if frame.channel == "gadn-thumbs":
            for i, cell in enumerate(frame.cells):
                if i < self.list.count():
                    self.list.item(i).setIcon(QIcon(pixmap_of(cell, THUMB_PX)))
        elif frame.channel == "gadn-grid":
            self.last_grid_cells = len(frame.cells)
            self.grid_frame = frame
            pm = QPixmap.fromImage(frame.image)
            width = max(120, self.grid_view.width())
            self.grid_view.setPixmap(
                pm.scaledToWidth(width, Qt.TransformationMode.FastTransformation) if pm.width() < width else pm
            )
        elif frame.channel == "gadn-transfer":
            self.transfer_pixels = np.ascontiguousarray(frame.cells[0])
            self.output_view.setPixmap(pixmap_of(frame.cells[0], 96))
            self.result_actions.set_ready(True)

    def _on_failed(self, failure) -> None:
        if self._stamps.get(failure.channel) == failure.stamp:
            self.main_window.show_error(failure.message)

    # ------------------------------------------------------------------------------ style transfer
    def _choose_file(self) -> None:
        suffixes = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Image to redraw", "", f"Images ({suffixes})")
        if path:
            self.transfer_file(path)

    def transfer_file(self, path: str) -> None:
        """Encode ``path`` in a job; when done, its content goes onto the canvas in the picked style."""
        model = self.model()
        if model is None:
            self.main_window.show_error("Open a GADN model first.")
            return
        handle = self.main_window.start_job(EncodeImageJob(model, Path(path)))
        handle.finished.connect(self._encoded)
        self.transfer_handle = handle

    def _encoded(self, result) -> None:
        if not result.ok:
            self.main_window.show_error(result.message)
            return
        self.drop.setPixmap(pixmap_of(result.outputs["input_pixels"], 96))

        def change(s):
            s["content"] = result.outputs["content"]
            s["directions"] = {}
            s["source_image"] = Path(result.outputs["image"]).name

        self._edit(change)

    # ------------------------------------------------------------------------------ the result
    def result_for_handoff(self):
        """(pixels, canvas state, None) of the redrawn picture, for Keep / Send to; None before one."""
        if self.transfer_pixels is None:
            return None
        return self.transfer_pixels, self.main_window.current_state(), None

    def save_dialog(self) -> None:
        from studio.core.export import save_png

        got = self.result_for_handoff()
        if got is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the redrawn picture", "redrawn.png", "PNG (*.png)")
        if path:
            try:
                save_png(path if path.lower().endswith(".png") else path + ".png", got[0], got[1])
                self.main_window.show_message(f"saved {path}")
            except (StudioError, OSError) as exc:
                self.main_window.show_error(f"could not save {path}: {exc}")


def make_panel(window: Any) -> GADNPanel:
    return GADNPanel(window)


TOOL = ToolSpec(
    "gadn",
    "GADN artists && style transfer…",
    "Ctrl+Shift+A",
    make_panel,
    kind="dock",
    help="pick an artist, blend styles, grids of content × artist, redraw your image",
    families=("gadn",),
    requires=("transfer", "encode", "artists"),
)
TOOLS = [TOOL]  # found through the 'studio.tools' entry point 'gadn' (pyproject.toml)
