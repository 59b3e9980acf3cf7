"""The window's doors to GAN inversion and animation export (the jobs are Qt-free; this only asks and wires).

- Dropping a plain picture (no GAN Studio state in it) on the canvas of a model that declares an
  inversion space offers "Find it in the latent space"; File ▸ Find a picture in the latent space… does
  the same from a file dialog. The :class:`~studio.models.invert.InvertJob` runs on the shared job API
  (live preview and Cancel in the Jobs panel); its state becomes the canvas (one undo step), so every
  slider applies to it, and the status bar tells the reconstruction quality.
- File ▸ Export animation… exports an interpolation (along a direction, through the grid's cells, the
  undo history, the gallery's states, or from the canvas to a state file) as GIF, APNG or MP4 with
  :class:`~studio.core.animate_job.AnimateJob`.

Installed by one line in the window (:func:`install_invert_animate`); the drop hook is :meth:`offer`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.animate import EASINGS, MAX_FRAMES, MAX_SIDE, direction_keyframes
from studio.core.errors import StudioError
from studio.core.images import IMAGE_SUFFIXES, load_image
from studio.core.inversion import supports_inversion
from studio.core.states import StateError, image_has_state, read_state_file

OFFER_TEXT = "Find it in the latent space"


def _ask(parent: QWidget, name: str, model: str, run: Callable[[], None]) -> None:
    """A window-modal question (not a nested event loop inside the drop): ``run`` when the user agrees."""
    box = QMessageBox(parent)
    box.setWindowTitle("A picture without GAN Studio state")
    box.setText(
        f"{name} holds no GAN Studio state.\n\nFind the closest image {model} can make "
        "(GAN inversion: a minute or so on a CPU)? Afterwards every slider applies to it."
    )
    find = box.addButton(OFFER_TEXT, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda button: run() if button is find else None)
    box.open()


# Replaced in tests: (parent, file name, model id, run) asks, and calls run() if the user agrees.
ASK_INVERSION: Callable[[QWidget, str, str, Callable[[], None]], None] = _ask
INVERT_OPTIONS: dict[str, Any] = {}  # InvertJob options for dropped pictures (tests shorten the run)

SOURCES = {
    "direction": "The canvas moved along a direction",
    "grid": "The grid's cells (View ▸ Grid of variations)",
    "history": "The undo history (oldest → now)",
    "gallery": "This model's gallery states",
    "file": "From the canvas to a state file…",
}
MAX_KEYFRAMES = 16


class InvertAnimate(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.last_inversion: Any = None  # the JobHandle of the last inversion (tests follow it)
        self.act_invert = window._action(
            "Find a picture in the &latent space…",
            self.invert_dialog,
            tip="GAN inversion: the closest image this model can make to a picture of yours",
        )
        self.act_animate = window._action(
            "Export &animation…",
            self.animation_dialog,
            "Ctrl+Shift+E",
            tip="an interpolation as GIF, APNG or MP4 (it carries its states)",
        )
        self._add_to_file_menu()
        window.modelChanged.connect(self._update)
        self._update()

    def _add_to_file_menu(self) -> None:
        for top in self.window.menuBar().actions():
            menu = top.menu()
            if menu is None or self.window.act_export not in menu.actions():
                continue
            actions = menu.actions()
            after = actions[actions.index(self.window.act_export) + 1 :]
            before = after[0] if after else None
            for act in (self.act_animate, self.act_invert):
                menu.insertAction(before, act) if before is not None else menu.addAction(act)
            return

    def _update(self, *_: Any) -> None:
        model = self.window.current_model()
        self.act_invert.setEnabled(model is not None and supports_inversion(model))
        self.act_animate.setEnabled(model is not None)

    # ------------------------------------------------------------------------------ inversion
    def offer(self, path: str | Path) -> bool:
        """The drop hook: a plain picture on a model that can invert is offered inversion. True when this
        handled the drop (asked, and started or declined); False leaves it to the window."""
        path = Path(path)
        model = self.window.current_model()
        if path.suffix.lower() not in IMAGE_SUFFIXES or model is None or not supports_inversion(model):
            return False
        try:
            if image_has_state(path):
                return False  # the window restores (or refuses) its state
        except StateError:
            return False  # an unreadable file: the window says what is wrong
        try:
            load_image(path)  # a bomb or a damaged picture is refused now, with the loader's message
        except StudioError as exc:
            self.window.show_error(str(exc))
            return True
        model_id = self.window.current_model_id() or "this model"
        ASK_INVERSION(self.window, path.name, model_id, lambda: self.start_inversion(path, **INVERT_OPTIONS))
        return True

    def invert_dialog(self) -> None:
        start = self.window.settings.folder("invert", str(Path.home()))
        suffixes = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self.window, OFFER_TEXT, start, f"Pictures ({suffixes})")
        if path:
            self.window.settings.set_folder("invert", str(Path(path).parent))
            self.start_inversion(path, **INVERT_OPTIONS)

    def start_inversion(self, path: str | Path, **options: Any) -> Any:
        """Run the inversion job for ``path`` on the current model; its state becomes the canvas."""
        from studio.models.invert import InvertJob

        model, model_id = self.window.current_model(), self.window.current_model_id()
        if model is None or not supports_inversion(model):
            self.window.show_error("Open a CSGAN, CAN or GADN model first: this model cannot find pictures.")
            return None
        try:
            image = load_image(path)  # a bad picture is a clear message now, not a failed job later
            job = InvertJob(model, image, state=self.window.current_state(), model_id=model_id, **options)
        except StudioError as exc:
            self.window.show_error(str(exc))
            return None
        job.title = f"{OFFER_TEXT}: {Path(path).name}"
        handle = self.window.start_job(job)
        handle.finished.connect(lambda result: self._inverted(result, model, Path(path).name))
        self.last_inversion = handle
        return handle

    def _inverted(self, result: Any, model: Any, name: str) -> None:
        state = result.outputs.get("state")
        if state is None:
            return
        if self.window.current_model() is not model:
            self.window.show_message(f"{name}: found, but the model changed meanwhile; not applied")
            return
        self.window.set_state(state)
        out = result.outputs
        self.window.show_message(
            f"{name}: found — VGG distance {out['vgg_distance']:.3f} (best random start "
            f"{out['start_vgg_distance']:.3f}), PSNR {out['psnr']:.1f} dB; every slider applies to it",
            15000,
        )

    # ------------------------------------------------------------------------------ animation
    def keyframes(self, source: str, direction: str = "", amount: float = 2.0, file: str = "") -> list[dict]:
        """The keyframes a source names, from the window as it is now (a StudioError says what is missing)."""
        w = self.window
        model, model_id = w.current_model(), w.current_model_id()
        if model is None:
            raise StudioError("Open a model first.")
        current = w.current_state()
        if source == "direction":
            names = [c.name for c in model.controls() if c.kind == "direction"]
            if direction not in names:
                raise StudioError(f"{model_id} has no direction '{direction}'")
            return direction_keyframes(current, direction, amount)
        if source == "grid":
            if not w.act_grid.isChecked():
                raise StudioError("Turn on the grid first (View ▸ Grid of variations, Ctrl+G).")
            rows, cols = w.grid_shape()
            keys = w.canvas_states(rows, cols)
        elif source == "history":
            keys = [*getattr(w.history, "_undo", []), current]
            keys = [k for k in keys if k.get("model") == model_id]
        elif source == "gallery":
            hub = getattr(w, "gallery", None)
            entries = getattr(getattr(hub, "gallery", None), "entries", [])
            keys = [e.state for e in entries if e.model == model_id]
        elif source == "file":
            if not file:
                raise StudioError("Choose the state file to go to.")
            keys = [current, read_state_file(file)]
        else:
            raise StudioError(f"unknown animation source '{source}'")
        keys = keys[-MAX_KEYFRAMES:]
        if len(keys) < 2:
            raise StudioError(f"{SOURCES[source]}: fewer than two states to animate between")
        return keys

    def export_animation(self, source: str, out: str | Path, **options: Any) -> Any:
        """Start the animation job (the dialog's OK; tests call it directly)."""
        from studio.core.animate_job import AnimateJob

        picks = {k: options.pop(k) for k in ("direction", "amount", "file") if k in options}
        try:
            keys = self.keyframes(source, **picks)
            job = AnimateJob(
                self.window.current_model(),
                keys,
                out,
                source=source,
                model_id=self.window.current_model_id(),
                **options,
            )
        except StudioError as exc:
            self.window.show_error(str(exc))
            return None
        return self.window.start_job(job)

    def animation_dialog(self) -> None:
        if self.window.current_model() is None:
            self.window.show_error("Open a model first.")
            return
        dialog = AnimationDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.export_animation(dialog.source(), dialog.out.text().strip(), **dialog.options())


class AnimationDialog(QDialog):
    """Where the keyframes come from, the timing, and the file."""

    def __init__(self, hub: InvertAnimate) -> None:
        super().__init__(hub.window)
        self.hub = hub
        self._confirmed = ""  # a path the save dialog confirmed (it asks before replacing a file)
        self.setWindowTitle("Export animation")
        model = hub.window.current_model()
        form = QFormLayout()
        self.sources = QComboBox()
        for key, text in SOURCES.items():
            self.sources.addItem(text, key)
        form.addRow("Between", self.sources)
        self.direction = QComboBox()
        for c in model.controls():
            if c.kind == "direction":
                self.direction.addItem(c.label, c.name)
        form.addRow("Direction", self.direction)
        self.amount = QDoubleSpinBox(minimum=0.1, maximum=10.0, value=2.0, singleStep=0.5, suffix=" σ")
        form.addRow("Amount (±)", self.amount)
        self.file = QLineEdit()
        self.file.setPlaceholderText("an exported PNG or a JSON state")
        pick = QPushButton("Choose…")
        pick.clicked.connect(self._pick_state)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(pick)
        form.addRow("State file", row)
        self.frames = QSpinBox(minimum=2, maximum=MAX_FRAMES, value=48)
        form.addRow("Frames", self.frames)
        self.duration = QDoubleSpinBox(minimum=0.05, maximum=600.0, value=3.0, singleStep=0.5, suffix=" s")
        form.addRow("Duration", self.duration)
        self.easing = QComboBox()
        self.easing.addItems(list(EASINGS))
        self.easing.setCurrentText("ease-in-out")
        form.addRow("Easing", self.easing)
        self.loop = QSpinBox(minimum=0, maximum=65535, value=0)
        self.loop.setSpecialValueText("forever")
        form.addRow("Plays", self.loop)
        self.bounce = QCheckBox("there and back (a seamless loop)")
        self.bounce.setChecked(True)
        form.addRow("", self.bounce)
        self.side = QSpinBox(minimum=0, maximum=MAX_SIDE, value=256, suffix=" px")
        self.side.setSpecialValueText("model's size")
        form.addRow("Size", self.side)
        self.out = QLineEdit(str(Path(hub.window.settings.folder("animation", str(Path.home()))) / "animation.gif"))
        browse = QPushButton("Save as…")
        browse.clicked.connect(self._pick_out)
        row2 = QHBoxLayout()
        row2.addWidget(self.out, 1)
        row2.addWidget(browse)
        form.addRow("File (.gif, .png, .mp4)", row2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.sources.currentIndexChanged.connect(self._enable)
        if self.direction.count() == 0:
            self.sources.setCurrentIndex(list(SOURCES).index("history"))
        self._enable()

    def source(self) -> str:
        return str(self.sources.currentData())

    def options(self) -> dict[str, Any]:
        return {
            "direction": str(self.direction.currentData() or ""),
            "amount": self.amount.value(),
            "file": self.file.text().strip(),
            "frames": self.frames.value(),
            "duration_s": self.duration.value(),
            "easing": self.easing.currentText(),
            "loop": self.loop.value(),
            "bounce": self.bounce.isChecked(),
            "size": self.side.value(),
            "overwrite": self.out.text().strip() == self._confirmed,  # the save dialog asked before replacing
        }

    def _enable(self) -> None:
        src = self.source()
        self.direction.setEnabled(src == "direction" and self.direction.count() > 0)
        self.amount.setEnabled(src == "direction")
        self.file.setEnabled(src == "file")

    def _pick_state(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "State to go to", "", "States (*.png *.jpg *.webp *.json)")
        if path:
            self.file.setText(path)

    def _pick_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export animation", self.out.text(), "GIF (*.gif);;APNG (*.png);;MP4 (*.mp4)"
        )
        if path:
            self.out.setText(path)
            self._confirmed = path
            self.hub.window.settings.set_folder("animation", str(Path(path).parent))


def install_invert_animate(window: Any) -> InvertAnimate:
    """Add File ▸ Export animation… and File ▸ Find a picture in the latent space… (call once menus exist)."""
    return InvertAnimate(window)
