"""The fine-tune's style target at the scale of the strokes: crops, scales, the multi-scale target, the CLI line."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.errors import StudioError
from studio.losses.perceptual import FINETUNE_LOSS, PerceptualLoss
from studio.losses.style_targets import crop_side, multiscale_targets, parse_scales, random_crops, whole_image
from studio.losses.testing import TinyFeatures


def _helpers():
    spec = importlib.util.spec_from_file_location("finetune_test_helpers", Path(__file__).parent / "test_finetune.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["finetune_test_helpers"] = mod
    spec.loader.exec_module(mod)
    return mod


def _strokes(h: int = 300, w: int = 420) -> torch.Tensor:
    """A 'painting' with fine diagonal strokes (period 4 px) over a smooth colour ramp: [1,3,h,w] in [0,1]."""
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    strokes = 0.5 + 0.5 * torch.sin((xx + yy) * (2 * torch.pi / 4))
    ramp = xx / w
    return torch.stack([0.3 * strokes + 0.6 * ramp, 0.5 * strokes, 1.0 - ramp]).clamp(0, 1).unsqueeze(0)


@pytest.mark.parametrize("scale", [1.0, 2.0, 4.0])
def test_crops_have_the_requested_scale_and_stay_inside(scale):
    painting = _strokes()
    side = crop_side(scale, 64, 300, 420)
    assert side == round(scale * 64)
    crops, corners = random_crops(painting, side, 50, 64, torch.Generator().manual_seed(0))
    assert crops.shape == (50, 3, 64, 64)
    for y, x in corners:
        assert 0 <= y and y + side <= 300 and 0 <= x and x + side <= 420
    if scale == 1.0:  # native resolution: a crop is the painting's own pixels, untouched
        y, x = corners[0]
        assert torch.equal(crops[0], painting[0, :, y : y + side, x : x + side])
    assert len(set(corners)) > 40  # random places, not one


def test_a_crop_larger_than_the_painting_is_clamped_to_it():
    painting = _strokes(100, 150)
    side = crop_side(8, 64, 100, 150)
    assert side == 100
    crops, corners = random_crops(painting, side, 5, 64, torch.Generator().manual_seed(1))
    assert crops.shape == (5, 3, 64, 64) and all(y == 0 and 0 <= x <= 50 for y, x in corners)


def test_parse_scales():
    assert parse_scales("1,2,4,whole") == (1.0, 2.0, 4.0, 0.0)
    assert parse_scales([1, "0.5"]) == (1.0, 0.5)
    for bad in ("", "x", "-1", "100"):
        with pytest.raises(StudioError):
            parse_scales(bad)


def test_multiscale_target_differs_from_the_whole_image_target():
    net = TinyFeatures()
    painting = _strokes()
    layers = FINETUNE_LOSS.style_layers
    loss = PerceptualLoss(net, FINETUNE_LOSS)
    whole = loss.set_style(whole_image(painting, 64))
    crops = multiscale_targets(net, painting, layers, 64, 64, (1.0, 2.0), 16)
    only_whole = multiscale_targets(net, painting, layers, 64, 64, (0.0,), 16)
    for name in layers:
        assert torch.allclose(only_whole[name], whole[name], rtol=1e-4, atol=1e-7)  # scale 0 = the old target
        rel = (crops[name] - whole[name]).norm() / whole[name].norm()
        assert rel > 0.05, (name, float(rel))
    # same seed, same target (a resumed run sees the same painting)
    again = multiscale_targets(net, painting, layers, 64, 64, (1.0, 2.0), 16)
    assert all(torch.equal(again[k], crops[k]) for k in layers)


def test_finetune_prints_style_loss_before_after_and_wall_time(tmp_path, monkeypatch, capsys):
    helpers = _helpers()
    from studio.cli import main
    from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, read_card, save_checkpoint
    from studio.core.registry import default_registry

    reg = default_registry()
    for fam in (helpers.TinyCSGANFamily, helpers.CSGANStyleFamily):
        if fam.name not in reg.families:
            reg.add(fam, "tests")
    torch.manual_seed(0)
    cfg = helpers.CSGANConfig(arch="dcgan64", width=helpers.WIDTH, latent_dim=16)
    card = ModelCard(
        name="parent",
        family=helpers.TinyCSGANFamily.name,
        config=cfg.to_dict(),
        image_size=64,
        latent_dim=16,
        training=TrainingInfo(data="random", licence="CC0"),
    )
    parent = save_checkpoint(tmp_path / "parent", module_tensors("generator", helpers.Generator(cfg)), card)
    painting = tmp_path / "strokes.png"
    Image.fromarray((_strokes(90, 120)[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(painting)
    monkeypatch.setattr("studio.models.csgan.finetune.build_loss_network", lambda *a, **k: TinyFeatures())
    argv = ["finetune", str(parent), str(painting), "--steps", "3", "--batch", "2", "--crops", "4"]
    argv += [
        "--style-target",
        "crops",
        "--crop-scales",
        "1,whole",
        "--models-dir",
        str(tmp_path / "m"),
        "--out",
        "child",
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    line = next(ln for ln in err.splitlines() if ln.startswith("style loss "))
    child = read_card(tmp_path / "m" / "child.json")
    start, end = child.metrics["style_loss_start"], child.metrics["style_loss_end"]
    assert f"{start:.4g} → {end:.4g}" in line and "wall time" in line and "3 steps" in line
    ft = child.config["finetune"]
    assert ft["style_target"] == "crops" and list(ft["crop_scales"]) == [1.0, 0.0] and ft["crops"] == 4
    assert "--crop-scales 1,whole" in child.training.command
