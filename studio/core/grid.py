"""Tile images into one grid image (the exported artefact artists share)."""

from __future__ import annotations

import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N,3,H,W] floats in [0,1] -> [N,H,W,3] uint8 (the only form the UI ever sees)."""
    if images.dim() == 3:
        images = images.unsqueeze(0)
    # One [N,H,W,3] float copy at most (none for channels_last input, the fast render path's), then
    # numpy's vectorised clip / scale / cast: 3x faster than clamp, scale, convert and permute as separate
    # torch allocations (bench/bench_render_latency.py)
    nhwc = images.detach().permute(0, 2, 3, 1).to(device="cpu", dtype=torch.float32).contiguous()
    scaled = np.clip(nhwc.numpy(), 0.0, 1.0)
    scaled *= 255.0
    scaled += 0.5
    return scaled.astype(np.uint8)


def tile(images: np.ndarray, rows: int, cols: int, pad: int = 2, background: int = 255) -> np.ndarray:
    """[N,H,W,3] uint8 -> one [rows*H + pad*(rows+1), ...] image; missing cells stay background."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError("tile() expects [N, H, W, 3] images")
    if rows < 1 or cols < 1:
        raise ValueError("a grid needs at least one row and one column")
    n, h, w, _ = images.shape
    out = np.full((rows * h + pad * (rows + 1), cols * w + pad * (cols + 1), 3), background, np.uint8)
    for i in range(min(n, rows * cols)):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y : y + h, x : x + w] = images[i]
    return out


def resize_cells(images: np.ndarray, size: int) -> np.ndarray:
    """Resize every cell to ``size`` px (nearest for upscaling keeps GAN pixels crisp)."""
    from PIL import Image

    if images.shape[1] == size and images.shape[2] == size:
        return images
    resample = Image.Resampling.NEAREST if size >= images.shape[1] else Image.Resampling.LANCZOS
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), resample)) for im in images])
