"""PNG export with the canvas state as JSON in a tEXt chunk, so a dropped PNG restores its state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from .atomic import atomic_path
from .errors import ImageLoadError

STATE_KEY = "gan-studio-state"


def save_png(
    path: str | Path, pixels: np.ndarray, state: dict[str, Any] | None = None, extra_text: dict[str, str] | None = None
) -> Path:
    """Write an HxWx3 uint8 image as PNG (atomically) with ``state`` as JSON metadata."""
    path = Path(path)
    info = PngImagePlugin.PngInfo()
    if state is not None:
        info.add_text(STATE_KEY, json.dumps(state, sort_keys=True))
    info.add_text("Software", "GAN Studio")
    for key, value in (extra_text or {}).items():
        info.add_text(key, value)
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(pixels)).save(tmp, format="PNG", pnginfo=info)
    return path


def read_state(path: str | Path) -> dict[str, Any]:
    """The state stored in an exported PNG; a clear error when the PNG has none."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            text = getattr(img, "text", {}) or {}
            raw = text.get(STATE_KEY)
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageLoadError(path, f"could not read the PNG ({exc})") from exc
    if raw is None:
        raise ImageLoadError(path, "this image holds no GAN Studio state (it was not exported by GAN Studio)")
    try:
        state = json.loads(raw)
    except ValueError as exc:
        raise ImageLoadError(path, "the GAN Studio state in this image is damaged") from exc
    if not isinstance(state, dict):
        raise ImageLoadError(path, "the GAN Studio state in this image is damaged")
    return state
