"""The animation export as a job (one class for ``studio animate`` and File ▸ Export animation…).

Renders the frames of :func:`studio.core.animate.frame_states` in batches (Cancel is checked between
them; a cancelled export writes nothing), resizes them to ``size`` px, and writes the file with its
record (:func:`studio.core.animate.write_animation`). The result names the file and the frame count
read back from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .animate import (
    EASINGS,
    MAX_FRAMES,
    MAX_SIDE,
    animation_format,
    animation_record,
    frame_states,
    mp4_frame_count,
    write_animation,
)
from .errors import StudioError
from .jobs import Reporter


def check_animation_target(out: str | Path, overwrite: bool) -> Path:
    """The output path, or a clear error before any work (format, folder, an existing file)."""
    path = Path(out).expanduser()
    animation_format(path)
    if path.is_dir():
        raise StudioError(f"{path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise StudioError(f"{path} already exists; pass --overwrite to replace it")
    return path


def check_timing(frames: int, duration_s: float, easing: str, loop: int, size: int) -> None:
    if not 2 <= frames <= MAX_FRAMES:
        raise StudioError(f"an animation has 2 to {MAX_FRAMES} frames (got {frames})")
    if not 0.05 <= duration_s <= 600:
        raise StudioError(f"the duration must be from 0.05 to 600 seconds (got {duration_s:g})")
    if easing not in EASINGS:
        raise StudioError(f"unknown easing '{easing}' (known: {', '.join(EASINGS)})")
    if loop < 0:
        raise StudioError("loop is a play count ≥ 0 (0 = forever)")
    if not 0 <= size <= MAX_SIDE:
        raise StudioError(f"the frame size goes up to {MAX_SIDE} px (0 = the model's size)")


class AnimateJob:
    """Render an interpolation through ``keyframes`` and write it as GIF, APNG or MP4."""

    title = "Export animation"

    def __init__(
        self,
        model: Any,
        keyframes: Sequence[Mapping[str, Any]],
        out: str | Path,
        frames: int = 48,
        duration_s: float = 3.0,
        easing: str = "ease-in-out",
        loop: int = 0,
        bounce: bool = False,
        size: int = 0,
        overwrite: bool = False,
        source: str = "states",
        model_id: str | None = None,
    ) -> None:
        if len(keyframes) < 2:
            raise StudioError("an animation needs at least two states (keyframes)")
        check_timing(int(frames), float(duration_s), easing, int(loop), int(size))
        self.out = check_animation_target(out, overwrite)
        self.model, self.keyframes = model, [dict(k) for k in keyframes]
        self.frames, self.duration_s, self.easing = int(frames), float(duration_s), easing
        self.loop, self.bounce, self.size, self.source = int(loop), bool(bounce), int(size), source
        self.model_id = model_id or getattr(getattr(model, "card", None), "name", "")
        for k in self.keyframes:
            k["model"] = self.model_id

    def run(self, reporter: Reporter) -> dict[str, Any]:
        from PIL import Image

        states = frame_states(self.model, self.keyframes, self.frames, self.easing, self.bounce)
        side = self.size or int(self.model.image_size)
        pixels: list[np.ndarray] = []
        batch = 16
        for i in range(0, len(states), batch):
            with torch.no_grad():
                images = self.model.render(states[i : i + batch]).detach().float().cpu()
            for img in images:
                arr = (img.clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
                if arr.shape[0] != side:
                    arr = np.asarray(Image.fromarray(arr).resize((side, side), Image.Resampling.LANCZOS))
                pixels.append(arr)
            reporter.report(min(i + batch, len(states)), len(states), message="rendering frames", preview=pixels[-1])
        reporter.message(f"writing {self.out.name}…")
        record = animation_record(
            self.keyframes,
            self.frames,
            self.duration_s,
            self.easing,
            self.loop,
            self.bounce,
            model=self.model_id,
            source=self.source,
        )
        write_animation(self.out, pixels, self.duration_s, self.loop, record)
        return {"out": str(self.out), "frames": written_frames(self.out), "duration_s": self.duration_s}


def written_frames(path: str | Path) -> int:
    """The frame count of a written GIF / APNG / MP4 (read back from the file)."""
    if animation_format(path) == "MP4":
        return mp4_frame_count(path)
    from PIL import Image

    with Image.open(path) as img:
        return int(getattr(img, "n_frames", 1))
