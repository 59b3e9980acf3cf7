"""The canvas: shows the newest frame (one image or a grid) with zoom and pan, or a help message.

Why its own painter instead of a QLabel: GAN pixels should stay crisp when magnified (nearest
neighbour), the frame must be swapped dozens of times a second without relayout, and an empty canvas
has to tell a new user what to do.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

ZOOM_STEPS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)


class CanvasView(QWidget):
    zoomChanged = Signal(float)  # 0 means "fit to window"
    imageClicked = Signal(float, float)  # a click (not a drag) on the image, in image pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._message = ""
        self._zoom = 0.0  # 0 = fit
        self._offset = QPointF(0, 0)
        self._drag_from: QPointF | None = None
        self._press_at: QPointF | None = None
        self.frames_shown = 0
        self.smooth = False  # nearest-neighbour by default: GAN pixels stay crisp when magnified
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, QColor(48, 48, 52))
        self.setPalette(pal)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ---- content ----------------------------------------------------------------------------
    def set_image(self, image: QImage) -> None:
        self._image = image
        self._message = ""
        self.frames_shown += 1
        self.update()

    def image(self) -> QImage:
        """The frame currently shown, at its rendered size (tests read its pixels)."""
        return self._image

    def set_message(self, text: str) -> None:
        """Show help text instead of an image (e.g. when no model is installed)."""
        self._message = text
        self._image = QImage()
        self.update()

    def message(self) -> str:
        return self._message

    # ---- zoom ---------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self._zoom

    def effective_zoom(self) -> float:
        if self._image.isNull():
            return 1.0
        if self._zoom > 0:
            return self._zoom
        w, h = self._image.width(), self._image.height()
        return max(0.05, min((self.width() - 24) / w, (self.height() - 24) / h))

    def set_zoom(self, zoom: float) -> None:
        self._zoom = max(0.0, float(zoom))
        if self._zoom == 0:
            self._offset = QPointF(0, 0)
        self.zoomChanged.emit(self._zoom)
        self.update()

    def zoom_in(self) -> None:
        z = self.effective_zoom()
        self.set_zoom(next((s for s in ZOOM_STEPS if s > z + 1e-6), ZOOM_STEPS[-1]))

    def zoom_out(self) -> None:
        z = self.effective_zoom()
        self.set_zoom(next((s for s in reversed(ZOOM_STEPS) if s < z - 1e-6), ZOOM_STEPS[0]))

    def zoom_fit(self) -> None:
        self.set_zoom(0.0)

    # ---- painting and interaction ---------------------------------------------------------------
    def image_rect(self) -> QRectF:
        z = self.effective_zoom()
        w, h = self._image.width() * z, self._image.height() * z
        x = (self.width() - w) / 2 + (self._offset.x() if self._zoom > 0 else 0)
        y = (self.height() - h) / 2 + (self._offset.y() if self._zoom > 0 else 0)
        return QRectF(x, y, w, h)

    def set_smooth(self, smooth: bool) -> None:
        self.smooth = bool(smooth)
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        if self._image.isNull():
            p.setPen(QColor(220, 220, 225))
            text_rect = self.rect().adjusted(24, 24, -24, -24)
            p.drawText(text_rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            return
        rect = self.image_rect()
        smooth = self.smooth or self.effective_zoom() < 1.0
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        p.drawImage(rect, self._image)

    def wheelEvent(self, event) -> None:
        if self._image.isNull():
            return
        if event.angleDelta().y() > 0:
            self.zoom_in()
        elif event.angleDelta().y() < 0:
            self.zoom_out()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_at = event.position()
        if self._zoom > 0 and event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.position()

    def mouseMoveEvent(self, event) -> None:
        if self._drag_from is not None:
            self._offset += event.position() - self._drag_from
            self._drag_from = event.position()
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        self._drag_from = None
        pressed, self._press_at = self._press_at, None
        if pressed is None or self._image.isNull() or event.button() != Qt.MouseButton.LeftButton:
            return
        if (event.position() - pressed).manhattanLength() > 4:
            return  # a pan, not a click
        rect, z = self.image_rect(), self.effective_zoom()
        if rect.contains(event.position()):
            self.imageClicked.emit((event.position().x() - rect.x()) / z, (event.position().y() - rect.y()) / z)

    def mouseDoubleClickEvent(self, event) -> None:
        self.zoom_fit()
