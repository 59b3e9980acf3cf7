"""Translate tool: open/drop any image, choose direction, side-by-side result, tiled progress, save."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, save_checkpoint
from studio.core.export import read_state
from studio.models.cyclegan.config import CycleGANConfig
from studio.models.cyclegan.networks import DnCNNGenerator


def make_translator(folder, name="tiny-translator"):
    torch.manual_seed(0)
    cfg = CycleGANConfig(channels=4, depth=1, residual=True)
    g_ab, g_ba = DnCNNGenerator(4, 1), DnCNNGenerator(4, 1)  # b2a stays the identity
    with torch.no_grad():
        g_ab.net[-1].weight.normal_(0, 0.2)
    tensors = {
        **module_tensors("G_ab", g_ab),
        **module_tensors("G_ba", g_ba),
        "val.a": (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8),
        "val.b": (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8),
    }
    card = ModelCard(
        name=name,
        family="cyclegan",
        config=dataclasses.asdict(cfg),
        image_size=16,
        labels={"domains": ["photo", "paint"]},
        training=TrainingInfo(command="tests"),
    )
    return save_checkpoint(folder / name, tensors, card)


@pytest.fixture
def tr_window(make_window, tmp_path):
    folder = tmp_path / "translators"
    folder.mkdir()
    make_translator(folder)
    return make_window(folders=[folder])


@pytest.fixture
def panel(tr_window, qtbot):
    from studio.ui.translate_tool import make_panel

    p = make_panel(tr_window)
    qtbot.addWidget(p)
    return p


def _image(path, size=(37, 22)):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def test_tool_is_found_through_its_entry_point():
    from importlib.metadata import entry_points

    from studio.ui import tools, translate_tool

    assert any(ep.value == "studio.ui.translate_tool" for ep in entry_points(group="studio.tools"))
    assert not tools.load_tools()
    spec = next(t for t in tools.registered_tools() if t.id == "translate")
    assert spec is translate_tool.TOOL and spec.serves(None)  # it lists the translators itself


def test_lists_translators_with_domain_names(panel):
    assert panel.translator.count() == 1
    assert [panel.direction.itemText(i) for i in range(2)] == ["photo → paint", "paint → photo"]


def test_open_translate_side_by_side_and_save(panel, qtbot, tmp_path):
    src = _image(tmp_path / "in.png")
    assert panel.open_image(src)
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    assert panel.input_view.pixels.shape == panel.output_view.pixels.shape == (22, 37, 3)
    # b2a is the identity generator: output equals the input pixels
    panel.result = None
    panel.direction.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["direction"] == "b2a", timeout=15000)
    assert np.array_equal(panel.output_view.pixels, panel.input_view.pixels)
    out = panel.save(tmp_path / "out.png")
    state = read_state(out)
    assert state["translate"]["direction"] == "b2a" and state["translate"]["source"] == "in.png"


def test_tiled_work_reports_progress_per_tile(panel, qtbot, tmp_path):
    panel.auto_run.setChecked(False)
    panel.open_image(_image(tmp_path / "big.png", (60, 50)))
    panel.tile.setValue(24)
    steps = []
    panel.start()
    panel.handle.progress.connect(lambda p: steps.append((p.step, p.total)))
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    assert panel.result["tiles"] > 1 and panel.progress.value() == panel.progress.maximum()


def test_bad_file_shows_a_clear_error(panel, tr_window, tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8 not really")
    assert not panel.open_image(junk)
    assert "junk.jpg" in tr_window.last_error


def test_dropping_an_image_on_the_tool_opens_it(panel, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(_image(tmp_path / "dropped.png")))])
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    panel.dropEvent(event)
    assert event.isAccepted()
    assert panel.source_path.name == "dropped.png"
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
