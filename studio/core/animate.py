"""Animations: interpolate between canvas states and write them as GIF, APNG or MP4 (Qt-free, a job).

An animation is a path through *keyframes* (two or more states: two states, history states, grid
cells, or one state moved along a direction, :func:`direction_keyframes`). Frame ``i`` of ``frames`` sits
at an eased position on that path (:data:`EASINGS`, per segment, so motion slows at each keyframe with
the ease-in/out curves); ``bounce`` goes there and back for a seamless loop. Between two keyframes
that differ only in slider values (directions, truncation, scalars) the sliders are interpolated, so
every frame is an ordinary state; otherwise the codes are mixed on their norm shell
(:func:`studio.core.breed.crossbreed`, a slerp up to parametrisation) and labels follow the weights.

Every file carries the states it was made from, as the JSON of :func:`animation_record` under the key
``gan-studio-animation``: a PNG ``tEXt`` chunk in an APNG (plus the first keyframe under the usual
``gan-studio-state`` key, so dropping the APNG on the window restores it), the comment extension of a
GIF, and the ``comment`` metadata tag of an MP4. :func:`read_animation_record` reads any of the three.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileProblem, StudioError
from .family import normalise_state

RECORD_KEY = "gan-studio-animation"


class AnimationError(FileProblem):
    """An animation file that cannot be read back (or carries no states)."""


SUFFIXES = (".gif", ".png", ".apng", ".mp4")
MAX_FRAMES = 2000
MAX_SIDE = 1024


def _linear(t: float) -> float:
    return t


def _ease_in(t: float) -> float:
    return t * t * t


def _ease_out(t: float) -> float:
    return 1.0 - (1.0 - t) ** 3


def _ease_in_out(t: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * t)


EASINGS: dict[str, Callable[[float], float]] = {
    "linear": _linear,
    "ease-in": _ease_in,
    "ease-out": _ease_out,
    "ease-in-out": _ease_in_out,
}


def animation_format(path: str | Path) -> str:
    """'GIF', 'APNG' or 'MP4' from the suffix (.png is an APNG); a StudioError for anything else."""
    suffix = Path(path).suffix.lower()
    kinds = {".gif": "GIF", ".png": "APNG", ".apng": "APNG", ".mp4": "MP4"}
    if suffix not in kinds:
        raise StudioError(f"{Path(path).name}: an animation must end in .gif, .png / .apng or .mp4")
    return kinds[suffix]


# ------------------------------------------------------------------------------------------ the path
def positions(frames: int, keyframes: int, easing: str = "ease-in-out", bounce: bool = False) -> list[float]:
    """Where each frame sits on the path, in keyframe units (0 = the first keyframe, K-1 = the last)."""
    if easing not in EASINGS:
        raise StudioError(f"unknown easing '{easing}' (known: {', '.join(EASINGS)})")
    if frames < 2 or keyframes < 2:
        raise StudioError("an animation needs at least 2 frames and 2 keyframes")
    ease = EASINGS[easing]
    span = keyframes - 1
    out = []
    for i in range(frames):
        u = (2.0 * i / frames) if bounce else (i / (frames - 1))  # bounce: a cycle without a repeated end
        u = 2.0 - u if u > 1.0 else u
        x = u * span
        seg = min(int(x), span - 1)
        out.append(seg + ease(x - seg))
    return out


def _slider_only(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = ("seed", "z_edits", "labels", "content", "variation", "model")
    return all(a.get(k) == b.get(k) for k in keys)


def tween(model: Any, a: Mapping[str, Any], b: Mapping[str, Any], t: float) -> dict[str, Any]:
    """The state at ``t`` in [0, 1] between states ``a`` and ``b`` of ``model`` (see the module docstring)."""
    sa, sb = normalise_state(a), normalise_state(b)
    if t <= 0.0:
        return sa
    if t >= 1.0:
        return sb
    if _slider_only(sa, sb):
        out = copy.deepcopy(sa)
        for key in ("directions", "scalars"):
            names = set(sa[key]) | set(sb[key])
            out[key] = {
                k: (1 - t) * float(sa[key].get(k, 0.0)) + t * float(sb[key].get(k, 0.0))
                for k in sorted(names)
                if isinstance(sa[key].get(k, 0.0), (int, float)) and isinstance(sb[key].get(k, 0.0), (int, float))
            }
        out["truncation"] = (1 - t) * float(sa["truncation"]) + t * float(sb["truncation"])
        return out
    from .breed import can_breed, crossbreed

    if not can_breed(model):  # no code to mix: cut at the midpoint
        return sa if t < 0.5 else sb
    child = crossbreed(model, [sa, sb], [1.0 - t, t])
    child.pop("parents", None)
    return child


def frame_states(
    model: Any, keyframes: Sequence[Mapping[str, Any]], frames: int, easing: str = "ease-in-out", bounce: bool = False
) -> list[dict[str, Any]]:
    """The state of every frame."""
    keys = [normalise_state(k) for k in keyframes]
    out = []
    for p in positions(frames, len(keys), easing, bounce):
        seg = min(int(p), len(keys) - 2)
        out.append(tween(model, keys[seg], keys[seg + 1], p - seg))
    return out


def direction_keyframes(state: Mapping[str, Any], direction: str, amount: float = 2.0) -> list[dict[str, Any]]:
    """Two keyframes: ``state`` moved −amount and +amount (in standard deviations) along ``direction``
    from where its slider stands."""
    s = normalise_state(state)
    here = float(s["directions"].get(direction, 0.0))
    out = []
    for sign in (-1.0, 1.0):
        k = copy.deepcopy(s)
        k["directions"][direction] = round(here + sign * float(amount), 6)
        out.append(k)
    return out


def animation_record(
    keyframes: Sequence[Mapping[str, Any]],
    frames: int,
    duration_s: float,
    easing: str,
    loop: int,
    bounce: bool,
    **extra,
) -> dict[str, Any]:
    """What an exported animation carries: its keyframe states and timing."""
    return {
        "version": 1,
        "keyframes": [normalise_state(k) for k in keyframes],
        "frames": int(frames),
        "duration_s": float(duration_s),
        "easing": easing,
        "loop": int(loop),
        "bounce": bool(bounce),
        **extra,
    }


# ------------------------------------------------------------------------------------------ writing
def write_animation(
    path: str | Path, pixels: Sequence[np.ndarray], duration_s: float, loop: int, record: Mapping[str, Any]
) -> Path:
    """Write HxWx3 uint8 frames atomically as the format the suffix names, with ``record`` inside.

    ``loop``: how many times it plays, 0 = forever (GIF, APNG; an MP4 has no loop count: players decide)."""
    from .atomic import atomic_path

    path = Path(path)
    kind = animation_format(path)
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    ms = 1000.0 * float(duration_s) / len(pixels)
    with atomic_path(path) as tmp:
        if kind == "MP4":
            _write_mp4(tmp, pixels, len(pixels) / float(duration_s), text)
        else:
            from PIL import Image, PngImagePlugin

            images = [Image.fromarray(np.ascontiguousarray(p)) for p in pixels]
            options: dict[str, Any] = {"save_all": True, "append_images": images[1:], "duration": ms}
            if kind == "GIF":
                if loop != 1:
                    options["loop"] = 0 if loop == 0 else loop - 1  # the Netscape count repeats after the 1st play
                images[0].save(tmp, format="GIF", comment=text.encode("utf-8"), optimize=False, **options)
            else:
                info = PngImagePlugin.PngInfo()
                info.add_itxt(RECORD_KEY, text)
                first = record.get("keyframes") or [None]
                if first[0] is not None:
                    info.add_text("gan-studio-state", json.dumps(first[0], sort_keys=True))
                info.add_text("Software", "GAN Studio")
                images[0].save(tmp, format="PNG", pnginfo=info, loop=int(loop), default_image=False, **options)
    return path


def _ffmpeg() -> Any:
    """imageio-ffmpeg (its wheel ships an ffmpeg binary: nothing is downloaded)."""
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]
    except ImportError:
        raise StudioError("MP4 export needs the 'imageio-ffmpeg' package (pip install imageio-ffmpeg)") from None
    return imageio_ffmpeg


def _write_mp4(path: Path, pixels: Sequence[np.ndarray], fps: float, text: str) -> None:
    imageio_ffmpeg = _ffmpeg()
    h, w = pixels[0].shape[:2]
    if w % 2 or h % 2:  # H.264 in yuv420p needs even sides
        pixels = [np.pad(p, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") for p in pixels]
        h, w = h + h % 2, w + w % 2
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        codec="libx264",
        quality=8,
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        output_params=["-f", "mp4", "-metadata", f"comment={text}"],
    )
    writer.send(None)
    for p in pixels:
        writer.send(np.ascontiguousarray(p))
    writer.close()


# ------------------------------------------------------------------------------------------ reading
def read_animation_record(path: str | Path) -> dict[str, Any]:
    """The record an exported animation carries (a StudioError naming the file if it has none)."""
    from .safeio import MAX_STATE_BYTES, parse_json, regular_file

    path = Path(path)
    kind = animation_format(path)
    regular_file(path, AnimationError, "animation")
    if kind == "MP4":
        raw = _mp4_comment(path)
    else:
        from PIL import Image

        with Image.open(path) as img:
            value = img.info.get("comment") if kind == "GIF" else img.info.get(RECORD_KEY)
        raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    if not raw:
        raise AnimationError(path, "this animation carries no GAN Studio states")
    if len(raw) > MAX_STATE_BYTES:
        raise AnimationError(path, "the animation's record is too large")
    data = parse_json(raw, path, AnimationError, "animation record", 40, allow_nan=False)
    if not isinstance(data, dict) or not isinstance(data.get("keyframes"), list):
        raise AnimationError(path, "the animation's record holds no keyframes")
    return data


def mp4_frame_count(path: str | Path) -> int:
    """How many frames an MP4 holds (decoded with the ffmpeg that imageio-ffmpeg ships)."""
    reader = _ffmpeg().read_frames(str(path))
    next(reader)  # the meta data
    return sum(1 for _ in reader)


def _mp4_comment(path: Path) -> str:
    import subprocess

    exe = _ffmpeg().get_ffmpeg_exe()
    run = subprocess.run(
        [exe, "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"], capture_output=True, timeout=60, check=False
    )
    text = run.stdout.decode("utf-8", "replace")
    lines, current = [], ""
    for line in text.splitlines():  # ffmetadata: '=', ';', '#', '\' and newlines are escaped by '\'
        current += line
        if current.endswith("\\") and not current.endswith("\\\\"):
            current = current[:-1] + "\n"
            continue
        lines.append(current)
        current = ""
    for line in lines:
        if line.startswith("comment="):
            value, out, i = line[len("comment=") :], [], 0
            while i < len(value):
                if value[i] == "\\" and i + 1 < len(value):
                    i += 1
                out.append(value[i])
                i += 1
            return "".join(out)
    return ""
