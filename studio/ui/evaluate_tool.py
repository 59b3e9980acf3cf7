"""Evaluate tool: pick model(s) and a reference folder, run the evaluation job with progress and Cancel,
see the score table, open the HTML model report.

The widget only collects options and shows results; the work is :class:`studio.metrics.evaluate.
EvaluationJob`, run through ``window.start_job`` (a worker thread, listed in the job panel) — the same
job ``studio eval`` runs. Scores from one run share feature network and reference set, so the table is
a valid side-by-side comparison.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.paths import studio_home
from studio.core.registry import ToolSpec

from .widgets import JobSlot, button, button_row, window_device
from .widgets import form as make_form

if TYPE_CHECKING:
    from studio.metrics.evaluate import EvaluationJob

INCEPTION_CHOICE = "FID Inception-v3 weights file…"


class EvaluatePanel(QWidget):
    def __init__(self, window: Any):
        super().__init__()
        from studio.metrics.features import DEFAULT_FEATURES, feature_net_names

        self.main_window = window
        self.jobs = JobSlot(window, self._on_progress, self._on_finished)
        self.job: EvaluationJob | None = None
        self.report_path: Path | None = None
        self.inception_path: str | None = None

        self.models = QListWidget()
        self.models.setToolTip("tick the models to evaluate (several: compared side by side)")
        self.models.setMaximumHeight(150)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder of reference images (e.g. the training data)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.count = QSpinBox()
        self.count.setRange(2, 50_000)
        self.count.setValue(500)
        self.count.setToolTip("samples per model; more = steadier scores, slower")
        self.features = QComboBox()
        self.features.addItems(feature_net_names() + [INCEPTION_CHOICE])
        self.features.setCurrentText(DEFAULT_FEATURES)
        self.features.activated.connect(self._features_chosen)
        self.write_card = QCheckBox("Store the scores in the model cards")
        form = make_form(
            [
                ("Models", self.models),
                ("Reference", row),
                ("Samples", self.count),
                ("Features", self.features),
                ("", self.write_card),
            ]
        )

        self.run_button = button("Evaluate", self.start)
        self.cancel_button = button("Cancel", self.cancel, enabled=False)
        self.report_button = button("Open report", self.open_report, enabled=False)
        buttons = button_row(self.run_button, self.cancel_button, self.report_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.caption)
        self.populate()
        if hasattr(window, "modelChanged"):
            window.modelChanged.connect(lambda _id: self.populate())

    # -- options -----------------------------------------------------------------------------------
    def _store(self):
        store = getattr(self.main_window, "store", None)
        if store is None:
            from studio.core.store import ModelStore

            store = ModelStore()
        return store

    def populate(self) -> None:
        """List the installed models; keep ticks, tick the canvas model when nothing is ticked."""
        ticked = set(self.selected_ids())
        current = self.main_window.current_model_id() if hasattr(self.main_window, "current_model_id") else None
        self.models.clear()
        for mid in self._store().ids():
            item = QListWidgetItem(mid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = mid in ticked or (not ticked and mid == current)
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.models.addItem(item)

    def selected_ids(self) -> list[str]:
        return [
            self.models.item(i).text()
            for i in range(self.models.count())
            if self.models.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Reference images", self.folder.text() or str(Path.cwd()))
        if folder:
            self.folder.setText(folder)

    def _features_chosen(self) -> None:
        if self.features.currentText() == INCEPTION_CHOICE:
            path, _ = QFileDialog.getOpenFileName(
                self, "FID Inception weights", "", "PyTorch weights (*.pth *.pt);;All files (*)"
            )
            if path:
                self.inception_path = path
                self.features.setToolTip(path)
            else:
                self.features.setCurrentIndex(0)

    def feature_spec(self) -> str:
        text = self.features.currentText()
        return (self.inception_path or "") if text == INCEPTION_CHOICE else text

    # -- running -----------------------------------------------------------------------------------
    def start(self) -> None:
        from studio.metrics.evaluate import EvaluationJob

        ids = self.selected_ids()
        if not ids:
            self.main_window.show_error("Tick at least one model to evaluate.")
            return
        folder = self.folder.text().strip()
        if not folder:
            self.main_window.show_error("Choose a folder of reference images (usually the model's training data).")
            return
        spec = self.feature_spec()
        if not spec:
            self.main_window.show_error("Choose the FID Inception weights file, or another feature network.")
            return
        store = self._store()
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        report = studio_home() / "reports" / f"{'-'.join(ids)[:60]}-{stamp}.html"
        device = window_device(self.main_window)
        try:
            paths = [store.resolve(i) for i in ids]
            self.job = EvaluationJob(
                paths,
                folder,
                n=self.count.value(),
                features=spec,
                report=report,
                write_card=self.write_card.isChecked(),
                device=device,
                registry=getattr(store, "registry", None),
            )
        except StudioError as exc:
            self.main_window.show_error(str(exc))
            return
        self.report_path = None
        self.report_button.setEnabled(False)
        self.table.setRowCount(0)
        self.progress.setValue(0)
        self.jobs.start(self.job)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("evaluating…")

    def cancel(self) -> None:
        if self.jobs.handle is not None:
            self.jobs.cancel()
            self.status.setText("cancelling…")

    def _on_progress(self, p) -> None:
        self.progress.setValue(int(1000 * p.fraction))
        if p.message:
            self.status.setText(p.message)

    def _on_finished(self, result) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(result.message)
        if not result.ok:
            if result.status == "failed":
                self.main_window.show_error(result.message)
            return
        self.progress.setValue(1000)
        assert self.job is not None  # a result comes from the job start() made
        self.show_results(self.job.evaluations)
        report = result.outputs.get("report")
        if report:
            self.report_path = Path(report)
            self.report_button.setEnabled(True)
        if self.write_card.isChecked() and hasattr(self.main_window, "refresh_models"):
            self.main_window.refresh_models()

    def show_results(self, evaluations) -> None:
        from studio.metrics.scores import COLUMNS, format_value

        self.table.setColumnCount(len(COLUMNS))
        self.table.setHorizontalHeaderLabels([label for _, label, _ in COLUMNS])
        self.table.setRowCount(len(evaluations))
        self.table.setVerticalHeaderLabels([e.model_id for e in evaluations])
        for r, ev in enumerate(evaluations):
            for c, (key, _, _) in enumerate(COLUMNS):
                item = QTableWidgetItem(format_value(ev.result, key))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if evaluations:
            first = evaluations[0].result
            self.caption.setText(
                f"Feature network: {first['feature_net']} — {first['n_generated']} samples per "
                f"model vs {first['n_reference']} reference images. Scores from other feature "
                "networks are not comparable with these."
            )

    def open_report(self) -> None:
        if self.report_path is not None and self.report_path.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report_path)))


def make_panel(window: Any) -> EvaluatePanel:
    return EvaluatePanel(window)


TOOL = ToolSpec(
    "evaluate",
    "Evaluate models…",
    "Ctrl+Shift+E",
    make_panel,
    kind="dock",
    help="FID, KID, MiFID and IS-style scores against a reference folder; compare checkpoints; HTML model report",
)
TOOLS = [TOOL]  # found through the 'studio.tools' entry point 'evaluate' (pyproject.toml)
