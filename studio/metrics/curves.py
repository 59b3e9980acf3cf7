"""Loss curves drawn with PIL (no plotting library needed), from a card's training history.

The history format we read (documented in :mod:`studio.metrics`): ``card.extra["loss_history"]`` as
columns ``{"step": [...], "g": [...], "d": [...], "kid": [...]}``, or rows
``[{"step": 10, "losses": {"g": 1.2}, "metrics": {"kid": 0.03}}, ...]`` / ``[{"step": 10, "g": 1.2}, ...]``.
Other engineers' layouts found under ``extra["history"]`` / ``extra["run"]["history"]`` are tried too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

Series = dict[str, tuple[list[float], list[float]]]  # name -> (steps, values)


def _from_rows(rows: list) -> Series:
    out: Series = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            continue
        step = row.get("step", i)
        values: dict[str, Any] = {}
        for key in ("losses", "metrics"):
            if isinstance(row.get(key), Mapping):
                values.update(row[key])
        values.update({k: v for k, v in row.items() if k not in ("step", "losses", "metrics")})
        for name, v in values.items():
            if isinstance(v, (int, float)) and isinstance(step, (int, float)) and math.isfinite(float(v)):
                xs, ys = out.setdefault(str(name), ([], []))
                xs.append(float(step))
                ys.append(float(v))
    return out


def _from_columns(cols: Mapping[str, Any]) -> Series:
    steps = cols.get("step") or cols.get("steps")
    out: Series = {}
    for name, values in cols.items():
        if name in ("step", "steps") or not isinstance(values, list) or not values:
            continue
        if all(isinstance(v, (list, tuple)) and len(v) == 2 for v in values):  # [[step, value], ...]
            pairs = [(float(s), float(v)) for s, v in values if isinstance(v, (int, float))]
        elif all(isinstance(v, (int, float)) for v in values):
            xs = steps if isinstance(steps, list) and len(steps) == len(values) else list(range(len(values)))
            pairs = [(float(s), float(v)) for s, v in zip(xs, values)]
        else:
            continue
        pairs = [(s, v) for s, v in pairs if math.isfinite(v)]
        if pairs:
            out[str(name)] = ([p[0] for p in pairs], [p[1] for p in pairs])
    return out


def loss_history(extra: Mapping[str, Any] | None) -> Series:
    """Find and parse a training history in a card's ``extra`` (empty when there is none)."""
    extra = extra or {}
    candidates = [extra.get("loss_history"), extra.get("history")]
    run = extra.get("run")
    if isinstance(run, Mapping):
        candidates.append(run.get("history"))
    for c in candidates:
        if isinstance(c, list):
            series = _from_rows(c)
        elif isinstance(c, Mapping):
            series = _from_columns(c)
        else:
            continue
        series = {k: v for k, v in series.items() if len(v[0]) >= 2}
        if series:
            return series
    return {}


def draw_curves(series: Series, width: int = 360, height: int = 150, cols: int = 2) -> np.ndarray | None:
    """Small multiples: one panel per series with its own y-range (losses differ in scale)."""
    if not series:
        return None
    names = list(series)[:12]
    rows = math.ceil(len(names) / cols)
    img = Image.new("RGB", (cols * width, rows * height), "white")
    draw = ImageDraw.Draw(img)
    colours = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207)]
    for k, name in enumerate(names):
        xs, ys = series[name]
        ox, oy = (k % cols) * width, (k // cols) * height
        left, top, right, bottom = ox + 48, oy + 18, ox + width - 10, oy + height - 22
        draw.rectangle([left, top, right, bottom], outline=(180, 180, 180))
        lo, hi = min(ys), max(ys)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        x0, x1 = min(xs), max(xs)
        x1 = x1 if x1 > x0 else x0 + 1
        pts = [
            (left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - lo) / (hi - lo) * (bottom - top))
            for x, y in zip(xs, ys)
        ]
        draw.line(pts, fill=colours[k % len(colours)], width=2)
        draw.text((left, oy + 3), name, fill=(0, 0, 0))
        draw.text((ox + 2, top - 2), f"{hi:.3g}", fill=(90, 90, 90))
        draw.text((ox + 2, bottom - 10), f"{lo:.3g}", fill=(90, 90, 90))
        draw.text((left, bottom + 4), f"step {x0:.0f}", fill=(90, 90, 90))
        draw.text((right - 70, bottom + 4), f"{x1:.0f}", fill=(90, 90, 90))
    return np.asarray(img)
