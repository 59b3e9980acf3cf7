"""Batch norms folded into the render copies (studio.core.bnfold): the same images, fewer passes, and
the reference network untouched."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from studio.core.bnfold import fold_batch_norms
from studio.core.fastnet import FastNet
from studio.core.store import ModelStore, load_model


def _trained_norm(bn: nn.BatchNorm2d, seed: int) -> nn.BatchNorm2d:
    """Give a norm statistics and an affine part that are far from the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=g))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 3 + 0.1)
        bn.weight.copy_(torch.randn(bn.num_features, generator=g))
        bn.bias.copy_(torch.randn(bn.num_features, generator=g))
    return bn


def _generator_like() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 2, 1, bias=False),
        _trained_norm(nn.BatchNorm2d(16), 1),
        nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 5, 2, 2, output_padding=1),  # with a bias of its own
        _trained_norm(nn.BatchNorm2d(8), 2),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=2),
        _trained_norm(nn.BatchNorm2d(8), 3),
        nn.Conv2d(8, 3, 3, padding=1),
        nn.Tanh(),
    ).eval()


def test_folding_gives_the_same_images_with_every_norm_gone():
    ref = _generator_like()
    folded = _generator_like()
    assert fold_batch_norms(folded) == 3
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 8, 4, 4)
    with torch.no_grad():
        assert torch.allclose(ref(x), folded(x), atol=1e-5)


def test_norms_that_are_not_frozen_affine_maps_are_left_alone():
    training = _generator_like().train()
    assert fold_batch_norms(training) == 0  # batch statistics: not an affine map
    no_stats = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False)).eval()
    assert fold_batch_norms(no_stats) == 0
    after_relu = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4)).eval()
    assert fold_batch_norms(after_relu) == 0
    grouped_transpose = nn.Sequential(nn.ConvTranspose2d(4, 4, 3, groups=2), nn.BatchNorm2d(4)).eval()
    assert fold_batch_norms(grouped_transpose) == 0


def test_the_render_copy_is_folded_and_the_reference_keeps_its_norms():
    net = _generator_like()
    fast = FastNet(net, "fp32", freeze=False)
    x = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        out = fast(x)
        assert torch.allclose(out, net(x), atol=1e-5)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 3  # training and saving see them
    assert fast._fast is not None and not any(isinstance(m, nn.BatchNorm2d) for m in fast._fast.modules())
    with torch.no_grad():  # a weight change of the reference (the style slider) reaches the folded copy
        net[1].bias.add_(1.0)
        assert torch.allclose(fast(x), net(x), atol=1e-5)


@pytest.mark.parametrize("name,attr", [("emoji-dcgan", "generator"), ("can-emoji-styles", "g")])
def test_bundled_generators_fold_every_norm_and_render_the_same(name, attr):
    store = ModelStore()
    if name not in store.entries:
        pytest.skip(f"bundled model {name} not present")
    net = getattr(load_model(store.entries[name].path, torch.device("cpu")), attr).eval()
    copy_ = copy.deepcopy(net)
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert norms >= 3 and fold_batch_norms(copy_) == norms  # the projection's norm too (its hook)
    z = torch.randn(4, net.fc[0].in_features if attr == "g" else net.config.latent_dim)
    with torch.no_grad():
        assert torch.allclose(net(z), copy_(z), atol=1e-4)
