"""An image view for tool panels: numpy pixels scaled to fit, crisp when enlarged, with a placeholder."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"


def to_pixmap(pixels: np.ndarray) -> QPixmap:
    arr = np.ascontiguousarray(pixels[..., :3].astype(np.uint8))
    h, w, _ = arr.shape
    return QPixmap.fromImage(QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class PixelView(QLabel):
    """An image scaled to fit, crisp when enlarged (GAN pixels), with a placeholder text."""

    def __init__(self, placeholder: str, minimum: int = 120, minimum_height: int | None = None):
        super().__init__(placeholder)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(minimum, minimum // 2 if minimum_height is None else minimum_height)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("QLabel { border: 1px solid palette(mid); }")
        self.pixels: np.ndarray | None = None

    def sizeHint(self) -> QSize:
        """Constant: the picture never asks for room. A QLabel's hint is its pixmap's size, so showing a
        preview re-balanced the panel and moved the buttons under the cursor (the fine-tune Cancel,
        issue 17 item 7); the view still grows with the space it is given (Expanding)."""
        return QSize(self.minimumWidth(), self.minimumHeight())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.minimumWidth(), self.minimumHeight())

    def set_pixels(self, pixels: np.ndarray | None) -> None:
        self.pixels = pixels
        self._update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update()

    def _update(self) -> None:
        if self.pixels is None:
            self.setPixmap(QPixmap())
            return
        pm = to_pixmap(self.pixels)
        mode = (
            Qt.TransformationMode.FastTransformation
            if pm.width() * 2 < self.width()
            else Qt.TransformationMode.SmoothTransformation
        )
        self.setPixmap(
            pm.scaled(max(1, self.width() - 2), max(1, self.height() - 2), Qt.AspectRatioMode.KeepAspectRatio, mode)
        )
