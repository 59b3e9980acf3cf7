"""The fine-tune and stylize tools drive their jobs: preview, curves, change chart, child model, Cancel."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
from studio.core.registry import default_registry
from studio.core.store import load_model
from studio.engine.jobs import JobRunner
from studio.losses.testing import TinyFeatures


def _helpers():
    if "finetune_test_helpers" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "finetune_test_helpers", Path(__file__).parents[1] / "models" / "test_finetune.py"
        )
        mod = importlib.util.module_from_spec(spec)
        sys.modules["finetune_test_helpers"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["finetune_test_helpers"]


class FakeWindow(QWidget):
    """The part of the MainWindow API the tools use."""

    modelChanged = Signal(str)

    def __init__(self, model_path):
        super().__init__()
        self.path = model_path
        self.model = load_model(model_path, "cpu") if model_path else None
        self.runner = JobRunner(self)
        self.errors, self.refreshed, self.opened = [], 0, []

    def current_model(self):
        return self.model

    def current_model_id(self):
        return Path(self.path).stem if self.path else None

    def current_model_path(self):
        return self.path

    def device_name(self):
        return "cpu"

    def start_job(self, job):
        return self.runner.start(job)

    def show_error(self, text):
        self.errors.append(text)

    def show_message(self, text):
        pass

    def refresh_models(self):
        self.refreshed += 1

    def open_model(self, mid):
        self.opened.append(mid)


@pytest.fixture
def parent(tmp_path):
    h = _helpers()
    reg = default_registry()
    for fam in (h.TinyCSGANFamily, h.CSGANStyleFamily):
        if fam.name not in reg.families:
            reg.add(fam, "tests")
    torch.manual_seed(0)
    cfg = h.CSGANConfig(width=h.WIDTH, latent_dim=16)
    card = ModelCard(name="p", family=h.TinyCSGANFamily.name, config=cfg.to_dict(), image_size=64, latent_dim=16)
    return save_checkpoint(tmp_path / "p", module_tensors("generator", h.Generator(cfg)), card)


def _png(path, seed):
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (30, 40, 4)).astype(np.uint8), "RGBA").save(path)
    return path


def test_finetune_tool_runs_and_shows_child(qtbot, parent, tmp_path):
    from studio.ui.finetune_tool import FinetunePanel

    win = FakeWindow(parent)
    qtbot.addWidget(win)
    panel = FinetunePanel(win)
    qtbot.addWidget(panel)
    assert panel.layers.count() == 5 and "whole" in panel.layers.itemText(0)
    panel.layers.setCurrentIndex(2)
    assert panel.trained_label.text() == "trains: body.6, body.9"
    panel.start()
    assert win.errors == ["Open or drop a painting first."]
    assert not panel.set_painting(tmp_path / "missing.png") and "missing.png" in win.errors[-1]
    assert panel.set_painting(_png(tmp_path / "art.png", 0))
    panel.loss_network, panel.models_dir = TinyFeatures(), tmp_path / "children"
    panel.steps.setValue(3)
    panel.batch.setValue(2)
    panel.size_box.setValue(32)
    panel.start()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60000)
    assert panel.preview.pixels is not None and panel.curves.series
    assert set(panel.chart.values) == {"project", "body.0", "body.3", "body.6", "body.9"}
    assert panel.chart.trained == {"body.6", "body.9"} and win.refreshed == 1
    child = load_model(panel.result["card"], "cpu")
    assert any(c.name == "style_strength" and c.kind == "scalar" for c in child.controls())
    panel.grab()  # paints the chart and curves offscreen


def test_stylize_tool_runs_and_cancels(qtbot, tmp_path):
    from studio.core.export import read_state
    from studio.ui.stylize_tool import StylizePanel

    win = FakeWindow(None)
    qtbot.addWidget(win)
    panel = StylizePanel(win)
    qtbot.addWidget(panel)
    panel.loss_network = TinyFeatures()
    assert panel.set_image("content", _png(tmp_path / "photo.png", 1))
    assert panel.set_image("style", _png(tmp_path / "style.png", 2))
    panel.size_box.setValue(24)
    panel.steps.setValue(3)
    panel.start()
    qtbot.waitUntil(lambda: panel.output is not None, timeout=60000)
    saved = panel.save_as(tmp_path / "copy.png")
    assert read_state(saved)["kind"] == "stylize"
    panel.steps.setValue(5000)
    panel.start()
    qtbot.waitUntil(lambda: len(panel.handle.history) > 0, timeout=60000)
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.handle.running, timeout=60000)
    assert panel.handle.result.status == "cancelled"
