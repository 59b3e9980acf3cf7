"""Loss curves drawn with QPainter (no plotting library): one coloured line per loss name.

Long runs are drawn from at most ~``max_points`` points per line (every k-th point after a running
mean), so repainting stays cheap however many steps a job reports.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

COLOURS = ["#e67e22", "#3498db", "#2ecc71", "#e74c3c", "#9b59b6", "#1abc9c", "#f1c40f"]


class LossCurve(QWidget):
    def __init__(
        self,
        parent: QWidget | None = None,
        max_points: int = 400,
        empty_text: str = "losses appear here while a job runs",
    ) -> None:
        super().__init__(parent)
        self.max_points = max_points
        self.empty_text = empty_text
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.setMinimumSize(220, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def set_history(self, history: list[tuple[int, dict[str, float]]]) -> None:
        """Replace the data with (step, {loss: value}) points (a JobHandle's history)."""
        series: dict[str, list[tuple[int, float]]] = {}
        for step, losses in history:
            for name, value in losses.items():
                if math.isfinite(value):
                    series.setdefault(name, []).append((step, value))
        self.series = series
        self.update()

    def _reduced(self, points: list[tuple[int, float]]) -> list[tuple[int, float]]:
        if len(points) <= self.max_points:
            return points
        k = math.ceil(len(points) / self.max_points)
        out = []
        for i in range(0, len(points), k):
            chunk = points[i : i + k]
            out.append((chunk[-1][0], sum(v for _, v in chunk) / len(chunk)))
        return out

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(30, 30, 34))
        plot = QRectF(self.rect()).adjusted(44, 8, -8, -20)
        p.setPen(QColor(90, 90, 96))
        p.drawRect(plot)
        data = {name: self._reduced(pts) for name, pts in self.series.items() if pts}
        if not data:
            p.setPen(QColor(160, 160, 165))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        xs = [s for pts in data.values() for s, _ in pts]
        ys = [v for pts in data.values() for _, v in pts]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        if x1 == x0:
            x1 = x0 + 1
        if y1 - y0 < 1e-9:
            y0, y1 = y0 - 0.5, y1 + 0.5

        def to_px(step: int, value: float) -> QPointF:
            return QPointF(
                plot.left() + (step - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (value - y0) / (y1 - y0) * plot.height(),
            )

        p.setPen(QColor(170, 170, 175))
        p.drawText(QRectF(0, plot.top() - 6, 42, 14), Qt.AlignmentFlag.AlignRight, f"{y1:.3g}")
        p.drawText(QRectF(0, plot.bottom() - 8, 42, 14), Qt.AlignmentFlag.AlignRight, f"{y0:.3g}")
        p.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), 16), Qt.AlignmentFlag.AlignRight, f"step {x1}")
        legend_x = plot.left() + 6
        for i, (name, pts) in enumerate(sorted(data.items())):
            colour = QColor(COLOURS[i % len(COLOURS)])
            path = QPainterPath(to_px(*pts[0]))
            for pt in pts[1:]:
                path.lineTo(to_px(*pt))
            p.setPen(QPen(colour, 1.6))
            p.drawPath(path)
            if len(pts) <= 40:  # sparse series (KID every N steps): mark each measurement
                p.setBrush(colour)
                for pt in pts:
                    p.drawEllipse(to_px(*pt), 2.5, 2.5)
                p.setBrush(Qt.BrushStyle.NoBrush)
            label = f"{name} {pts[-1][1]:.3g}"
            p.drawText(QPointF(legend_x, plot.top() + 14), label)
            legend_x += p.fontMetrics().horizontalAdvance(label) + 14
