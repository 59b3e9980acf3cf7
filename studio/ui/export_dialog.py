"""Export dialog for grids: rows, columns, cell size, padding and the PNG path.

The PNG carries the canvas state (studio.core.export.save_png), so dropping it back on the window
restores exactly this canvas. Cell 0 of the grid is the canvas state itself; the others are its
variations (LoadedModel.variations), the same cells the grid view shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.core.export import save_png
from studio.core.grid import resize_cells, tile


@dataclass
class ExportOptions:
    path: Path
    rows: int = 4
    cols: int = 4
    cell_size: int = 128
    pad: int = 2


def export_grid_png(
    options: ExportOptions, cells: np.ndarray, state: dict[str, Any], info: dict[str, Any] | None = None
) -> Path:
    """Tile ``cells`` [N,H,W,3] uint8 at ``cell_size`` and save them as a PNG with ``state`` (atomic)."""
    cells = resize_cells(cells, options.cell_size)
    pixels = (
        cells[0]
        if options.rows * options.cols == 1 and options.pad == 0
        else tile(cells, options.rows, options.cols, pad=options.pad)
    )
    extra = {
        "gan-studio-grid": json.dumps(
            {"rows": options.rows, "cols": options.cols, "cell_size": options.cell_size, **(info or {})}
        )
    }
    return save_png(options.path, pixels, state, extra)


class ExportDialog(QDialog):
    def __init__(self, options: ExportOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export grid")
        self.rows = QSpinBox()
        self.rows.setRange(1, 32)
        self.rows.setValue(options.rows)
        self.cols = QSpinBox()
        self.cols.setRange(1, 32)
        self.cols.setValue(options.cols)
        self.cell = QSpinBox()
        self.cell.setRange(8, 2048)
        self.cell.setSingleStep(16)
        self.cell.setSuffix(" px")
        self.cell.setValue(options.cell_size)
        self.pad = QSpinBox()
        self.pad.setRange(0, 64)
        self.pad.setSuffix(" px")
        self.pad.setValue(options.pad)
        self.path = QLineEdit(str(options.path))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Rows", self.rows)
        form.addRow("Columns", self.cols)
        form.addRow("Cell size", self.cell)
        form.addRow("Padding", self.pad)
        form.addRow("File", path_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export grid as", self.path.text(), "PNG images (*.png)")
        if path:
            self.path.setText(path if path.lower().endswith(".png") else path + ".png")

    def options(self) -> ExportOptions:
        path = Path(self.path.text().strip() or "grid.png")
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        return ExportOptions(path, self.rows.value(), self.cols.value(), self.cell.value(), self.pad.value())
