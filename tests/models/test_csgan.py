"""CSGAN networks and recipe rules: shapes, ranges, layer order, soft labels, D threshold, LR decay."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from studio.models.csgan.networks import CSGANConfig, Discriminator, Generator
from studio.models.csgan.recipe import (
    FAKE_LABEL_RANGE,
    REAL_LABEL_RANGE,
    lr_at,
    lsgan_loss,
    should_update_d,
    soft_labels,
)


@pytest.mark.parametrize("arch,size,latent", [("dcgan64", 64, 100), ("lsgan112", 112, 1024)])
def test_shapes_and_ranges(arch, size, latent):
    torch.manual_seed(0)
    cfg = CSGANConfig(arch=arch, width=0.0625)
    assert cfg.image_size == size and cfg.latent_dim == latent
    g, d = Generator(cfg), Discriminator(cfg)
    x = g(torch.randn(3, latent) * 3)
    assert x.shape == (3, 3, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (3,)


def test_paper_sizes_at_full_width():
    g = Generator(CSGANConfig("dcgan64"))
    assert g.project.in_features == 100 and g.project.out_features == 1024 * 4 * 4
    convs = [m for m in g.body if isinstance(m, nn.ConvTranspose2d)]
    assert [c.kernel_size for c in convs] == [(5, 5)] * 4 and all(c.stride == (2, 2) for c in convs)
    assert [c.out_channels for c in convs] == [512, 256, 128, 3]
    g2 = Generator(CSGANConfig("lsgan112"))
    assert g2.project.in_features == 1024 and g2.project.out_features == 256 * 7 * 7
    convs = [m for m in g2.body if isinstance(m, nn.ConvTranspose2d)]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert [c.stride[0] for c in convs[:6]] == [2, 1, 2, 1, 2, 2]


@pytest.mark.parametrize("arch", ["dcgan64", "lsgan112"])
def test_batchnorm_comes_before_relu(arch):
    cfg = CSGANConfig(arch=arch, width=0.0625)
    for net, act in ((Generator(cfg), nn.ReLU), (Discriminator(cfg), nn.LeakyReLU)):
        mods = [m for m in net.modules() if not isinstance(m, (nn.Sequential, Generator, Discriminator))]
        bns = [i for i, m in enumerate(mods) if isinstance(m, nn.BatchNorm2d)]
        assert bns, "expected BatchNorm layers"
        for i in bns:
            assert isinstance(mods[i + 1], act), f"{type(mods[i + 1]).__name__} follows BatchNorm"
        for i, m in enumerate(mods):
            if isinstance(m, act) and i > 0 and not isinstance(mods[i - 1], nn.Conv2d):
                assert isinstance(mods[i - 1], nn.BatchNorm2d)


def test_width_scales_channels_and_rejects_bad_config():
    small = sum(p.numel() for p in Generator(CSGANConfig("dcgan64", 0.125)).parameters())
    big = sum(p.numel() for p in Generator(CSGANConfig("dcgan64", 0.25)).parameters())
    assert big > 3 * small
    with pytest.raises(ValueError):
        CSGANConfig("stylegan")
    with pytest.raises(ValueError):
        CSGANConfig("dcgan64", width=0)


def test_soft_label_ranges():
    gen = torch.Generator().manual_seed(0)
    real = soft_labels(5000, REAL_LABEL_RANGE, gen)
    fake = soft_labels(5000, FAKE_LABEL_RANGE, gen)
    assert 0.78 <= real.min() and real.max() <= 1.12 and real.max() > 1.0  # some above 1 (paper)
    assert 0.0 <= fake.min() and fake.max() <= 0.24
    assert real.std() > 0.05 and fake.std() > 0.03


def test_least_squares_loss_and_d_threshold():
    scores = torch.tensor([1.0, 0.0])
    assert lsgan_loss(scores, torch.tensor([1.0, 0.0])).item() == 0.0
    assert lsgan_loss(scores, 1.0).item() == pytest.approx(0.5)
    assert should_update_d(0.21) and should_update_d(1.5)
    assert not should_update_d(0.2) and not should_update_d(0.05)


def test_lr_decay_schedule():
    assert lr_at(0, 2e-4, 0.9) == pytest.approx(2e-4)
    assert lr_at(999, 2e-4, 0.9) == pytest.approx(2e-4)
    assert lr_at(1000, 2e-4, 0.9) == pytest.approx(1.8e-4)
    assert lr_at(2500, 2e-4, 0.85) == pytest.approx(2e-4 * 0.85**2)


def test_a_discriminator_that_cannot_tell_real_from_fake_is_still_trained():
    """The threshold must not freeze an uninformed D: the best constant output under soft labels has a
    loss well above 0.2 (with Mao's ½ it was 0.179, and D was never trained past chance)."""
    gen = torch.Generator().manual_seed(0)
    real_t = soft_labels(4096, REAL_LABEL_RANGE, gen)
    fake_t = soft_labels(4096, FAKE_LABEL_RANGE, gen)
    best_constant = torch.cat([real_t, fake_t]).mean()
    scores = torch.full((4096,), float(best_constant))
    d_loss = lsgan_loss(scores, real_t) + lsgan_loss(scores, fake_t)
    assert d_loss.item() > 0.3
    assert should_update_d(d_loss.item())


def test_bce_loss_clamps_soft_real_labels_into_probabilities():
    from studio.models.csgan.recipe import LOSSES, bce_loss

    logits = torch.tensor([10.0, -10.0])
    assert bce_loss(logits, torch.tensor([1.12, 0.0])).item() < 1e-3  # 1.12 counts as 1
    assert bce_loss(torch.zeros(3), 1.0).item() == pytest.approx(math.log(2), rel=1e-5)
    assert set(LOSSES) == {"ls", "bce"}
