"""Pick a grid cell: a click on a cell of the variations grid (Ctrl+G) or of a tool's grid (GADN's
content × artists, artist × contents) makes that cell the current state, as one undo step.

Why frames and not recomputed states: the frame that was clicked carries the exact states it was
rendered from (``Frame.states``), so the pick is what the user saw even if the grid settings changed
since. The picked state's variation is baked into its code (:func:`studio.core.breed.bake_variation`)
so the next grid is centred on it, Artbreeder-style.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel

from studio.core.breed import bake_variation, cell_at


def frame_cell_at(frame: Any, x: float, y: float) -> int | None:
    """The cell of ``frame`` (a studio.engine Frame) under pixel (x, y) of its tiled image, or None."""
    if frame is None or frame.rows * frame.cols <= 1 or len(frame.cells) == 0:
        return None
    h, w = int(frame.cells.shape[1]), int(frame.cells.shape[2])
    pad = max(0, (frame.image.width() - frame.cols * w) // (frame.cols + 1))
    cell = cell_at(x, y, frame.rows, frame.cols, w, h, pad)
    return cell if cell is not None and cell < len(frame.states) else None


def pick_cell(window: Any, frame: Any, index: int, origin: str = "picked") -> dict[str, Any] | None:
    """Make cell ``index`` of ``frame`` the window's current state (undoable); returns the new state."""
    model = window.current_model()
    if model is None or frame is None or not 0 <= index < len(frame.states):
        return None
    state = bake_variation(model, frame.states[index])
    state.pop("parents", None)  # a picked variation is a state of its own, not its centre's crossbreed
    window.set_state(state, undoable=True)
    gallery = getattr(window, "gallery", None)
    if gallery is not None and len(frame.cells) > index:
        gallery.keep(window.current_state(), origin=origin, pixels=frame.cells[index])
    window.show_message(f"picked cell {index + 1} of {frame.rows}×{frame.cols} (Ctrl+Z goes back)", 5000)
    return window.current_state()


class LabelClicks(QObject):
    """Maps clicks on a QLabel that shows a frame's pixmap (scaled, aligned) to the frame's cells."""

    def __init__(self, label: QLabel, frame_of: Callable[[], Any], on_cell: Callable[[Any, int], Any]) -> None:
        super().__init__(label)
        self.label, self.frame_of, self.on_cell = label, frame_of, on_cell
        label.installEventFilter(self)
        label.setCursor(Qt.CursorShape.PointingHandCursor)
        label.setToolTip("click a cell to make it the canvas")

    def eventFilter(self, obj, event) -> bool:
        if obj is self.label and event.type() == QEvent.Type.MouseButtonRelease:
            frame = self.frame_of()
            pm = self.label.pixmap()
            if frame is None or pm is None or pm.isNull() or event.button() != Qt.MouseButton.LeftButton:
                return False
            rect = self.label.contentsRect()
            # QLabel centres its pixmap (the tools use AlignCenter); scale back to the frame's pixels
            left = rect.x() + (rect.width() - pm.width()) / 2
            top = rect.y() + (rect.height() - pm.height()) / 2
            scale = frame.image.width() / max(1, pm.width())
            x, y = (event.position().x() - left) * scale, (event.position().y() - top) * scale
            cell = frame_cell_at(frame, x, y)
            if cell is not None:
                self.on_cell(frame, cell)
                return True
        return False


def make_label_pickable(label: QLabel, frame_of: Callable[[], Any], window: Any) -> QObject:
    """Clicking a cell of the grid frame shown in ``label`` (``frame_of()`` returns it) picks that cell."""
    return LabelClicks(label, frame_of, lambda frame, cell: pick_cell(window, frame, cell))


def install_picking(window: Any) -> None:
    """Clicks on the canvas pick a cell of the variations grid."""

    def clicked(x: float, y: float) -> None:
        frame = window.last_frame()
        cell = frame_cell_at(frame, x, y)
        if cell is not None and cell > 0:  # cell 0 is already the current state
            pick_cell(window, frame, cell)

    window.canvas.imageClicked.connect(clicked)
