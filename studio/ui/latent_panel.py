"""The latent panel, built generically from ``LoadedModel.controls()`` (so every family gets one).

seed -> seed field + Randomize; direction -> one slider each (GANSpace, in standard deviations);
latent -> sliders for the first ``raw_dims`` raw dimensions; choice -> searchable combo; scalar ->
slider (``truncation`` maps to the state's top-level key, others to ``state["scalars"]``).

It keeps no model and never renders: it edits a state dict and emits ``stateEdited(state, live)``;
``editFinished`` marks the end of a drag (one undo step).
"""

from __future__ import annotations

import copy
import random
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from studio.core.direction_edits import VECTORS_KEY, with_amount
from studio.core.family import Control, normalise_state
from studio.core.latents import seed_to_z

from .searchable_combo import SearchableCombo
from .value_slider import ValueSlider

RAW_DIMS = 8


class LatentPanel(QWidget):
    stateEdited = Signal(dict, bool)  # new state, live (a drag in progress)
    editFinished = Signal()

    def __init__(self, parent: QWidget | None = None, raw_dims: int = RAW_DIMS) -> None:
        super().__init__(parent)
        self.raw_dims = raw_dims
        self._state: dict[str, Any] = {}
        self._controls: list[Control] = []
        self._latent_dim = 0
        self.seed_box: QSpinBox | None = None
        self.sliders: dict[str, ValueSlider] = {}  # "truncation", "dir:pc0", "z:3", "scalar:name"
        self.combos: dict[str, SearchableCombo] = {}
        # two-state directions (studio.ui.direction_strip sets these): key -> vector, carried into the state
        self.direction_vectors: dict[str, list[float]] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self._empty = QLabel("Open a model to see its controls.")
        self._empty.setWordWrap(True)
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)

    # ---- building ---------------------------------------------------------------------------
    def build(self, controls: list[Control], state: dict[str, Any]) -> None:
        """Replace every widget with ones for these controls, showing ``state``."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.sliders.clear()
        self.combos.clear()
        self.seed_box = None
        self._controls = list(controls)
        self._state = normalise_state(state)
        groups: dict[str, QVBoxLayout] = {}

        def group(title: str) -> QVBoxLayout:
            if title not in groups:
                box = QGroupBox(title)
                layout = QVBoxLayout(box)
                layout.setContentsMargins(6, 4, 6, 4)
                layout.setSpacing(2)
                groups[title] = layout
                self._layout.addWidget(box)
            return groups[title]

        for c in controls:
            if c.kind == "seed":
                row = QWidget()
                h = QHBoxLayout(row)
                h.setContentsMargins(0, 0, 0, 0)
                self.seed_box = QSpinBox()
                self.seed_box.setRange(int(c.minimum), min(int(c.maximum), 2**31 - 1))
                self.seed_box.setKeyboardTracking(False)
                self.seed_box.setToolTip("the same seed always gives the same image")
                self.seed_box.valueChanged.connect(self._seed_changed)
                rnd = QPushButton("Randomize")
                rnd.setToolTip("a new random seed (Ctrl+R)")
                rnd.clicked.connect(self.randomize)
                h.addWidget(QLabel(c.label))
                h.addWidget(self.seed_box, 1)
                h.addWidget(rnd)
                group("Seed").addWidget(row)
            elif c.kind == "choice" and c.options:
                combo = SearchableCombo(list(c.options), labels=list(getattr(c, "option_labels", ()) or ()))
                combo.setToolTip(c.help or f"type to search {len(c.options)} options")
                combo.choiceMade.connect(lambda value, name=c.name: self._label_changed(name, value))
                row = QWidget()
                h = QHBoxLayout(row)
                h.setContentsMargins(0, 0, 0, 0)
                h.addWidget(QLabel(c.label))
                h.addWidget(combo, 1)
                group("Labels").addWidget(row)
                self.combos[c.name] = combo
            elif c.kind == "direction":
                self._add_slider(group("Directions (principal components)"), f"dir:{c.name}", c)
            elif c.kind == "scalar":
                key = "truncation" if c.name == "truncation" else f"scalar:{c.name}"
                self._add_slider(group("Style"), key, c)
            elif c.kind == "latent":
                self._latent_dim = int(c.count)
                lay = group(f"Raw latent (first {min(self.raw_dims, c.count)} of {c.count})")
                for i in range(min(self.raw_dims, int(c.count))):
                    self._add_slider(
                        lay,
                        f"z:{i}",
                        Control(
                            "latent",
                            f"z{i}",
                            f"z[{i}]",
                            c.minimum,
                            c.maximum,
                            0.0,
                            help="raw latent dimension (replaces the seed's value)",
                        ),
                    )
        reset = QPushButton("Reset sliders")
        reset.setToolTip("back to the plain seed: no direction, raw or style edits")
        reset.clicked.connect(self.reset_edits)
        self._layout.addWidget(reset)
        self._layout.addStretch(1)
        self.show_state(self._state)

    def _add_slider(self, layout, key: str, c: Control) -> None:
        s = ValueSlider(c.label, c.minimum, c.maximum, float(c.default or 0.0), c.help)
        s.valueEdited.connect(lambda value, live, key=key: self._slider_changed(key, value, live))
        s.released.connect(self.editFinished)
        layout.addWidget(s)
        self.sliders[key] = s

    # ---- showing a state --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return copy.deepcopy(self._state)

    def show_state(self, state: dict[str, Any]) -> None:
        """Update every widget to ``state`` without emitting anything."""
        self._state = normalise_state(state)
        s = self._state
        if self.seed_box is not None:
            self.seed_box.blockSignals(True)
            self.seed_box.setValue(max(self.seed_box.minimum(), min(self.seed_box.maximum(), int(s["seed"]))))
            self.seed_box.blockSignals(False)
        code = seed_to_z(int(s["seed"]), self._latent_dim)[0].tolist() if self._latent_dim else []
        for key, slider in self.sliders.items():
            if key == "truncation":
                slider.set_value(s["truncation"])
            elif key.startswith("scalar:"):
                slider.set_value(float(s["scalars"].get(key[7:], slider.default)))
            elif key.startswith("dir:"):
                slider.set_value(float(s["directions"].get(key[4:], 0.0)))
            elif key.startswith("z:"):
                i = int(key[2:])
                slider.set_value(float(s["z_edits"].get(str(i), code[i] if i < len(code) else 0.0)))
        for name, combo in self.combos.items():
            combo.set_choice(str(s["labels"].get(name, combo.choice())))

    # ---- edits ------------------------------------------------------------------------------
    def _emit(self, live: bool) -> None:
        self.stateEdited.emit(copy.deepcopy(self._state), live)

    def _drop_full_code(self) -> None:
        """A bred, inverted or steered state holds its whole code in ``z_edits``, which would hide any new
        seed: choosing a seed goes to that seed (direction and style edits are kept)."""
        edits = self._state.get("z_edits") or {}
        if self._latent_dim and len(edits) >= self._latent_dim:
            self._state["z_edits"] = {}

    def _seed_changed(self, value: int) -> None:
        self._state["seed"] = int(value)
        self._drop_full_code()
        self.show_state(self._state)  # raw sliders follow the new seed's code
        self._emit(False)

    def randomize(self) -> None:
        """A new random seed (edits are kept, so a found direction can be tried on other seeds)."""
        self._state["seed"] = random.randrange(0, 2**31 - 1)
        self._drop_full_code()
        self.show_state(self._state)
        self._emit(False)

    def reset_edits(self) -> None:
        for key in ("z_edits", "directions"):
            self._state[key] = {}
        self._state.pop(VECTORS_KEY, None)
        self._state["truncation"] = 1.0
        for key, slider in self.sliders.items():
            if key.startswith("scalar:"):
                self._state["scalars"][key[7:]] = slider.default
        self.show_state(self._state)
        self._emit(False)

    def _label_changed(self, name: str, value: str) -> None:
        self._state["labels"][name] = value
        self._emit(False)

    def _slider_changed(self, key: str, value: float, live: bool) -> None:
        v = round(float(value), 4)
        if key == "truncation":
            self._state["truncation"] = v
        elif key.startswith("scalar:"):
            self._state["scalars"][key[7:]] = v
        elif key.startswith("dir:"):
            self._state = with_amount(self._state, key[4:], v, self.direction_vectors.get(key[4:]))
        elif key.startswith("z:"):
            self._state["z_edits"][key[2:]] = v
        self._emit(live)
