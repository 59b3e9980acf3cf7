"""CAN: networks, losses, data errors and diversity (fast, no training)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.errors import StudioError
from studio.models.can.config import CANConfig
from studio.models.can.diversity import DiversityMeter
from studio.models.can.losses import ambiguity_loss, discriminator_loss, entropy, generator_loss
from studio.models.can.networks import build_networks, map_output


def tiny(**kw) -> CANConfig:
    base = dict(image_size=16, num_styles=3, width=0.25, fc_dim=32)
    base.update(kw)
    return CANConfig(**base)


@pytest.mark.parametrize("arch,size", [("report", 16), ("report", 64), ("dcgan", 32), ("dcgan", 64)])
def test_shapes_and_ranges(arch, size):
    cfg = tiny(arch=arch, image_size=size)
    g, d = build_networks(cfg)
    z = torch.randn(5, cfg.latent_dim)
    x = g(z).detach()
    assert x.shape == (5, 3, size, size)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    real, style = d(x)
    assert real.shape == (5,) and style.shape == (5, 3)
    assert d.style_features(x).shape[0] == 5


def test_report_architecture_matches_the_paper():
    cfg = CANConfig(num_styles=7)
    g, d = build_networks(cfg)
    assert [m.out_features for m in g.fc if isinstance(m, torch.nn.Linear)] == [1024, 8 * 8 * 128]
    convs = [m for m in d.body if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128]
    assert sum(isinstance(m, torch.nn.AvgPool2d) for m in d.body) == 3
    assert d.style_hidden[0].in_features == 8 * 8 * 128 and d.style_hidden[0].out_features == 1024
    assert d.style_out.out_features == 7 and d.real_head[-1].out_features == 1
    tconvs = [m for m in g.up if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [t.out_channels for t in tconvs] == [64, 32, 3]


def test_output_map_minmax_spans_exactly_zero_to_one():
    raw = torch.randn(4, 3, 8, 8) * 10 + 3
    out = map_output(raw, "minmax")
    flat = out.flatten(1)
    assert torch.allclose(flat.min(1).values, torch.zeros(4), atol=1e-5)
    assert torch.allclose(flat.max(1).values, torch.ones(4), atol=1e-5)
    t = map_output(raw, "tanh")
    assert float(t.min()) >= 0 and float(t.max()) <= 1


def test_ambiguity_is_log_k_at_uniform_posterior():
    for k in (2, 4, 7):
        for const in (0.0, 3.5, -12.0):
            logits = torch.full((3, k), const)
            assert float(ambiguity_loss(logits, "softmax-ce")) == pytest.approx(math.log(k), abs=1e-6)
            assert float(entropy(logits)[0]) == pytest.approx(math.log(k), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-8, 8, allow_nan=False), min_size=2, max_size=8))
def test_ambiguity_is_larger_for_any_other_posterior(values):
    logits = torch.tensor([values], dtype=torch.float64)
    k = logits.shape[1]
    loss = float(ambiguity_loss(logits, "softmax-ce"))
    if float(logits.max() - logits.min()) < 1e-6:
        assert loss == pytest.approx(math.log(k), abs=1e-9)
    else:
        assert loss > math.log(k) - 1e-12
        assert float(entropy(logits)[0]) <= math.log(k) + 1e-12


def test_loss_terms_softmax_ce():
    labels = torch.tensor([0, 1, 2, 0])
    d = discriminator_loss(torch.zeros(4), torch.zeros(4, 3), labels, torch.zeros(4), form="softmax-ce")
    assert float(d["d_style"]) == pytest.approx(math.log(3), abs=1e-6)
    assert float(d["total"]) == pytest.approx(2 * math.log(2) + math.log(3), abs=1e-5)
    g = generator_loss(torch.zeros(4), torch.zeros(4, 3), ambiguity_weight=2.0, form="softmax-ce")
    assert float(g["total"]) == pytest.approx(math.log(2) + 2 * math.log(3), abs=1e-5)


def test_loss_terms_eq3_default():
    """Zero logits: each of the K one-vs-all sigmoids is 0.5, so D's style BCE and G's eq. 3 term are both
    K·log 2 (3 classes here), whatever the labels."""
    d = discriminator_loss(torch.zeros(4), torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]), torch.zeros(4))
    assert float(d["d_style"]) == pytest.approx(3 * math.log(2), abs=1e-6)
    g = generator_loss(torch.zeros(4), torch.zeros(4, 3), ambiguity_weight=2.0)
    assert float(g["total"]) == pytest.approx(math.log(2) + 2 * 3 * math.log(2), abs=1e-5)


def test_bad_configs_get_clear_errors():
    with pytest.raises(StudioError, match="two styles"):
        CANConfig(num_styles=1)
    with pytest.raises(StudioError, match="power of two"):
        CANConfig(image_size=48)
    with pytest.raises(StudioError, match="architecture"):
        CANConfig(arch="stylegan")
    with pytest.raises(StudioError, match="odd"):
        CANConfig(kernel=4)


def test_diversity_is_zero_for_a_collapsed_batch():
    meter = DiversityMeter("cpu", use_vgg=False)
    same = torch.rand(1, 3, 16, 16).repeat(6, 1, 1, 1)
    varied = torch.rand(6, 3, 16, 16)
    assert meter.score(same) == pytest.approx(0.0, abs=1e-9)
    assert meter.score(varied) > 0.05
