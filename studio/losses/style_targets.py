"""Gram style targets of a painting seen at the scale of its strokes: random crops at native resolution.

Why: the old target shrank the whole painting until its shorter side equalled the generator's size
(e.g. a 600-px painting to 64 px, ~10×), which erases brush strokes and leaves mostly the palette. Here
the painting is kept at its native resolution and cut into random square crops whose side is ``scale``
× the generator's size in painting pixels — scale 1 means one painting pixel per generated pixel, 2 and 4
zoom out — each crop resized to the loss network's input size. The target of each layer is the mean Gram
matrix over all crops of a scale, then the mean over scales (each scale an equal share). Scale 0 stands
for the whole painting at the loss size (the old target), so a mix can keep the composition's colours.

A fresh crop per step would, for the squared Gram loss, only add noise: E_c||G − A_c||² = ||G − Ā||² +
const, so the mean over many crops gives the same expected gradient without the variance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from studio.core.errors import StudioError

from .gram import gram_matrix

MAX_NATIVE_SIDE = 2048  # larger paintings are shrunk to this first (memory and speed; strokes still visible)
WHOLE = 0.0  # the scale value that means "the whole painting"


def parse_scales(text: str | Sequence[Any]) -> tuple[float, ...]:
    """'1,2,4,whole' (or a sequence) -> (1.0, 2.0, 4.0, 0.0); 0 / 'whole' = the whole painting."""
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for p in parts:
        if isinstance(p, str) and p.lower() in ("whole", "all", "0"):
            out.append(WHOLE)
            continue
        try:
            value = float(p)
        except (TypeError, ValueError):
            raise StudioError(f"crop scale {p!r} is not a number or 'whole'") from None
        if not (value == WHOLE or 0.25 <= value <= 64):
            raise StudioError(f"crop scale {value:g} must be 0/'whole' or between 0.25 and 64")
        out.append(value)
    if not out:
        raise StudioError("give at least one crop scale (e.g. 1,2,4,whole)")
    return tuple(out)


def load_native(path: str | Path) -> torch.Tensor:
    """The painting as [1,3,H,W] in [0,1] at its own resolution (capped at :data:`MAX_NATIVE_SIDE`)."""
    from PIL import Image

    from studio.core.images import load_image, pil_to_tensor

    img = load_image(path)
    if max(img.size) > MAX_NATIVE_SIDE:
        img.thumbnail((MAX_NATIVE_SIDE, MAX_NATIVE_SIDE), Image.Resampling.LANCZOS)
    return pil_to_tensor(img).unsqueeze(0)


def crop_side(scale: float, gen_size: int, height: int, width: int) -> int:
    """Side in painting pixels of a crop at ``scale`` (clamped to the painting's shorter side)."""
    return max(1, min(height, width, round(scale * gen_size)))


def random_crops(
    painting: torch.Tensor, side: int, count: int, out_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    """``count`` random square crops of ``side`` px from [1,3,H,W], each resized to ``out_size``.

    Returns the crops [count,3,out,out] and their top-left corners (y, x); every crop lies inside."""
    import torch.nn.functional as F

    _, _, h, w = painting.shape
    side = min(side, h, w)
    ys = torch.randint(0, h - side + 1, (count,), generator=generator).tolist()
    xs = torch.randint(0, w - side + 1, (count,), generator=generator).tolist()
    crops = torch.cat([painting[:, :, y : y + side, x : x + side] for y, x in zip(ys, xs)])
    if side != out_size:
        crops = F.interpolate(
            crops, size=(out_size, out_size), mode="bilinear", align_corners=False, antialias=side > out_size
        )
    return crops, list(zip(ys, xs))


def whole_image(painting: torch.Tensor, out_size: int) -> torch.Tensor:
    """The whole painting with its shorter side resized to ``out_size`` (aspect kept)."""
    from .perceptual import resize_for_loss

    return resize_for_loss(painting, out_size)


@torch.no_grad()
def _mean_gram(network: Any, images: torch.Tensor, layers: Sequence[str], chunk: int) -> dict[str, torch.Tensor]:
    sums: dict[str, torch.Tensor] = {}
    for i in range(0, images.shape[0], chunk):
        feats = network(images[i : i + chunk], layers)
        for name in layers:
            g = gram_matrix(feats[name]).sum(0)
            sums[name] = g if name not in sums else sums[name] + g
    return {k: v / images.shape[0] for k, v in sums.items()}


@torch.no_grad()
def multiscale_targets(
    network: Any,
    painting: torch.Tensor,
    layers: Sequence[str],
    gen_size: int,
    loss_size: int,
    scales: Sequence[float],
    crops: int,
    seed: int = 0,
    chunk: int = 16,
) -> dict[str, torch.Tensor]:
    """Per-layer Gram targets [C,C]: the mean over ``scales`` of the mean Gram of ``crops`` random crops.

    ``painting`` is native-resolution [1,3,H,W] in [0,1] on the network's device; ``gen_size`` defines the
    scale (crop side = scale × gen_size painting pixels); crops are resized to ``loss_size``."""
    if crops < 1:
        raise StudioError("the multi-scale style target needs at least one crop per scale")
    rng = torch.Generator().manual_seed(int(seed))
    _, _, h, w = painting.shape
    per_scale = []
    for scale in scales:
        if scale == WHOLE:
            images = whole_image(painting, loss_size)
        else:
            images, _ = random_crops(painting, crop_side(scale, gen_size, h, w), crops, loss_size, rng)
        per_scale.append(_mean_gram(network, images, layers, chunk))
    return {name: torch.stack([g[name] for g in per_scale]).mean(0) for name in layers}
