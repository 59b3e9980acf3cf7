"""Tools ▸ "Fine-tune on this painting…": teach the model on the canvas one painting's style (CSGAN), live.

The widget only collects choices and shows progress: the work is
:class:`studio.models.csgan.finetune.FinetuneJob`, run through ``window.start_job`` — the same job
``studio finetune`` runs. It shows which generator layers train, a live grid (parent samples above,
fine-tuned below), loss curves and, when done, a chart of each layer's relative change ||ΔW||/||W||
(the paper's Figure 3). The child model is saved in the user models folder and the model list is
refreshed so it appears under its parent; its style strength slider comes from the child's controls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.registry import ToolSpec

from .loss_curve import LossCurve
from .pixel_view import IMAGE_FILTER, PixelView
from .widgets import AcceptsFileDrops, JobSlot, button, button_row, window_device
from .widgets import form as make_form


class ChangeChart(QWidget):
    """Bars of each layer's relative parameter change (trained layers in colour, frozen ones grey)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, float] = {}
        self.trained: set[str] = set()
        self.setMinimumSize(220, 110)
        self.setToolTip(
            "relative change ||ΔW|| / ||W|| of each generator layer after fine-tuning "
            "(the CSGAN paper's Figure 3: the last layers change most)"
        )

    def set_values(self, values: dict[str, float], trained: list[str] | None = None) -> None:
        self.values = dict(values)
        self.trained = set(trained or values)
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 34))
        if not self.values:
            p.setPen(QColor(160, 160, 165))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "per-layer change appears after a fine-tune")
            return
        plot = QRectF(self.rect()).adjusted(8, 18, -8, -22)
        top = max(self.values.values()) or 1.0
        n = len(self.values)
        w = plot.width() / n
        p.setPen(QColor(200, 200, 205))
        p.drawText(
            QRectF(plot.left(), 0, plot.width(), 16), Qt.AlignmentFlag.AlignLeft, f"||ΔW||/||W||  (max {top:.3g})"
        )
        for i, (name, value) in enumerate(self.values.items()):
            h = plot.height() * (value / top)
            bar = QRectF(plot.left() + i * w + w * 0.15, plot.bottom() - h, w * 0.7, h)
            p.fillRect(bar, QColor("#e67e22") if name in self.trained else QColor(110, 110, 116))
            p.setPen(QColor(200, 200, 205))
            p.drawText(QRectF(plot.left() + i * w, plot.bottom() + 2, w, 18), Qt.AlignmentFlag.AlignHCenter, name)


