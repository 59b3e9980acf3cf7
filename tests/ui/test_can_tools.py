"""CAN tools dock: style meter, steering (undoable), sample-many grid; offscreen with pytest-qt."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, save_checkpoint
from studio.models.can.config import CANConfig
from studio.models.can.networks import build_networks


def make_tiny_can(folder, name="tiny-can"):
    torch.manual_seed(3)
    cfg = CANConfig(image_size=16, num_styles=3, width=0.25, fc_dim=32)
    g, d = build_networks(cfg)
    tensors = {
        **module_tensors("G", g),
        **module_tensors("D", d),
        "index.images": (torch.rand(9, 3, 16, 16) * 255).to(torch.uint8),
        "index.labels": torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2]),
    }
    card = ModelCard(
        name=name,
        family="can",
        config=cfg.to_dict(),
        image_size=16,
        latent_dim=cfg.latent_dim,
        labels={"styles": ["ink", "paint", "pixel"]},
        training=TrainingInfo(data="random", licence="CC0", command="tests"),
    )
    return save_checkpoint(folder / name, tensors, card)


@pytest.fixture
def can_window(make_window, tmp_path):
    folder = tmp_path / "can-models"
    folder.mkdir()
    make_tiny_can(folder)
    return make_window(folders=[folder])


@pytest.fixture
def panel(can_window, qtbot):
    from studio.ui.can_tools import make_panel

    p = make_panel(can_window)
    qtbot.addWidget(p)
    qtbot.waitUntil(lambda: p.last_posterior is not None, timeout=10000)
    return p


def test_tool_is_found_through_its_entry_point_and_serves_can_models(can_window):
    from importlib.metadata import entry_points

    from studio.ui import can_tools, tools

    assert any(ep.value == "studio.ui.can_tools" for ep in entry_points(group="studio.tools"))
    assert not tools.load_tools()
    spec = next(t for t in tools.registered_tools() if t.id == "can")
    assert spec is can_tools.TOOL and spec.factory is can_tools.make_panel
    assert spec.serves(can_window.current_model()) and not spec.serves(None)


def test_style_meter_shows_posterior_creativity_and_neighbours(panel):
    post = panel.last_posterior
    assert post.shape == (3,) and post.sum() == pytest.approx(1.0, abs=1e-5)
    assert panel.bars.names == ["ink", "paint", "pixel"]
    assert 0.0 <= panel.last_ambiguity <= math.log(3) + 1e-6
    assert "creativity" in panel.creativity.text() and "%" in panel.creativity.text()
    assert len(panel.last_nearest) == 5
    assert panel.nearest_labels[0].pixmap() is not None and not panel.nearest_labels[0].pixmap().isNull()
    panel.bars.grab()  # the QPainter bar chart paints without errors
    assert len(panel.steer_buttons) == 3


def test_steering_is_undoable_and_moves_the_posterior(panel, can_window, qtbot):
    before_state = can_window.current_state()
    before = panel.last_posterior.copy()
    k = int(np.argmin(before))
    panel.steer_buttons[k][0].click()  # "towards" style k
    qtbot.waitUntil(lambda: len(can_window.current_state().get("z_edits", {})) > 0, timeout=15000)
    qtbot.waitUntil(lambda: panel.last_posterior is not None and panel.last_posterior[k] != before[k], timeout=10000)
    assert panel.last_posterior[k] > before[k]
    can_window.undo()
    assert can_window.current_state()["z_edits"] == before_state["z_edits"]


def test_sample_many_fills_a_sorted_clickable_grid(panel, can_window, qtbot):
    panel.count.setValue(6)
    panel.pool.setValue(24)
    panel.sample_button.click()
    qtbot.waitUntil(lambda: panel.grid.count() == 6, timeout=15000)
    assert all(a >= b - 1e-6 for a, b in zip(panel.grid_scores, panel.grid_scores[1:]))
    qtbot.waitUntil(lambda: not panel.grid.item(0).icon().isNull(), timeout=10000)
    panel._grid_clicked(panel.grid.item(2))
    assert can_window.current_state()["seed"] == panel.grid_states[2]["seed"]


def test_panel_is_disabled_for_other_families(window, qtbot):
    from studio.ui.can_tools import make_panel

    p = make_panel(window)  # the tiny test family, not a CAN
    qtbot.addWidget(p)
    assert not p.sample_button.isEnabled() and p.note.isVisibleTo(p)
    p.sample_many()
    assert "CAN model" in window.last_error
