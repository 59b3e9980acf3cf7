"""Bayesian CycleGAN's generator: a CycleGAN generator fed the image plus latent noise channels, and the
Monte-Carlo marginal translation the studio renders with."""

from __future__ import annotations

import torch
from torch import nn

from studio.models.cyclegan.networks import build_generator

from .config import BayesCycleGANConfig

INFER_SEED = 0  # inference and previews draw their latents from fixed seeds: the same input, the same output


def latent_noise(
    x: torch.Tensor, channels: int, generator: torch.Generator | None = None, seed: int | None = None
) -> torch.Tensor:
    """One latent sample for a batch: N(0, 1) noise of shape [1, channels, H, W] (shared by the batch,
    as in the authors' code), drawn on the CPU from ``generator`` or a fresh one seeded with ``seed``."""
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed or 0))
    z = torch.randn((1, channels, x.shape[-2], x.shape[-1]), generator=generator)
    return z.to(device=x.device, dtype=x.dtype)


class LatentGenerator(nn.Module):
    """``net`` takes [image, latent] channels. Called with a latent ``z`` it makes that one sample;
    called with the image alone it returns the marginal translation: the mean of ``samples`` outputs,
    each with its own latent drawn from a fixed seed — the Monte-Carlo average over the posterior the
    latent samples stand for."""

    def __init__(self, net: nn.Module, latent_channels: int = 1, samples: int = 3):
        super().__init__()
        self.net = net
        self.latent_channels = int(latent_channels)
        self.samples = int(samples)

    def sample(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The translation of ``x`` [N,3,H,W] for one latent ``z`` [1 or N, C, H, W]."""
        return self.net(torch.cat([x, z.expand(x.shape[0], -1, -1, -1)], 1))

    def marginal(self, x: torch.Tensor, samples: int | None = None, seed: int = INFER_SEED) -> torch.Tensor:
        k = self.samples if samples is None else int(samples)
        total = None
        for i in range(max(1, k)):
            y = self.sample(x, latent_noise(x, self.latent_channels, seed=seed + i))
            total = y if total is None else total + y
        assert total is not None
        return total / max(1, k)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        return self.marginal(x) if z is None else self.sample(x, z)


class PosteriorMean(nn.Module):
    """The marginal translation as one batched call: ``x`` [N,3,H,W] paired with each of the latents ``zs``
    [K,C,H,W], the K·N outputs averaged per image. The same numbers as :meth:`LatentGenerator.marginal`
    (which loops) from one network call, so the render path can run it as one bf16 frozen graph with the
    latents as an input. Shares ``net`` with its generator; not part of the saved state."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, zs: torch.Tensor) -> torch.Tensor:
        n, k = x.shape[0], zs.shape[0]
        images = x.unsqueeze(0).expand(k, -1, -1, -1, -1).reshape(k * n, *x.shape[1:])
        latents = zs.to(x.dtype).unsqueeze(1).expand(-1, n, -1, -1, -1).reshape(k * n, *zs.shape[1:])
        y = self.net(torch.cat([images, latents], 1))
        return y.reshape(k, n, *y.shape[1:]).mean(0)


def marginal_latents(x: torch.Tensor, channels: int, samples: int, seed: int = INFER_SEED) -> torch.Tensor:
    """The K fixed latents of :meth:`LatentGenerator.marginal`, stacked: [K, channels, H, W]."""
    return torch.cat([latent_noise(x, channels, seed=seed + i) for i in range(max(1, int(samples)))])


def build_latent_generator(cfg: BayesCycleGANConfig) -> LatentGenerator:
    net = build_generator(cfg, in_channels=3 + cfg.latent_channels)
    return LatentGenerator(net, cfg.latent_channels, cfg.infer_samples)
