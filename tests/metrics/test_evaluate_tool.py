"""The Evaluate tool runs the evaluation job through the window's job runner and shows the table."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Signal

from studio.core.store import ModelStore


class FakeWindow(QObject):
    """The part of the MainWindow API the tool uses."""

    modelChanged = Signal(str)

    def __init__(self, store):
        super().__init__()
        self.store, self.errors, self.handles = store, [], []

    def current_model_id(self):
        return "tiny"

    def device_name(self):
        return "cpu"

    def start_job(self, job):
        from studio.engine.jobs import JobHandle

        handle = JobHandle(job).start()
        self.handles.append(handle)
        return handle

    def show_error(self, text):
        self.errors.append(text)

    def refresh_models(self):
        self.store.refresh()


@pytest.fixture
def panel(qtbot, tiny_models_dir, tiny_family, tiny_features):
    from studio.ui.evaluate_tool import EvaluatePanel

    window = FakeWindow(ModelStore([tiny_models_dir]))
    p = EvaluatePanel(window)
    qtbot.addWidget(p)
    return p


def test_tool_is_registered():
    from studio.ui import evaluate_tool
    from studio.ui.tools import registered_tools

    # found through the 'studio.tools' entry point, not registered by hand
    spec = next(t for t in registered_tools() if t.id == "evaluate")
    assert spec.factory is evaluate_tool.make_panel


def test_evaluate_runs_and_shows_table(panel, qtbot, reference_dir):
    assert panel.selected_ids() == ["tiny"]  # the canvas model is ticked
    panel.folder.setText(str(reference_dir))
    panel.count.setValue(8)
    panel.features.setCurrentText("tiny-random")
    panel.write_card.setChecked(True)
    panel.start()
    handle = panel.main_window.handles[0]
    qtbot.waitUntil(lambda: handle.result is not None, timeout=60000)
    qtbot.waitUntil(lambda: panel.run_button.isEnabled(), timeout=5000)
    assert handle.result.ok, handle.result.message
    assert panel.table.rowCount() == 1 and panel.table.columnCount() > 5
    assert panel.table.item(0, 0).text() not in ("", "–")
    assert panel.report_button.isEnabled() and panel.report_path.is_file()
    assert "tiny-random" in panel.caption.text()
    assert "evaluation" in panel.main_window.store.get("tiny").card.metrics


def test_missing_folder_and_cancel(panel, qtbot, reference_dir):
    panel.start()
    assert panel.main_window.errors and "reference" in panel.main_window.errors[-1]
    panel.folder.setText(str(reference_dir))
    panel.count.setValue(5000)
    panel.features.setCurrentText("tiny-random")
    panel.start()
    assert panel.cancel_button.isEnabled()
    panel.cancel()
    handle = panel.main_window.handles[-1]
    qtbot.waitUntil(lambda: handle.result is not None, timeout=60000)
    assert handle.result.status == "cancelled"
    qtbot.waitUntil(lambda: panel.run_button.isEnabled(), timeout=5000)
    assert not panel.report_button.isEnabled()
