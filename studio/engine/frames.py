"""Finished frames: what the render engine hands to the UI (pixels and a QImage, never tensors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtGui import QImage


def array_to_qimage(pixels: np.ndarray) -> QImage:
    """An HxWx3 uint8 array -> a QImage that owns its memory (safe after the array is gone)."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 image, got {pixels.shape} {pixels.dtype}")
    arr = np.ascontiguousarray(pixels)
    h, w, _ = arr.shape
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage -> HxWx3 uint8 copy (tests and exports compare pixels with this)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


@dataclass
class Frame:
    """One rendered request. ``cells`` are the individual images [N,H,W,3]; ``image`` is the tiled view."""

    stamp: int
    channel: str
    model_key: str
    states: list[dict[str, Any]]
    rows: int
    cols: int
    cells: np.ndarray
    image: QImage
    render_ms: float = 0.0  # the model's forward pass (incl. state -> latent)
    total_ms: float = 0.0  # from request() to the frame being ready in the worker
    requested_at: float = 0.0  # time.perf_counter() when request() was called
    extra: dict[str, Any] = field(default_factory=dict)


class SteadyFrameTime:
    """The frame time the status bar shows: the median of the last few renders of the current model,
    leaving out the first frame after a model change (a cold frame would otherwise stand for the
    model until the next render, e.g. "frame 289 ms" against 3-7 ms steady)."""

    def __init__(self, window: int = 15) -> None:
        self.window = max(1, int(window))
        self._model = ""
        self._times: list[float] = []
        self._seen = 0

    def add(self, frame: Frame) -> None:
        if frame.model_key != self._model:
            self._model, self._times, self._seen = frame.model_key, [], 0
        self._seen += 1
        if self._seen == 1 and not frame.extra.get("warm", False):
            return  # a cold first frame says nothing about the steady state
        self._times = (self._times + [float(frame.render_ms)])[-self.window :]

    def value(self) -> float | None:
        """Median render time in ms, or None before a steady frame arrived."""
        if not self._times:
            return None
        t = sorted(self._times)
        return t[len(t) // 2]
