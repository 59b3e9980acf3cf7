"""Translate tool with a U-GAT-IT: its CAM attention map is shown beside the translation (and only then)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, save_checkpoint
from studio.models.ugatit.config import UGATITConfig
from studio.models.ugatit.networks import UGATITGenerator


def make_ugatit(folder, name="tiny-ugatit"):
    """A randomly initialised light U-GAT-IT saved through the checkpoint API."""
    torch.manual_seed(0)
    cfg = UGATITConfig.for_size(16, ngf=4, ndf=4, n_res=1, light=True)
    tensors = {
        **module_tensors("G_ab", UGATITGenerator(cfg)),
        **module_tensors("G_ba", UGATITGenerator(cfg)),
        "val.a": (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8),
        "val.b": (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8),
    }
    card = ModelCard(
        name=name,
        family="ugatit",
        config=dataclasses.asdict(cfg),
        image_size=16,
        labels={"domains": ["photo", "painting"]},
        training=TrainingInfo(command="tests"),
    )
    return save_checkpoint(folder / name, tensors, card)


@pytest.fixture
def panel(make_window, tmp_path, qtbot):
    from studio.ui.translate_tool import make_panel

    folder = tmp_path / "translators"
    folder.mkdir()
    make_ugatit(folder)
    p = make_panel(make_window(folders=[folder]))
    qtbot.addWidget(p)
    return p


def _image(path, size=(40, 28)):
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    pixels[:, : size[0] // 2] //= 4  # a dark half and a bright half: something to attend to
    Image.fromarray(pixels).save(path)
    return path


def test_ugatit_translation_shows_its_attention_map(panel, qtbot, tmp_path):
    panel.show()
    assert not panel.attention_view.isVisible()
    assert panel.open_image(_image(tmp_path / "in.png"))
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    att = panel.attention_view.pixels
    assert att is not None and att.shape == panel.output_view.pixels.shape == (28, 40, 3)
    assert att.dtype == np.uint8 and att.std() > 0  # a map, not a blank
    assert panel.attention_view.isVisible()
    # the other direction has its own generator, so its own map
    first = att.copy()
    panel.result = None
    panel.direction.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.result is not None and panel.result["direction"] == "b2a", timeout=15000)
    assert not np.array_equal(panel.attention_view.pixels, first)


def test_a_translator_without_attention_hides_the_view(make_window, tmp_path, qtbot):
    from studio.ui.translate_tool import make_panel
    from tests.ui.test_translate_tool import make_translator

    folder = tmp_path / "cg"
    folder.mkdir()
    make_translator(folder)
    p = make_panel(make_window(folders=[folder]))
    qtbot.addWidget(p)
    p.show()
    assert p.open_image(_image(tmp_path / "in.png"))
    qtbot.waitUntil(lambda: p.result is not None, timeout=15000)
    assert "attention" not in p.result and p.attention_view.pixels is None and not p.attention_view.isVisible()


def test_the_three_views_and_the_button_rows_fit_a_default_width_dock(panel, qtbot, tmp_path):
    """The attention map is the last of three views in a row: at the dock's default width (~390 px on a
    1400 px window) a wider minimum cut it off, with the Cancel and Send to buttons."""
    panel.show()
    assert panel.open_image(_image(tmp_path / "in.png"))
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    assert panel.attention_view.isVisible()
    assert panel.minimumSizeHint().width() <= 390
