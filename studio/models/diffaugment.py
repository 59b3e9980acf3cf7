"""Differentiable augmentation for the discriminator's inputs (Zhao et al. 2020, "DiffAugment").

Why: on a small training set (a few hundred images, e.g. one emoji category) D memorises the real
images within a few hundred steps, its loss goes to ~0 and the generator collapses to one output. Showing
D randomly shifted, recoloured and cut-out versions of *both* real and generated images stops the
memorising without changing what G learns to draw (the augmentations are differentiable, and G's
images are augmented the same way, so G is never asked to draw augmented images).

Each transform draws its randomness per image from ``generator`` (CPU), so runs repeat exactly. Used by
the CSGAN, CAN and translator (CycleGAN, Bayesian CycleGAN, U-GAT-IT) trainers (``--augment``). Translation
and cutout fill with zeros: grey for images in [-1, 1], black for images in [0, 1]; real and generated
images get the same treatment either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from studio.core.errors import StudioError

POLICIES = ("color", "translation", "cutout")


def _rand(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=generator).to(device)


def colour(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness (±0.5), saturation (×0–2) and contrast (×0.5–1.5) per image; x in [-1, 1]."""
    n = x.shape[0]
    x = x + (_rand(n, generator, x.device) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, generator, x.device) * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand(n, generator, x.device) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with zeros (grey in [-1, 1])."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n,), generator=generator).tolist()
    dx = torch.randint(-sw, sw + 1, (n,), generator=generator).tolist()
    padded = F.pad(x, [sw, sw, sh, sh])
    return torch.stack([padded[i, :, sh - dy[i] : sh - dy[i] + h, sw - dx[i] : sw - dx[i] + w] for i in range(n)])


def cutout(x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.5) -> torch.Tensor:
    """Zero one random square of ``ratio`` × the image size in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + 1 - ch % 2, (n,), generator=generator)
    cx = torch.randint(0, w + 1 - cw % 2, (n,), generator=generator)
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    y0, x0 = (cy - ch // 2).view(n, 1, 1), (cx - cw // 2).view(n, 1, 1)
    inside = (ys >= y0) & (ys < y0 + ch) & (xs >= x0) & (xs < x0 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype).to(x.device)


_TRANSFORMS = {"color": colour, "translation": translation, "cutout": cutout}


class AugmentPolicyError(StudioError, ValueError):
    """A bad ``--augment`` policy: a user-facing StudioError, and a ValueError for plain callers."""


def parse_policy(policy: str) -> tuple[str, ...]:
    """'color,translation,cutout' -> a validated tuple ('' or 'none' -> no augmentation)."""
    names = tuple(p.strip() for p in (policy or "").split(",") if p.strip() and p.strip() != "none")
    bad = [p for p in names if p not in _TRANSFORMS]
    if bad:
        raise AugmentPolicyError(f"unknown augmentation {bad} (use a comma list of {', '.join(POLICIES)}, or none)")
    return names


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    for name in policy:
        x = _TRANSFORMS[name](x, generator)
    return x
