"""Translate tool: open or drop any image, choose a translator (CycleGAN / U-GAT-IT) and a direction, see
input and output side by side at the image's own resolution, save the result with its metadata.

The widget only collects choices and shows pixels. The work — loading the translator and translating,
in overlapping tiles for large images (one progress step per tile, cancellable between tiles) — is the
Qt-free :class:`~studio.models.translate_jobs.ModelTranslateJob` run through ``window.start_job``; the
same job ``studio run cyclegan translate`` runs. Translators are the models whose family offers a
'translate' job, so a plugin translator family is listed too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.registry import ToolSpec
from studio.models.translate_jobs import ModelTranslateJob

from .image_open import open_user_image
from .pixel_view import PixelView
from .result_actions import ResultActions
from .widgets import AcceptsFileDrops, JobSlot, button, button_row, window_device
from .widgets import form as make_form

TRANSLATE_JOB = "translate"  # models whose family offers this job are listed (CycleGAN, U-GAT-IT, plugins…)
AUTO_TILE_ABOVE = 768  # images with a side above this are translated in tiles (bounded memory)
AUTO_TILE = 384
VIEW_MIN = 110  # px: input, translation and attention side by side in a default-width dock


class TranslatePanel(AcceptsFileDrops, QWidget):
    def __init__(self, window: Any):
        super().__init__()
        self.main_window = window
        self.cache: dict = {}
        self.jobs = JobSlot(window, self._on_progress, self._on_finished)
        self.source_path: Path | None = None
        self.source_image: Image.Image | None = None  # RGB
        self.result: dict[str, Any] | None = None
        self.setAcceptDrops(True)

        self.translator = QComboBox()
        self.translator.setToolTip("a CycleGAN or U-GAT-IT model (train one with 'studio train cyclegan')")
        self.translator.currentIndexChanged.connect(self._translator_changed)
        self.direction = QComboBox()
        self.tile = QSpinBox()
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("auto")
        self.tile.setToolTip(
            f"tile size in px (auto: whole image up to {AUTO_TILE_ABOVE} px, else {AUTO_TILE} px tiles with overlap)"
        )
        self.auto_run = QCheckBox("Translate when the image or choice changes")
        self.auto_run.setChecked(True)
        form = make_form(
            [("Translator", self.translator), ("Direction", self.direction), ("Tiles", self.tile), ("", self.auto_run)]
        )

        self.open_button = button("Open image…", self.open_dialog)
        self.run_button = button("Translate", self.start)
        self.cancel_button = button("Cancel", self.cancel, enabled=False)
        buttons = button_row(self.open_button, self.run_button, self.cancel_button)
        # Save… · Keep · Send to ▾ (another tool, the canvas): tools feed each other
        self.result_actions = ResultActions(window, __name__, self.result_for_handoff, self.save_dialog)
        self.save_button = self.result_actions.save_button

        # three views side by side must fit the dock's default width (~390 px), or the row (and the
        # attention map, the last of them) is cut off: 110 px each, growing with the space given
        self.input_view = PixelView("Drop an image\nhere or use\nOpen image…", VIEW_MIN, 160)
        self.output_view = PixelView("translation", VIEW_MIN, 160)
        # U-GAT-IT only: the generator's CAM attention (studio.models.ugatit.attention), brighter = more
        self.attention_view = PixelView("attention", VIEW_MIN, 160)
        self.attention_view.setToolTip("U-GAT-IT attention map: where the generator looked (bright = more)")
        self.attention_view.setVisible(False)
        views = QHBoxLayout()
        views.addWidget(self.input_view, 1)
        views.addWidget(self.output_view, 1)
        views.addWidget(self.attention_view, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(views, 1)
        layout.addWidget(self.result_actions)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.direction.currentIndexChanged.connect(lambda _i: self._maybe_run())
        self.populate()

    # -- choices -----------------------------------------------------------------------------------
    def _store(self):
        store = getattr(self.main_window, "store", None)
        if store is None:
            from studio.core.store import ModelStore

            store = ModelStore()
        return store

    def populate(self) -> None:
        """List the installed translators (bundled and user models of the translator families)."""
        current = self.translator.currentData()
        self.translator.blockSignals(True)
        self.translator.clear()
        store = self._store()
        families = getattr(store, "registry", None)
        families = families.families if families is not None else {}
        for mid, entry in store.entries.items():
            family = families.get(entry.card.family)
            if family is not None and TRANSLATE_JOB in family.jobs():
                self.translator.addItem(f"{mid} ({entry.card.family})", str(entry.path))
        idx = self.translator.findData(current) if current else 0
        self.translator.setCurrentIndex(max(0, idx))
        self.translator.blockSignals(False)
        self._translator_changed()
        if self.translator.count() == 0:
            self.status.setText("No translators installed: train one with 'studio train cyclegan --a DIR --b DIR'.")
        self.run_button.setEnabled(self.translator.count() > 0)

    def card_path(self) -> Path | None:
        data = self.translator.currentData()
        return Path(data) if data else None

    def _translator_changed(self) -> None:
        from studio.core.checkpoint import read_card

        self.direction.blockSignals(True)
        self.direction.clear()
        path = self.card_path()
        domains = ["A", "B"]
        if path is not None:
            try:
                domains = (read_card(path).labels.get("domains") or domains)[:2]
            except StudioError:
                pass
        a, b = (domains + ["B"])[:2]
        self.direction.addItem(f"{a} → {b}", "a2b")
        self.direction.addItem(f"{b} → {a}", "b2a")
        self.direction.blockSignals(False)
        self._maybe_run()

    # -- input -------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open an image",
            str(self.source_path or Path.cwd()),
            "Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)",
        )
        if path:
            self.open_image(path)

    def open_image(self, path: str | Path) -> bool:
        """Load any image through the studio's safe loader; a bad file shows a clear error."""
        img = open_user_image(self.main_window, path, self)  # a too-large picture is offered a scale-down
        if img is None:
            return False
        self.source_path, self.source_image = Path(path), img
        self.input_view.set_pixels(np.asarray(img, dtype=np.uint8))
        self.output_view.set_pixels(None)
        self.attention_view.set_pixels(None)
        self.result = None
        self.result_actions.set_ready(False)
        self.status.setText(f"{self.source_path.name}: {img.width}×{img.height}")
        self._maybe_run()
        return True

    def file_dropped(self, path: str) -> bool:
        self.open_image(path)  # a bad file shows its error; the drop itself was taken
        return True

    # -- running -----------------------------------------------------------------------------------
    def tile_size(self) -> int:
        if self.tile.value() > 0:
            return self.tile.value()
        if self.source_image is not None and max(self.source_image.size) > AUTO_TILE_ABOVE:
            return AUTO_TILE
        return 0

    def _maybe_run(self) -> None:
        if self.auto_run.isChecked() and self.source_image is not None and self.card_path() is not None:
            self.start()

    def start(self) -> None:
        if self.source_image is None:
            self.main_window.show_error("Open or drop an image to translate first.")
            return
        path = self.card_path()
        if path is None:
            self.main_window.show_error("No translator installed: train one with 'studio train cyclegan'.")
            return
        if self.jobs.running:
            self.jobs.cancel()  # a newer request replaces this one
        device = window_device(self.main_window)
        job = ModelTranslateJob(
            path, self.source_image, self.direction.currentData(), self.tile_size(), device=device, cache=self.cache
        )
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.status.setText("translating…")
        self.jobs.start(job)

    @property
    def handle(self):
        """The current job's handle (None before the first run)."""
        return self.jobs.handle

    def cancel(self) -> None:
        self.jobs.cancel()

    def _on_progress(self, p) -> None:
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.step)
        if p.message:
            self.status.setText(p.message)

    def _on_finished(self, result) -> None:
        self.cancel_button.setEnabled(False)
        if not result.ok:
            if result.status == "failed":
                self.main_window.show_error(result.message)
            self.status.setText(result.message)
            return
        self.result = dict(result.outputs)
        pixels = self.result["image"]
        self.output_view.set_pixels(pixels)
        attention = self.result.get("attention")
        self.attention_view.set_pixels(attention)
        self.attention_view.setVisible(attention is not None)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.result_actions.set_ready(True)
        tiles = self.result.get("tiles", 1)
        self.status.setText(
            f"{pixels.shape[1]}×{pixels.shape[0]} with {self.result['model']} "
            f"({self.direction.currentText()}{f', {tiles} tiles' if tiles > 1 else ''})"
        )

    # -- output ------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        from studio.core.family import new_state

        r = self.result or {}
        st = new_state(r.get("model", ""))
        st["labels"]["direction"] = r.get("direction", "a2b")
        st["translate"] = {
            "source": self.source_path.name if self.source_path else "",
            "direction": r.get("direction", "a2b"),
            "tile": self.tile_size(),
            "size": list(self.source_image.size) if self.source_image is not None else [],
        }
        return st

    def result_for_handoff(self):
        """(pixels, state, None) of the last translation, for Keep / Send to; None before one."""
        if not self.result:
            return None
        return self.result["image"], self.state(), None

    def save(self, path: str | Path) -> Path:
        from studio.core.export import save_png

        if not self.result:
            raise StudioError("nothing to save yet: translate an image first")
        return save_png(path, self.result["image"], self.state())

    def save_dialog(self) -> None:
        stem = self.source_path.stem if self.source_path else "translated"
        r = self.result or {}
        suggestion = str(Path.cwd() / f"{stem}-{r.get('model', '')}-{r.get('direction', '')}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save translation", suggestion, "PNG (*.png)")
        if path:
            try:
                self.save(path if path.lower().endswith(".png") else path + ".png")
                self.main_window.show_message(f"saved {path}")
            except (StudioError, OSError) as exc:
                self.main_window.show_error(f"could not save {path}: {exc}")


def make_panel(window: Any) -> TranslatePanel:
    return TranslatePanel(window)


TOOL = ToolSpec(
    "translate",
    "Translate image…",
    "Ctrl+Shift+T",
    make_panel,
    kind="dock",
    help="apply a CycleGAN / U-GAT-IT translator to any image",
)  # any model: it lists the translators
TOOLS = [TOOL]  # found through the 'studio.tools' entry point 'translate' (pyproject.toml)
