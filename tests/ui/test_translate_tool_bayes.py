"""The Translate tool lists a Bayesian CycleGAN and shows its marginal translation (the mean over its
latent samples), like any translator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, save_checkpoint
from studio.core.grid import to_uint8
from studio.core.store import load_model
from studio.models.bayes_cyclegan.config import BayesCycleGANConfig
from studio.models.bayes_cyclegan.networks import build_latent_generator


def make_bayes_translator(folder, name="tiny-bayes"):
    torch.manual_seed(0)
    cfg = BayesCycleGANConfig.preset("ece", channels=4, depth=1, residual=False)
    tensors = {
        **module_tensors("G_ab", build_latent_generator(cfg)),
        **module_tensors("G_ba", build_latent_generator(cfg)),
        "val.a": (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8),
        "val.b": (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8),
    }
    card = ModelCard(
        name=name,
        family="bayes-cyclegan",
        config=dataclasses.asdict(cfg),
        image_size=16,
        labels={"domains": ["photo", "paint"]},
        training=TrainingInfo(command="tests"),
    )
    return save_checkpoint(folder / name, tensors, card)


@pytest.fixture
def bayes_panel(make_window, tmp_path, qtbot):
    from studio.ui.translate_tool import make_panel

    folder = tmp_path / "translators"
    folder.mkdir()
    card = make_bayes_translator(folder)
    p = make_panel(make_window(folders=[folder]))
    qtbot.addWidget(p)
    return p, card


def test_translate_tool_shows_the_bayesian_marginal_translation(bayes_panel, qtbot, tmp_path):
    panel, card = bayes_panel
    assert panel.translator.count() == 1
    src = tmp_path / "in.png"
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, (19, 27, 3), dtype=np.uint8)).save(src)
    assert panel.open_image(src)
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15000)
    model = load_model(card, "cpu")
    x = torch.from_numpy(np.asarray(Image.open(src).convert("RGB"))).permute(2, 0, 1).float() / 255
    expected = to_uint8(model.translate_tensor(x, "a2b"))[0]
    assert panel.output_view.pixels.shape == (19, 27, 3)
    assert np.abs(panel.output_view.pixels.astype(int) - expected.astype(int)).max() <= 1
