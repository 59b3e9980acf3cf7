"""U-GAT-IT's CAM attention map as a picture: where the generator looks when it translates an image.

The generator's CAM block weights its encoder features by the auxiliary classifier's weights; their
channel sum is a coarse heatmap (1/4 of the input size). This module turns it into an RGB image at the
input's size — a black → red → yellow → white ramp over a dimmed copy of the input — that any front end
can show as plain pixels (the Translate tool shows it beside the result). Qt-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

MAX_SIDE = 512  # the attention pass runs on the image scaled to fit this (it is coarse anyway)


def has_attention(model: Any) -> bool:
    """True for a translator that can show an attention map (U-GAT-IT and plugin models with ``attention``)."""
    return callable(getattr(model, "attention", None))


def heat_colours(values: np.ndarray) -> np.ndarray:
    """[H,W] values in [0,1] -> [H,W,3] uint8 on a black → red → yellow → white ramp (brighter = more attention)."""
    v = np.clip(values.astype(np.float32), 0.0, 1.0)[..., None]
    rgb = np.clip(v * 3.0 - np.array([0.0, 1.0, 2.0], dtype=np.float32), 0.0, 1.0)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def attention_map(
    model: Any, image: Image.Image, direction: str = "a2b", overlay: float = 0.3, max_side: int = MAX_SIDE
) -> np.ndarray:
    """[H,W,3] uint8: the model's attention for ``image`` (RGB, any size) translated in ``direction``.

    ``overlay`` is the share of the (greyed) input mixed in, so the map can be read against the picture;
    0 gives the bare map. Large images are scaled to fit ``max_side`` for the pass, and the map is scaled
    back to the image's own size.
    """
    if not has_attention(model):
        raise TypeError(f"{type(model).__name__} has no attention map")
    rgb = image.convert("RGB")
    small = rgb
    if max(rgb.size) > max_side:
        f = max_side / max(rgb.size)
        small = rgb.resize((max(4, round(rgb.width * f)), max(4, round(rgb.height * f))), Image.Resampling.BILINEAR)
    x = torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0).permute(2, 0, 1)
    grey = model.attention(x, direction)[0].numpy()  # [H,W] in [0,1] at the scaled size
    if small.size != rgb.size:
        grey_img = Image.fromarray(grey.astype(np.float32), mode="F")
        grey = np.asarray(grey_img.resize(rgb.size, Image.Resampling.BILINEAR))
    heat = heat_colours(grey).astype(np.float32)
    base = np.asarray(rgb.convert("L"), dtype=np.float32)[..., None]
    mixed = heat * (1.0 - overlay) + base * overlay
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
