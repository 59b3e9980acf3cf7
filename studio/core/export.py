"""Image export with the canvas state as metadata, so a dropped image restores its state.

The format follows the file's suffix: PNG (the state as JSON in a ``tEXt`` chunk), JPEG and WebP (the state
as JSON in the EXIF ImageDescription, prefixed ``gan-studio-state:``). Every write is atomic.

Commands that compute for a while before writing (generate, stylize, translate, transfer) check their
target first (:func:`check_image_target`: known suffix, not a folder, no silent overwrite) and write with
:func:`save_result`, which keeps the result in the user's ``recovered`` folder when the target cannot be
written (a read-only folder, a full disk) and says where.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from .argtypes import IMAGE_FORMATS
from .atomic import atomic_path
from .errors import ImageLoadError, StudioError
from .states import (  # written here, read there (EXIF: the ImageDescription)
    EXIF_DESCRIPTION,
    STATE_KEY,
    StateError,
    read_state_file,
)
from .states import EXIF_PREFIX as _EXIF_PREFIX

EXIF_SOFTWARE = 0x0131
_EXIF_LIMIT = 60_000  # a JPEG's EXIF segment holds at most 64 KB
JPEG_QUALITY = 95


class ResultRecovered(StudioError):
    """The result could not be written where asked; it was written to ``recovered`` instead."""

    def __init__(self, target: Path, recovered: Path, problem: str):
        self.target, self.recovered, self.problem = Path(target), Path(recovered), problem
        super().__init__(f"could not write {target} ({problem}); the result is kept in {recovered}")


def image_format(path: str | Path) -> str:
    """The Pillow format a path's suffix names; a StudioError for a suffix the studio does not write."""
    fmt = IMAGE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise StudioError(f"{Path(path).name}: the image format comes from the suffix; use .png, .jpg, .jpeg or .webp")
    return fmt


def check_image_target(
    path: str | Path, overwrite: bool, inputs: Iterable[str | Path] = (), flag: str = "--overwrite"
) -> Path:
    """The output path, or a one-line StudioError: unknown suffix, a folder, an input of the command, or an
    existing file without ``overwrite``. Call it before the long work."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise StudioError(f"{path} is a folder; give a file name (e.g. {path / 'out.png'})")
    image_format(path)
    if path.parent.exists() and not path.parent.is_dir():
        raise StudioError(f"{path}: {path.parent} is not a folder")
    if not overwrite:
        for given in inputs:
            if _same_file(path, Path(given)):
                raise StudioError(f"{path} is the input image; choose another output (or {flag} to replace it)")
        if path.exists() or path.is_symlink():
            raise StudioError(f"{path} already exists; pass {flag} to replace it (or choose another output)")
    return path


def free_path(path: str | Path) -> Path:
    """``path`` if nothing is there, else ``STEM-2.EXT``, ``STEM-3.EXT``… (the first free one)."""
    path = Path(path)
    candidate, i = path, 2
    while candidate.exists() or candidate.is_symlink():
        candidate, i = path.with_name(f"{path.stem}-{i}{path.suffix}"), i + 1
    return candidate


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _exif_with_state(state: dict[str, Any] | None) -> bytes:
    exif = Image.Exif()
    exif[EXIF_SOFTWARE] = "GAN Studio"
    if state is not None:
        text = _EXIF_PREFIX + json.dumps(state, sort_keys=True)  # ASCII: json escapes the rest
        if len(text) <= _EXIF_LIMIT:
            exif[EXIF_DESCRIPTION] = text
    return exif.tobytes()


def _write(
    path: Path, fmt: str, pixels: np.ndarray, state: dict[str, Any] | None, extra_text: dict[str, str] | None
) -> None:
    image = Image.fromarray(np.ascontiguousarray(pixels))
    with atomic_path(path) as tmp:
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            if state is not None:
                info.add_text(STATE_KEY, json.dumps(state, sort_keys=True))
            info.add_text("Software", "GAN Studio")
            for key, value in (extra_text or {}).items():
                info.add_text(key, value)
            image.save(tmp, format="PNG", pnginfo=info)
        else:
            image.save(tmp, format=fmt, quality=JPEG_QUALITY, exif=_exif_with_state(state))


def save_png(
    path: str | Path, pixels: np.ndarray, state: dict[str, Any] | None = None, extra_text: dict[str, str] | None = None
) -> Path:
    """Write an HxWx3 uint8 image as PNG (atomically) with ``state`` as JSON metadata, whatever the suffix."""
    path = Path(path)
    _write(path, "PNG", pixels, state, extra_text)
    return path


def save_image(
    path: str | Path, pixels: np.ndarray, state: dict[str, Any] | None = None, extra_text: dict[str, str] | None = None
) -> Path:
    """Write an HxWx3 uint8 image atomically in the format its suffix names (.png, .jpg/.jpeg, .webp), with
    ``state`` in its metadata (``extra_text`` only in PNG). An unknown suffix is a StudioError."""
    path = Path(path)
    _write(path, image_format(path), pixels, state, extra_text)
    return path


def recovered_dir() -> Path:
    """Where results that could not be written to their target are kept ($STUDIO_HOME/recovered)."""
    from .paths import studio_home

    return studio_home() / "recovered"


def save_result(
    path: str | Path, pixels: np.ndarray, state: dict[str, Any] | None = None, extra_text: dict[str, str] | None = None
) -> Path:
    """:func:`save_image`, but a result that took time is never lost: when ``path`` cannot be written (a
    read-only or missing folder, a full disk, a folder in the way, a format that cannot hold the image), it
    is written as PNG to the ``recovered`` folder and :class:`ResultRecovered` says where."""
    path = Path(path)
    try:
        return save_image(path, pixels, state, extra_text)
    except (OSError, ValueError, StudioError) as exc:
        problem = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    tried = []
    for folder in (recovered_dir(), Path(tempfile.gettempdir()) / "gan-studio-recovered"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            spare = free_path(folder / (path.stem + ".png"))
            save_png(spare, pixels, state, extra_text)
        except (OSError, ValueError) as exc:
            tried.append(f"{folder}: {getattr(exc, 'strerror', None) or exc}")
            continue
        raise ResultRecovered(path, spare, problem)
    raise StudioError(f"could not write {path} ({problem}), nor keep a copy ({'; '.join(tried)})")


def read_state(path: str | Path) -> dict[str, Any]:
    """The state stored in an exported image (PNG, JPEG, WebP); a clear :class:`ImageLoadError` when it
    has none or cannot be used. Read through the one door for states (:mod:`studio.core.states`: regular
    files only, size and depth limits, no decoding of a bomb, values checked)."""
    path = Path(path)
    try:
        return read_state_file(path)
    except StateError as exc:
        raise ImageLoadError(path, exc.problem) from exc