class FinetunePanel(AcceptsFileDrops, QWidget):
    """Painting + settings -> a running FinetuneJob with preview, curves, Cancel and the change chart."""

    def __init__(self, window: Any):
        super().__init__()
        self.main_window = window
        self.jobs = JobSlot(window, self._on_progress, self._on_finished)
        self.painting: Path | None = None
        self.loss_network = None  # tests inject a tiny network; None = VGG-19
        self.models_dir: Path | None = None  # None = the user models folder
        self.result: dict[str, Any] | None = None
        self.setAcceptDrops(True)
        from studio.models.csgan.finetune import FinetuneConfig

        d = FinetuneConfig()
        self.model_label = QLabel("")
        # a fine-tuned model's long name must not widen the side panel (issue 17 item 7): the label takes
        # the width it is given (the whole name in its tooltip), and never wraps — a label that changes
        # height would move the buttons below it
        self.model_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.painting_view = PixelView("Drop a painting here\nor use Open painting…")
        self.open_button = QPushButton("Open painting…")
        self.open_button.clicked.connect(self.open_dialog)
        self.steps = self._spin(1, 100000, d.steps, "optimisation steps")
        self.batch = self._spin(1, 512, d.batch, "samples per step (the same z goes to G_C and G_S)")
        self.layers = QComboBox()
        self.layers.setToolTip(
            "train the whole generator or only its last K layers (the paper: the last layers carry the style)"
        )
        self.layers.currentIndexChanged.connect(self._show_trained)
        self.trained_label = QLabel("")
        self.trained_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.style_weight = self._dspin(0, 1e6, d.style_weight, "weight of the Gram style loss")
        self.content_weight = self._dspin(0, 1e6, d.content_weight, "weight of the content loss vs G_C")
        self.tv_weight = self._dspin(0, 1e6, d.tv_weight, "weight of the total-variation (smoothness) loss")
        self.size_box = self._spin(0, 1024, d.size, "image size fed to VGG-19 (0 = the generator's size)")
        self.size_box.setSpecialValueText("model size")
        self.precision = QComboBox()
        self.precision.addItems(["auto", "fp32", "bf16"])
        self.precision.setToolTip("auto: bf16 autocast on CPUs with native bf16 (AMX / AVX-512 BF16), else fp32")
        form = make_form(
            [
                ("Model", self.model_label),
                ("Steps", self.steps),
                ("Batch", self.batch),
                ("Layers", self.layers),
                ("", self.trained_label),
                ("Style weight", self.style_weight),
                ("Content weight", self.content_weight),
                ("TV weight", self.tv_weight),
                ("Loss image size", self.size_box),
                ("Precision", self.precision),
            ]
        )

        self.start_button = button("Fine-tune", self.start)
        self.cancel_button = button("Cancel", self.cancel, enabled=False)
        self.open_child_button = button("Open result", self.open_child, enabled=False)
        buttons = button_row(self.open_button, self.start_button, self.cancel_button, self.open_child_button)
        self.preview = PixelView("live preview: parent samples above, fine-tuned below", 200)
        self.curves = LossCurve()
        self.chart = ChangeChart()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        # buttons never move (issue 17 item 7: a preview appearing below re-balanced a stretchy painting
        # view above, and the Cancel button slid away from the cursor): the painting, the form and the
        # buttons sit in a block of fixed height; only what is below them shares the rest
        self.painting_view.setFixedHeight(140)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.painting_view)
        top_layout.addLayout(form)
        top_layout.addLayout(buttons)
        top.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout.addWidget(top)
        # what grows and changes (preview, curves, chart, status) shares the rest and never asks for room
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.preview, 2)
        bottom_layout.addWidget(self.curves, 1)
        bottom_layout.addWidget(self.chart, 1)
        bottom_layout.addWidget(self.progress)
        bottom_layout.addWidget(self.status)
        bottom.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        layout.addWidget(bottom, 1)
        if hasattr(window, "modelChanged"):
            window.modelChanged.connect(lambda _mid: self.refresh_model())
        self.refresh_model()

    @staticmethod
    def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
        s = QSpinBox()
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    @staticmethod
    def _dspin(lo: float, hi: float, value: float, tip: str) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(3)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    # -- model and layers ----------------------------------------------------------------------------
    def model_path(self) -> Path | None:
        getter = getattr(self.main_window, "current_model_path", None)
        path = getter() if callable(getter) else None
        if path is None and callable(getattr(self.main_window, "current_model_id", None)):
            mid = self.main_window.current_model_id()
            store = getattr(self.main_window, "store", None)
            if mid and store is not None and mid in store.entries:
                path = store.entries[mid].path
        return Path(path) if path else None

    def refresh_model(self) -> None:
        from studio.models.csgan.finetune import FinetuneConfig, generator_layer_names

        model = self.main_window.current_model() if callable(getattr(self.main_window, "current_model", None)) else None
        names = generator_layer_names(model) if model is not None else []
        self.layer_names = names
        self.layers.blockSignals(True)
        self.layers.clear()
        self.layers.addItem(f"whole generator ({len(names)} layers)", 0)
        for k in range(1, len(names)):
            self.layers.addItem(f"last {k}", k)
        self.layers.setCurrentIndex(max(0, self.layers.findData(FinetuneConfig().layers)))  # the measured default
        self.layers.blockSignals(False)
        ok = bool(names)
        model_id = getattr(self.main_window, "current_model_id", None)
        mid = model_id() if callable(model_id) else None
        self.model_label.setText(mid or "(no model)" if ok else f"{mid or 'no model'}: cannot be fine-tuned")
        self.model_label.setToolTip(self.model_label.text())
        self.start_button.setEnabled(ok)
        self._show_trained()

    def _show_trained(self) -> None:
        k = self.layers.currentData() or 0
        names = getattr(self, "layer_names", [])
        chosen = names if k == 0 else names[-k:]
        self.trained_label.setText("trains: " + ", ".join(chosen) if chosen else "")
        self.trained_label.setToolTip(self.trained_label.text())

    # -- painting ------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a painting", str(Path.cwd()), IMAGE_FILTER)
        if path:
            self.set_painting(path)

    def set_painting(self, path: str | Path) -> bool:
        from studio.core.images import load_image

        try:
            img = load_image(path)
        except StudioError as exc:
            self.main_window.show_error(str(exc))
            return False
        img.thumbnail((512, 512))
        self.painting = Path(path)
        self.painting_view.set_pixels(np.asarray(img, dtype=np.uint8))
        self.status.setText(f"painting: {self.painting.name}")
        return True

    def file_dropped(self, path: str) -> bool:
        return self.set_painting(path)

    # -- running -------------------------------------------------------------------------------------
    def config(self):
        from studio.models.csgan.finetune import FinetuneConfig

        return FinetuneConfig(
            steps=self.steps.value(),
            batch=self.batch.value(),
            layers=self.layers.currentData() or 0,
            style_weight=self.style_weight.value(),
            content_weight=self.content_weight.value(),
            tv_weight=self.tv_weight.value(),
            size=self.size_box.value(),
            precision=self.precision.currentText(),
        )

    def start(self) -> None:
        from studio.models.csgan.finetune import FinetuneJob

        if self.painting is None:
            self.main_window.show_error("Open or drop a painting first.")
            return
        path = self.model_path()
        if path is None:
            self.main_window.show_error("Open a model to fine-tune first.")
            return
        if self.jobs.running:
            self.main_window.show_error("A fine-tune is already running; cancel it first.")
            return
        try:
            cfg = self.config()
        except StudioError as exc:
            self.main_window.show_error(str(exc))
            return
        device = window_device(self.main_window)
        job = FinetuneJob(
            path,
            self.painting,
            cfg,
            device=device,
            models_dir=self.models_dir,
            loss_network=self.loss_network,
            command=f"GUI: Fine-tune on this painting ({self.painting.name})",
        )
        self.curves.clear()
        self.chart.set_values({})
        self.result = None
        self.open_child_button.setEnabled(False)
        self.progress.setRange(0, cfg.steps)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.start_button.setEnabled(False)
        self.status.setText("starting…")
        self.jobs.start(job)

    @property
    def handle(self):
        """The current job's handle (None before the first run)."""
        return self.jobs.handle

    def cancel(self) -> None:
        if self.handle is not None:
            self.jobs.cancel()
            self.status.setText("stopping… (the work so far is saved as a model)")

    def _on_progress(self, p) -> None:
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.step)
        if p.preview is not None:
            self.preview.set_pixels(p.preview)
        if p.losses:
            self.curves.set_history(list(self.handle.history))
            self.status.setText(f"step {p.step}/{p.total}  " + "  ".join(f"{k} {v:.4g}" for k, v in p.losses.items()))
        elif p.message:
            self.status.setText(p.message)

    def _on_finished(self, result) -> None:
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        self.curves.set_history(list(self.handle.history))
        card = result.outputs.get("card")
        if result.status == "failed":
            self.main_window.show_error(result.message)
        self.status.setText(result.message + (f" — saved {Path(card).stem}" if card else ""))
        if not card:
            return
        from studio.core.checkpoint import read_card

        try:
            child = read_card(card)
        except StudioError as exc:
            self.main_window.show_error(str(exc))
            return
        self.result = {"card": card, "id": Path(card).stem}
        self.chart.set_values(child.metrics.get("relative_change", {}), child.extra.get("trained_layers"))
        self.open_child_button.setEnabled(True)
        if callable(getattr(self.main_window, "refresh_models", None)):
            self.main_window.refresh_models()

    def open_child(self) -> None:
        if self.result and callable(getattr(self.main_window, "open_model", None)):
            self.main_window.open_model(self.result["id"] if self.models_dir is None else self.result["card"])


def make_panel(window: Any) -> FinetunePanel:
    return FinetunePanel(window)


TOOL = ToolSpec(
    "finetune",
    "Fine-tune on this painting…",
    "Ctrl+Shift+F",
    make_panel,
    kind="dock",
    help="teach the current generator one painting's style (CSGAN), with live preview",
)
TOOLS = [TOOL]  # found through the 'studio.tools' entry point 'finetune' (pyproject.toml)
