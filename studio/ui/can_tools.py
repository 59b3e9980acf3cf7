"""CAN tools dock: the style meter, style steering and "sample many, sort by ambiguity".

- **Style meter**: the discriminator's posterior over the K styles for the canvas image as a bar chart
  (drawn with QPainter), its entropy as the "creativity" score (0 = clearly one style, log K = none),
  and the nearest training images in the style head's feature space (is it new, or copied?).
- **Style steering**: per style, *towards* / *away* buttons that move the latent code by gradient steps
  through the style head (``CANModel.steer``); the result goes through ``window.set_state`` so it is one
  undo step like any other edit.
- **Sample many**: draw a pool of random seeds, keep the most ambiguous (or most typical) ones and show
  them as a clickable grid; clicking a cell puts that sample on the canvas.

Nothing heavy runs in the GUI thread: the meter is computed by a newest-wins background worker (a slider
drag never builds a queue, stale answers are dropped), steering and sampling run as studio jobs in the
job panel (the Qt-free :class:`~studio.models.can.jobs.SteerJob` and
:class:`~studio.models.can.jobs.SampleSortedJob`, also ``studio run can steer|sort``), and grid images
come from the render engine.

The tool is declared by :data:`TOOL` (it serves CAN models) and found through the ``studio.tools``
entry point ``can``.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.registry import ToolSpec
from studio.engine.frames import array_to_qimage
from studio.models.can.jobs import SampleSortedJob, SteerJob

NEAREST_K = 5
NEAREST_PX = 52
GRID_PX = 64


def pixmap_of(pixels: np.ndarray, size: int) -> QPixmap:
    pm = QPixmap.fromImage(array_to_qimage(pixels))
    return pm.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


class LatestRunner(QObject):
    """Runs ``fn()`` calls on one background thread, newest per channel; results arrive in the GUI thread.

    ``done(channel, stamp, result, error)``: a call still waiting when a newer one arrives on the same
    channel is skipped, and the panel ignores answers whose stamp is not the newest it asked for.
    """

    done = Signal(str, int, object, str)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[int, Callable[[], Any]]] = {}
        self._running = False
        self._stamps = itertools.count(1)

    def submit(self, channel: str, fn: Callable[[], Any]) -> int:
        stamp = next(self._stamps)
        with self._lock:
            self._pending[channel] = (stamp, fn)
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="can-style-meter", daemon=True).start()
        return stamp

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                channel = next(iter(self._pending))
                stamp, fn = self._pending.pop(channel)
            try:
                result, error = fn(), ""
            except Exception as exc:  # shown to the user; the worker keeps going
                result, error = None, str(exc)
            self.done.emit(channel, stamp, result, error)


class StyleBars(QWidget):
    """A horizontal bar chart of a probability per style (the posterior), highest bar highlighted."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.values: np.ndarray = np.zeros(0)
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, names: list[str], values) -> None:
        self.names = list(names)
        self.values = np.asarray(values, dtype=float) if values is not None else np.zeros(0)
        self.setFixedHeight(max(60, 22 * len(self.names) + 8))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(240, max(60, 22 * len(self.names) + 8))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(pal.ColorRole.WindowText)
        if not self.names:
            p.setPen(text)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no style posterior yet")
            return
        fm = p.fontMetrics()
        label_w = min(self.width() // 3, max(fm.horizontalAdvance(n) for n in self.names) + 8)
        value_w = fm.horizontalAdvance("100%") + 6
        bar_w = max(10, self.width() - label_w - value_w - 8)
        top = 4
        best = int(np.argmax(self.values)) if self.values.size else -1
        uniform = 1.0 / len(self.names)
        for i, name in enumerate(self.names):
            y = top + i * 22
            v = float(self.values[i]) if i < self.values.size else 0.0
            p.setPen(text)
            p.drawText(
                QRectF(0, y, label_w - 4, 18),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(name, Qt.TextElideMode.ElideRight, label_w - 4),
            )
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(pal.ColorRole.AlternateBase))
            p.drawRoundedRect(QRectF(label_w, y + 2, bar_w, 14), 3, 3)
            p.setBrush(QColor(230, 126, 34) if i == best else QColor(52, 152, 219))
            p.drawRoundedRect(QRectF(label_w, y + 2, max(1.0, bar_w * min(1.0, max(0.0, v))), 14), 3, 3)
            p.setPen(QColor(127, 127, 127))  # the uniform posterior: where a perfectly ambiguous image sits
            x = label_w + bar_w * uniform
            p.drawLine(int(x), y, int(x), y + 18)
            p.setPen(text)
            p.drawText(QRectF(label_w + bar_w + 4, y, value_w, 18), Qt.AlignmentFlag.AlignVCenter, f"{v * 100:.0f}%")
        p.end()


