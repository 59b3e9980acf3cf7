"""Trivial baselines a transfer must beat: the per-channel colour-statistics transfer.

Why here: the GADN and translator evaluations both compare a learned transfer with "match each image's
per-channel mean and spread to the target's", which moves palette and contrast but draws nothing. A
model that does no better than this has learned a colour filter."""

from __future__ import annotations

import torch


def channel_statistics(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over images of each image's per-channel mean and standard deviation; images [N,3,H,W] in [0, 1]."""
    images = images.float()
    return images.mean((0, 2, 3)), images.std((2, 3)).mean(0)


def colour_transfer(images: torch.Tensor, target_mean: torch.Tensor, target_std: torch.Tensor) -> torch.Tensor:
    """Per-channel mean/std matching (the trivial style-transfer baseline), images in [0, 1]."""
    mean = images.mean((2, 3), keepdim=True)
    std = images.std((2, 3), keepdim=True).clamp_min(1e-4)
    return ((images - mean) / std * target_std.view(1, 3, 1, 1) + target_mean.view(1, 3, 1, 1)).clamp(0, 1)
