"""Gram matrix and losses against hand-computed values; the real VGG-19 loads frozen and sane."""

from __future__ import annotations

import pytest
import torch

from studio.core.errors import StudioError
from studio.losses import LossConfig, PerceptualLoss, content_distance, gram_matrix, style_distance, total_variation
from studio.losses.testing import TinyFeatures


def test_gram_matrix_by_hand():
    # one image, 2 channels, 1x2 pixels: F = [[1, 2], [3, 4]]
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    g = gram_matrix(f)
    # F F^T = [[5, 11], [11, 25]], divided by C*H*W = 4
    assert torch.allclose(g, torch.tensor([[[1.25, 2.75], [2.75, 6.25]]]))


def test_style_distance_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    g = torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [1.0, 2.0]]])
    # ||G-A||^2 = 1 and 2; ||A||^2 = 5 -> mean(0.2, 0.4) = 0.3
    assert style_distance(g, a).item() == pytest.approx(0.3)
    assert style_distance(a.unsqueeze(0), a).item() == 0


def test_content_distance_and_tv_by_hand():
    p = torch.tensor([1.0, 2.0, 2.0, 0.0]).view(1, 1, 2, 2)
    f = torch.tensor([1.0, 1.0, 2.0, 1.0]).view(1, 1, 2, 2)
    assert content_distance(f, p).item() == pytest.approx(2.0 / 9.0)
    x = torch.tensor([[0.0, 1.0], [2.0, 4.0]]).view(1, 1, 2, 2)
    # horizontal diffs 1, 2 -> mean sq 2.5; vertical diffs 2, 3 -> 6.5
    assert total_variation(x).item() == pytest.approx(9.0)
    assert total_variation(torch.ones(1, 3, 1, 5)).item() == 0  # 1-px tall images are fine


def test_layer_weights_are_shares_and_validated():
    cfg = LossConfig(style_layers=("relu1_1", "relu2_1"), style_layer_weights=(3, 1))
    assert cfg.layer_weights == {"relu1_1": 3.0, "relu2_1": 1.0}
    assert LossConfig().layer_weights == {k: 0.25 for k in LossConfig().style_layers}
    with pytest.raises(StudioError):
        LossConfig(style_layers=("relu1_1",), style_layer_weights=(1, 2))
    assert LossConfig.from_dict(cfg.to_dict()) == cfg


def test_perceptual_loss_zero_for_identical_images():
    loss = PerceptualLoss(TinyFeatures(), LossConfig())
    img = torch.rand(1, 3, 24, 24)
    loss.set_style(img)
    terms = loss(img, loss.content_target(img))
    assert terms.style.item() == pytest.approx(0, abs=1e-6) and terms.content.item() == pytest.approx(0, abs=1e-6)
    assert set(terms.per_layer) == set(LossConfig().style_layers)


@pytest.fixture(scope="session")
def vgg():
    from studio.losses.vgg import load_vgg19

    return load_vgg19("cpu", "max", "relu4_2")


def test_real_vgg19_is_frozen_and_normalises_like_caffe(vgg):
    assert not any(p.requires_grad for p in vgg.parameters())
    x = torch.zeros(1, 3, 1, 1)
    x[0, 0] = 1.0  # pure red
    bgr = vgg.normalise(x).flatten().tolist()
    assert bgr == pytest.approx([-103.939, -116.779, 255 - 123.68])
    img = torch.rand(2, 3, 32, 32)
    feats = vgg(img, ["relu1_1", "relu3_1", "relu4_2"])
    assert feats["relu1_1"].shape == (2, 64, 32, 32) and feats["relu4_2"].shape == (2, 512, 4, 4)
    assert all(float(v.min()) >= 0 for v in feats.values())  # ReLU outputs
    # a real ImageNet network separates a smooth image from noise at every style layer
    loss = PerceptualLoss(vgg, LossConfig())
    smooth = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32).contiguous()
    loss.set_style(smooth)
    _, per = loss.style_loss(vgg(img[:1], LossConfig().style_layers))
    assert min(per.values()) > 0.1


def test_unknown_layer_is_a_clear_error():
    from studio.losses import build_loss_network

    with pytest.raises(StudioError, match="relu9_9"):
        build_loss_network(LossConfig(style_layers=("relu9_9",)))
