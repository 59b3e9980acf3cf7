"""Gram matrices and the three image losses style fine-tuning and style transfer share.

Conventions (so weights mean the same thing everywhere and tests can check hand-computed values):

* ``gram_matrix(F)`` for features [N, C, H, W] is ``F F^T / (C*H*W)`` per image — the mean of channel
  products, independent of image size, so a painting and a generated image of different sizes compare.
* ``style_distance(G, A)`` is ``||G - A||^2 / ||A||^2`` (summed over the C×C entries, averaged over the
  batch): *relative* Gram error. Raw Gram distances of VGG layers differ by orders of magnitude (conv4_1
  is ~99 % of a plain five-layer sum), so each layer is normalised by its target's energy and the
  per-layer weights then really are the layers' shares.
* ``content_distance(F, P)`` is ``||F - P||^2 / ||P||^2`` per image, averaged: relative feature error.
* ``total_variation(x)`` is the mean squared difference of horizontally and vertically neighbouring
  pixels (summed over both directions), for images in any range.
"""

from __future__ import annotations

import torch

_EPS = 1e-8


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, C] Gram matrices normalised by C*H*W (computed in float32)."""
    if features.dim() != 4:
        raise ValueError(f"gram_matrix expects [N, C, H, W] features, got shape {tuple(features.shape)}")
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / float(c * h * w)


def style_distance(gram: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative Gram error ||G - A||^2 / ||A||^2, averaged over the batch. ``target`` is [C,C] or [N,C,C]."""
    if target.dim() == 2:
        target = target.unsqueeze(0)
    diff = (gram - target).pow(2).sum(dim=(1, 2))
    energy = target.pow(2).sum(dim=(1, 2)).clamp_min(_EPS)
    return (diff / energy).mean()


def content_distance(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative feature error ||F - P||^2 / ||P||^2 per image, averaged over the batch."""
    n = features.shape[0]
    f = features.float().reshape(n, -1)
    p = target.float().reshape(target.shape[0], -1)
    diff = (f - p).pow(2).sum(dim=1)
    energy = p.pow(2).sum(dim=1).clamp_min(_EPS)
    return (diff / energy).mean()


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared neighbour difference (x plus y) of [N, C, H, W] images; 0 for 1-px dimensions."""
    x = images.float()
    dx = (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean() if x.shape[-1] > 1 else x.new_zeros(())
    dy = (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() if x.shape[-2] > 1 else x.new_zeros(())
    return dx + dy