class CANPanel(QWidget):
    """The dock widget. ``window`` is the studio MainWindow (public API only)."""

    def __init__(self, window: Any):
        super().__init__()
        self.main_window = window
        self.runner = LatestRunner()
        self.runner.done.connect(self._on_analysis)
        self._asked: dict[str, int] = {}
        self._grid_stamp = -1
        self.last_posterior: np.ndarray | None = None
        self.last_ambiguity: float | None = None
        self.last_nearest: list[dict[str, Any]] = []
        self.grid_states: list[dict[str, Any]] = []
        self.grid_scores: list[float] = []
        self.handles: list[Any] = []
        self.steer_buttons: list[tuple[QPushButton, QPushButton]] = []
        self._build()
        window.modelChanged.connect(lambda _id: self.model_changed())
        window.stateChanged.connect(self.state_changed)
        window.engine.frameReady.connect(self._on_frame)
        self.model_changed()

    # ------------------------------------------------------------------------------ widgets
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        self.note = QLabel("Open a CAN model to see its style meter, steer styles and sort samples by ambiguity.")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)

        box = QGroupBox("Style meter")
        ml = QVBoxLayout(box)
        self.bars = StyleBars()
        ml.addWidget(self.bars)
        self.creativity = QLabel("creativity: –")
        self.creativity.setToolTip(
            "Entropy of the style posterior. 0 = the discriminator is sure of one style; "
            "log K = it cannot place the image in any style (what CAN rewards)."
        )
        ml.addWidget(self.creativity)
        ml.addWidget(QLabel("Nearest training images (style-head features):"))
        row = QHBoxLayout()
        self.nearest_labels: list[QLabel] = []
        for _ in range(NEAREST_K):
            lab = QLabel()
            lab.setFixedSize(NEAREST_PX, NEAREST_PX)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            row.addWidget(lab)
            self.nearest_labels.append(lab)
        row.addStretch(1)
        ml.addLayout(row)
        self.nearest_note = QLabel("")
        self.nearest_note.setWordWrap(True)
        ml.addWidget(self.nearest_note)
        lay.addWidget(box)

        box = QGroupBox("Style steering")
        sl = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("amount"))
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0.1, 5.0)
        self.amount.setSingleStep(0.25)
        self.amount.setValue(1.0)
        self.amount.setToolTip("how far one click moves the latent code")
        row.addWidget(self.amount)
        row.addStretch(1)
        sl.addLayout(row)
        self.steer_grid = QGridLayout()
        sl.addLayout(self.steer_grid)
        lay.addWidget(box)

        box = QGroupBox("Sample many")
        gl = QVBoxLayout(box)
        row = QHBoxLayout()
        self.sort_by = QComboBox()
        self.sort_by.addItem("most ambiguous", "ambiguity")
        self.sort_by.addItem("most typical", "typicality")
        self.count = QSpinBox()
        self.count.setRange(1, 64)
        self.count.setValue(16)
        self.pool = QSpinBox()
        self.pool.setRange(1, 4096)
        self.pool.setValue(256)
        self.pool.setPrefix("of ")
        row.addWidget(self.sort_by)
        row.addWidget(self.count)
        row.addWidget(self.pool)
        gl.addLayout(row)
        self.sample_button = QPushButton("Sample and sort")
        self.sample_button.clicked.connect(self.sample_many)
        gl.addWidget(self.sample_button)
        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.ViewMode.IconMode)
        self.grid.setIconSize(QSize(GRID_PX, GRID_PX))
        self.grid.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.grid.setMovement(QListWidget.Movement.Static)
        self.grid.setMinimumHeight(150)
        self.grid.itemClicked.connect(self._grid_clicked)
        gl.addWidget(self.grid)
        lay.addWidget(box)
        lay.addStretch(1)
        self.controls = [self.amount, self.sort_by, self.count, self.pool, self.sample_button, self.grid]

    # ------------------------------------------------------------------------------ model / state
    def model(self):
        m = self.main_window.current_model()
        return m if TOOL.serves(m) else None

    def model_changed(self) -> None:
        model = self.model()
        for w in self.controls:
            w.setEnabled(model is not None)
        self.note.setVisible(model is None)
        self._rebuild_steering(model)
        self.grid.clear()
        self.grid_states, self.grid_scores = [], []
        self.last_posterior, self.last_ambiguity, self.last_nearest = None, None, []
        self.bars.set_values(list(model.styles) if model is not None else [], None)
        self.creativity.setText("creativity: –")
        for lab in self.nearest_labels:
            lab.clear()
        if model is not None:
            self.nearest_note.setText("" if model.has_index else "this model stores no training images to compare with")
            self.state_changed(self.main_window.current_state())

    def _rebuild_steering(self, model) -> None:
        while self.steer_grid.count():
            item = self.steer_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.steer_buttons = []
        if model is None:
            return
        for k, name in enumerate(model.styles):
            self.steer_grid.addWidget(QLabel(name), k, 0)
            to = QPushButton("towards")
            to.setToolTip(f"move the latent code so the discriminator sees more {name}")
            to.clicked.connect(lambda _c=False, i=k: self.steer(i, True))
            away = QPushButton("away")
            away.setToolTip(f"move the latent code away from {name}")
            away.clicked.connect(lambda _c=False, i=k: self.steer(i, False))
            self.steer_grid.addWidget(to, k, 1)
            self.steer_grid.addWidget(away, k, 2)
            self.steer_buttons.append((to, away))

    def state_changed(self, state: dict) -> None:
        model = self.model()
        if model is None or not state:
            return

        snapshot = dict(state)  # the worker thread reads its own copy

        def analyse(m=model, s=snapshot):
            post = m.style_posterior(s)
            amb = float(-(post * np.log(np.clip(post, 1e-12, 1.0))).sum())
            near = m.nearest_training_images(s, NEAREST_K) if m.has_index else []
            return post, amb, near

        self._asked["meter"] = self.runner.submit("meter", analyse)

    def _on_analysis(self, channel: str, stamp: int, result: Any, error: str) -> None:
        if self._asked.get(channel) != stamp:
            return  # an older answer: a newer state has been asked about
        model = self.model()
        if model is None:
            return
        if error:
            self.main_window.show_message(f"style meter: {error}")
            return
        post, amb, near = result
        self.last_posterior, self.last_ambiguity, self.last_nearest = post, amb, near
        self.bars.set_values(model.styles, post)
        top = int(np.argmax(post))
        pct = 100.0 * amb / model.max_ambiguity if model.max_ambiguity > 0 else 0.0
        self.creativity.setText(
            f"creativity: {amb:.2f} of {model.max_ambiguity:.2f} nats ({pct:.0f}%) — closest style: {model.styles[top]}"
        )
        for lab, item in itertools.zip_longest(self.nearest_labels, near):
            if lab is None:
                break
            if item is None:
                lab.clear()
                lab.setToolTip("")
                continue
            lab.setPixmap(pixmap_of(item["image"], NEAREST_PX))
            lab.setToolTip(f"{item['style']} (feature distance {item['distance']:.3f})")

    # ------------------------------------------------------------------------------ steering
    def steer(self, style_index: int, towards: bool) -> None:
        model = self.model()
        state = self.main_window.current_state()
        if model is None or not state:
            self.main_window.show_error("Open a CAN model first.")
            return
        handle = self.main_window.start_job(SteerJob(model, state, style_index, self.amount.value(), towards))
        handle.finished.connect(self._steered)
        self.handles.append(handle)

    def _steered(self, result) -> None:
        self.handles = [h for h in self.handles if h.running]
        if not result.ok:
            self.main_window.show_error(result.message)
            return
        if self.model() is not None:
            self.main_window.set_state(result.outputs["state"], undoable=True)

    # ------------------------------------------------------------------------------ sample many
    def sample_many(self) -> None:
        model = self.model()
        if model is None:
            self.main_window.show_error("Open a CAN model first.")
            return
        state = self.main_window.current_state()
        count = self.count.value()
        pool = max(count, self.pool.value())
        seed = int(state.get("seed", 0)) if state else 0
        truncation = float(state.get("truncation", 1.0)) if state else 1.0
        job = SampleSortedJob(
            model,
            self.main_window.current_model_id() or model.card.name,
            count,
            self.sort_by.currentData(),
            pool,
            seed,
            truncation,
        )
        handle = self.main_window.start_job(job)
        handle.finished.connect(self._sampled)
        self.handles.append(handle)

    def _sampled(self, result) -> None:
        self.handles = [h for h in self.handles if h.running]
        if not result.ok:
            self.main_window.show_error(result.message)
            return
        model = self.model()
        if model is None:
            return
        self.grid_states = result.outputs["states"]
        self.grid_scores = result.outputs["ambiguity"]
        self.grid.clear()
        for i, (state, score) in enumerate(zip(self.grid_states, self.grid_scores)):
            item = QListWidgetItem(f"{score:.2f}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(f"seed {state['seed']}: creativity {score:.3f} nats")
            self.grid.addItem(item)
        key = self.main_window.current_model_path() or self.main_window.current_model_id()
        cols = max(1, int(math.ceil(math.sqrt(len(self.grid_states)))))
        rows = int(math.ceil(len(self.grid_states) / cols))
        self._grid_stamp = self.main_window.engine.request(key, self.grid_states, "can-sorted", rows, cols)

    def _on_frame(self, frame) -> None:
        if frame.channel != "can-sorted" or frame.stamp != self._grid_stamp:
            return
        for i, cell in enumerate(frame.cells):
            if i < self.grid.count():
                self.grid.item(i).setIcon(QIcon(pixmap_of(cell, GRID_PX)))

    def _grid_clicked(self, item: QListWidgetItem) -> None:
        i = item.data(Qt.ItemDataRole.UserRole)
        if i is not None and 0 <= i < len(self.grid_states):
            self.main_window.set_state(self.grid_states[i], undoable=True)


def make_panel(window: Any) -> CANPanel:
    return CANPanel(window)


TOOL = ToolSpec(
    "can",
    "CAN style meter && steering…",
    "Ctrl+Shift+Y",
    make_panel,
    kind="dock",
    help="style posterior, creativity score, nearest training images, style steering, samples sorted by ambiguity",
    families=("can",),
    requires=("style_posterior", "steer", "sample_sorted"),
)
TOOLS = [TOOL]  # found through the 'studio.tools' entry point 'can' (pyproject.toml)
