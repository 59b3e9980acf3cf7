"""Tools ▸ "Stylize a photo…": Gatys style transfer of one photo with live preview, Cancel and a saved PNG.

Two image wells (content photo, style painting) accept a file dialog or a drop; the settings are the
report's: content-to-style ratio (1, 1e3, 1e6, 1e9), L-BFGS or Adam, start from the photo or noise, output
size, steps. The work is :class:`studio.stylize.StylizeJob` run through ``window.start_job`` (the same
job as ``studio stylize``); the result is written atomically as a PNG with its settings in the metadata
under ``$STUDIO_HOME/stylized/`` and can be saved elsewhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.registry import ToolSpec

from .image_open import open_user_image
from .loss_curve import LossCurve
from .pixel_view import IMAGE_FILTER, PixelView
from .result_actions import ResultActions
from .widgets import AcceptsFileDrops, JobSlot, button, button_row, window_device
from .widgets import form as make_form

RATIOS = ("1", "1e3", "1e4", "1e5", "1e6", "1e9")


class DropWell(AcceptsFileDrops, PixelView):
    """An image well: click-free drop target that reports the dropped file to its panel."""

    def __init__(self, placeholder: str, on_file):
        super().__init__(placeholder)
        self.on_file = on_file
        self.setAcceptDrops(True)

    def file_dropped(self, path: str) -> bool:
        return bool(self.on_file(path))


class StylizePanel(QWidget):
    def __init__(self, window: Any):
        super().__init__()
        from studio.stylize import StylizeConfig
        from studio.stylize.gatys import _MAX_SIDE, AUTO_SIZE_LIMIT, TILE_ABOVE

        d = StylizeConfig()
        self.main_window = window
        self.jobs = JobSlot(window, self._on_progress, self._on_finished)
        self.paths: dict[str, Path | None] = {"content": None, "style": None}
        self.loss_network = None  # tests inject a tiny network; None = VGG-19
        self.output: Path | None = None
        self.output_pixels: np.ndarray | None = None
        self.content_well = DropWell("Drop a photo here", lambda p: self.set_image("content", p))
        self.style_well = DropWell("Drop a style image here", lambda p: self.set_image("style", p))
        wells = QHBoxLayout()
        wells.addWidget(self.content_well, 1)
        wells.addWidget(self.style_well, 1)
        pick = QHBoxLayout()
        for role, text in (("content", "Open photo…"), ("style", "Open style…")):
            b = QPushButton(text)
            b.clicked.connect(lambda _c=False, r=role: self.open_dialog(r))
            pick.addWidget(b)

        self.ratio = QComboBox()
        self.ratio.setEditable(True)
        self.ratio.addItems(RATIOS)
        self.ratio.setCurrentText(f"{d.ratio:.0e}".replace("e+0", "e"))
        self.ratio.setToolTip(
            "style emphasis as in the report's table: larger = more style (1e3 only tints the photo, "
            "1e4 paints it with its subject readable, 1e5 and up are mostly style)"
        )
        self.optimizer = QComboBox()
        self.optimizer.addItems(["lbfgs", "adam"])
        self.init = QComboBox()
        self.init.addItems(["content", "noise"])
        self.size_box = QSpinBox()
        self.size_box.setRange(0, _MAX_SIDE)
        self.size_box.setSingleStep(64)
        self.size_box.setSpecialValueText(f"the photo's (up to {AUTO_SIZE_LIMIT} px)")
        self.size_box.setValue(d.size)
        self.size_box.setToolTip(
            f"output's longer side in px; 'the photo's' keeps the photo's own size up to {AUTO_SIZE_LIMIT} px. "
            f"Above {TILE_ABOVE} px the photo is stylised in tiles (slower, same memory)"
        )
        self.steps = QSpinBox()
        self.steps.setRange(1, 5000)
        self.steps.setValue(d.steps)
        form = make_form(
            [
                ("Ratio", self.ratio),
                ("Optimizer", self.optimizer),
                ("Start from", self.init),
                ("Size", self.size_box),
                ("Steps", self.steps),
            ]
        )

        self.start_button = button("Stylize", self.start)
        self.cancel_button = button("Cancel", self.cancel, enabled=False)
        buttons = button_row(self.start_button, self.cancel_button)
        # Save… · Keep · Send to ▾ (another tool, the canvas): tools feed each other
        self.result_actions = ResultActions(window, __name__, self.result_for_handoff, self.save_dialog)
        self.save_button = self.result_actions.save_button
        self.preview = PixelView("the stylised image appears here while it is optimised", 200)
        self.curves = LossCurve()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(wells, 1)
        layout.addLayout(pick)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.preview, 2)
        layout.addWidget(self.result_actions)
        layout.addWidget(self.curves, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    def open_dialog(self, role: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Open the {role} image", str(Path.cwd()), IMAGE_FILTER)
        if path:
            self.set_image(role, path)

    def set_image(self, role: str, path: str | Path) -> bool:
        img = open_user_image(self.main_window, path, self)  # a too-large picture is offered a scale-down
        if img is None:
            return False
        img.thumbnail((512, 512))
        self.paths[role] = Path(path)
        (self.content_well if role == "content" else self.style_well).set_pixels(np.asarray(img, np.uint8))
        return True

    def config(self):
        from studio.stylize import StylizeConfig

        try:
            ratio = float(self.ratio.currentText())
        except ValueError:
            raise StudioError(f"ratio must be a number such as 1e3, not '{self.ratio.currentText()}'") from None
        return StylizeConfig(
            ratio=ratio,
            optimizer=self.optimizer.currentText(),
            init=self.init.currentText(),
            size=self.size_box.value() and max(16, self.size_box.value()),
            steps=self.steps.value(),
        )

    def start(self) -> None:
        from studio.core.paths import studio_home
        from studio.stylize import StylizeJob

        content, style = self.paths["content"], self.paths["style"]
        if content is None or style is None:
            self.main_window.show_error("Choose both a photo and a style image first.")
            return
        if self.jobs.running:
            self.main_window.show_error("A stylisation is already running; cancel it first.")
            return
        try:
            cfg = self.config()
        except StudioError as exc:
            self.main_window.show_error(str(exc))
            return
        out = studio_home() / "stylized" / f"{content.stem}-{style.stem}-{self.ratio.currentText()}.png"
        device = window_device(self.main_window)
        # scale_down: a picture over 100 MP got here only after the user agreed to open it scaled down
        job = StylizeJob(content, style, out, cfg, device=device, loss_network=self.loss_network, scale_down=True)
        self.curves.clear()
        self.output = None
        self.result_actions.set_ready(False)
        self.progress.setRange(0, cfg.steps)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.start_button.setEnabled(False)
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
        if p.preview is not None:
            self.preview.set_pixels(p.preview)
        if p.losses:
            self.curves.set_history(
                [
                    (s, {k: v for k, v in losses.items() if k in ("content", "style")})
                    for s, losses in self.handle.history
                ]
            )
            self.status.setText(f"step {p.step}/{p.total}  " + "  ".join(f"{k} {v:.4g}" for k, v in p.losses.items()))
        elif p.message:
            self.status.setText(p.message)

    def _on_finished(self, result) -> None:
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        if result.status == "failed":
            self.main_window.show_error(result.message)
        image = result.outputs.get("image")
        self.status.setText(result.message + (f" — {image}" if image else ""))
        if image:
            self.output = Path(image)
            from PIL import Image

            with Image.open(self.output) as img:
                self.output_pixels = np.asarray(img.convert("RGB"), np.uint8)
            self.preview.set_pixels(self.output_pixels)
            self.result_actions.set_ready(True)

    def result_for_handoff(self):
        """(pixels, state, the saved PNG) of the last stylisation, for Keep / Send to; None before one."""
        if self.output is None or self.output_pixels is None:
            return None
        from studio.core.family import new_state

        state = new_state("")
        state["stylize"] = {
            "content": self.paths["content"].name if self.paths["content"] else "",
            "style": self.paths["style"].name if self.paths["style"] else "",
            "ratio": self.ratio.currentText(),
        }
        return self.output_pixels, state, self.output

    def save_as(self, path: str | Path) -> Path:
        """Copy the saved PNG (metadata included) to ``path`` atomically."""
        from studio.core.atomic import atomic_path

        if self.output is None:
            raise StudioError("nothing to save yet: stylize a photo first")
        with atomic_path(Path(path)) as tmp:
            shutil.copyfile(self.output, tmp)
        return Path(path)

    def save_dialog(self) -> None:
        name = self.output.name if self.output is not None else "stylised.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save the stylised image", str(Path.cwd() / name), "PNG (*.png)")
        if path:
            try:
                self.save_as(path if path.lower().endswith(".png") else path + ".png")
                self.main_window.show_message(f"saved {path}")
            except (StudioError, OSError) as exc:
                self.main_window.show_error(f"could not save {path}: {exc}")


def make_panel(window: Any) -> StylizePanel:
    return StylizePanel(window)


TOOL = ToolSpec(
    "stylize",
    "Stylize a photo…",
    "Ctrl+Shift+P",
    make_panel,
    kind="dock",
    help="repaint a photo in a painting's style (Gatys et al., VGG-19)",
)
TOOLS = [TOOL]  # found through the 'studio.tools' entry point 'stylize' (pyproject.toml)
