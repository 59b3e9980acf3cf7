"""Applying a fully convolutional function to a picture of any size: padding to a multiple of the
network's stride, and overlapping tiles blended so there are no seams.

Used by the translators (``studio/models/translate``) and by Gatys stylisation of large photos
(``studio/stylize``), hence in the core."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .errors import StudioError


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad H and W up to a multiple (for down/up-sampling nets); returns the original size."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def _ramp(n: int, lo_edge: bool, hi_edge: bool, margin: int, overlap: int) -> torch.Tensor:
    """1-D blend weight of one tile: 0 in the ``margin`` next to an inner tile edge (those pixels saw
    the tile's zero padding), a linear ramp across the rest of the overlap, 1 in the middle."""
    w = torch.ones(n)
    ramp = max(1, overlap - 2 * margin)
    pos = torch.arange(n, dtype=torch.float32)
    if not lo_edge:
        w = torch.minimum(w, ((pos - margin + 1) / (ramp + 1)).clamp(0, 1))
    if not hi_edge:
        w = torch.minimum(w, ((n - 1 - pos - margin + 1) / (ramp + 1)).clamp(0, 1))
    return w


def _starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def tile_count(h: int, w: int, tile: int, overlap: int) -> int:
    """How many tiles :func:`tiled_apply` uses for an h×w picture."""
    if h <= tile and w <= tile:
        return 1
    step = tile - overlap
    return len(_starts(h, tile, step)) * len(_starts(w, tile, step))


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tile: int,
    overlap: int,
    margin: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Apply a fully convolutional ``fn`` to [1,C,H,W] ``x`` in overlapping tiles and blend them.

    Neighbouring tiles overlap by ``overlap`` px. Inside the overlap the first ``margin`` px next to a
    tile's inner edge get weight 0 and the rest ramps linearly, so when the network's receptive-field
    radius is at most ``margin`` the result equals the untiled output exactly; networks with global
    statistics (instance norm) differ only by the smooth blend instead of showing seams.
    """
    if tile <= 0:
        raise StudioError("the tile size must be positive")
    if overlap >= tile:
        raise StudioError(f"the tile overlap ({overlap}) must be smaller than the tile ({tile})")
    margin = overlap // 4 if margin is None else margin
    _, _, h, w = x.shape
    if h <= tile and w <= tile:
        if progress:
            progress(0, 1)
        y = fn(x)
        if progress:
            progress(1, 1)
        return y
    step = tile - overlap
    ys, xs = _starts(h, tile, step), _starts(w, tile, step)
    total = len(ys) * len(xs)
    out = None
    weight = torch.zeros(1, 1, h, w)
    done = 0
    if progress:
        progress(0, total)
    for y0 in ys:
        th = min(tile, h)
        wy = _ramp(th, y0 == 0, y0 + th >= h, margin, overlap)
        for x0 in xs:
            tw = min(tile, w)
            wx = _ramp(tw, x0 == 0, x0 + tw >= w, margin, overlap)
            piece = fn(x[:, :, y0 : y0 + th, x0 : x0 + tw]).float().cpu()
            if out is None:
                out = torch.zeros(1, piece.shape[1], h, w)
            wt = (wy[:, None] * wx[None, :])[None, None]
            out[:, :, y0 : y0 + th, x0 : x0 + tw] += piece * wt
            weight[:, :, y0 : y0 + th, x0 : x0 + tw] += wt
            done += 1
            if progress:
                progress(done, total)
    assert out is not None  # at least one tile
    return out / weight.clamp_min(1e-8)
