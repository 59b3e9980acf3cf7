"""A labelled float slider (QSlider is integer-only) that tells drags apart from single changes.

Why: a drag must render live but count as one undo step, so the slider reports whether the user is
still holding it (``live``) and emits ``released`` when the drag ends. Double-click resets.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

STEPS = 1000


class ValueSlider(QWidget):
    valueEdited = Signal(float, bool)  # value, live (True while the user is dragging)
    released = Signal()

    def __init__(
        self,
        label: str,
        minimum: float,
        maximum: float,
        default: float = 0.0,
        help: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.minimum, self.maximum = float(minimum), float(maximum)
        if self.maximum <= self.minimum:
            self.maximum = self.minimum + 1.0
        self.default = float(default)
        self.label = QLabel(label)
        self.label.setMinimumWidth(90)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setPageStep(STEPS // 20)
        self.readout = QLabel()
        self.readout.setMinimumWidth(44)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if help:
            self.setToolTip(help)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.readout)
        self.slider.valueChanged.connect(self._changed)
        self.slider.sliderReleased.connect(self.released)
        self.set_value(self.default)

    def _to_pos(self, value: float) -> int:
        frac = (float(value) - self.minimum) / (self.maximum - self.minimum)
        return int(round(min(1.0, max(0.0, frac)) * STEPS))

    def _to_value(self, pos: int) -> float:
        return self.minimum + (self.maximum - self.minimum) * pos / STEPS

    def value(self) -> float:
        return self._to_value(self.slider.value())

    def set_value(self, value: float) -> None:
        """Show a value without emitting valueEdited (used when the state changes elsewhere)."""
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_pos(value))
        self.slider.blockSignals(False)
        self.readout.setText(f"{float(value):+.2f}" if self.minimum < 0 else f"{float(value):.2f}")

    def _changed(self, pos: int) -> None:
        v = self._to_value(pos)
        self.readout.setText(f"{v:+.2f}" if self.minimum < 0 else f"{v:.2f}")
        self.valueEdited.emit(v, self.slider.isSliderDown())

    def mouseDoubleClickEvent(self, event) -> None:
        self.slider.setValue(self._to_pos(self.default))
