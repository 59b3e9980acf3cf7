"""How a finished job's outputs are shown: an image as an image (the panel's thumbnail), numbers as
numbers (nested scores flattened, rounded), never a repr of an array (issue 17 items 1 and 8).

Outputs are whatever a job returned (``studio.core.jobs``): paths, counts, losses, score dicts, and
for the tool jobs an image array. The job panel's one text line is :func:`outputs_line`; its
thumbnail comes from :func:`result_pixels` (an image array, or the image file a job wrote).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_KEYS = ("image", "preview", "output", "png", "path", "out")
THUMB_FILE_LIMIT = 64 * 1024 * 1024  # an output file larger than this is not opened for a thumbnail


def _is_image_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 3 and value.shape[2] == 3


def result_pixels(outputs: Mapping[str, Any]) -> np.ndarray | None:
    """The picture a job produced, as HxWx3 uint8: an image array among its outputs, else the first
    image file it names (read through the safe loader). None when there is none."""
    for value in outputs.values():
        if _is_image_array(value):
            return np.ascontiguousarray(value)
    from studio.core.errors import StudioError
    from studio.core.images import IMAGE_SUFFIXES, load_image

    keys = sorted(outputs, key=lambda k: (k not in IMAGE_KEYS, k))
    for key in keys:
        value = outputs[key]
        if not isinstance(value, str) or Path(value).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        path = Path(value)
        try:
            if not path.is_file() or path.stat().st_size > THUMB_FILE_LIMIT:
                continue
            img = load_image(path)
        except (StudioError, OSError):
            continue
        img.thumbnail((256, 256))
        return np.asarray(img, np.uint8)
    return None


def _numbers(prefix: str, value: Any, depth: int = 0) -> Iterator[tuple[str, float | int]]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, value
    elif isinstance(value, Mapping) and depth < 2:
        for k, v in value.items():
            yield from _numbers(f"{prefix}.{k}" if prefix else str(k), v, depth + 1)


def number_text(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def outputs_line(outputs: Mapping[str, Any], limit: int = 160) -> str:
    """The short outputs as one line: paths and words as they are, numbers rounded (nested score dicts
    flattened: ``scores.fid: 12.3``), images and arrays left out (the thumbnail shows the image)."""
    parts = []
    for key, value in outputs.items():
        if key == "traceback":
            continue
        if isinstance(value, str):
            text = f"{key}: {value}"
        elif isinstance(value, (int, float, Mapping)) and not isinstance(value, bool):
            items = list(_numbers(key, value))
            if not items:
                continue
            text = ", ".join(f"{k}: {number_text(v)}" for k, v in items[:6])
        else:
            continue
        parts.append(text if len(text) <= 80 else text[:77] + "…")
    line = ", ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"
