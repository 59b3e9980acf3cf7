"""The one loader for every image that comes from a user.

Handles EXIF orientation, every PIL mode (P, LA, CMYK, I;16, I, F, RGBA, 1, ...) to 8-bit RGB with
alpha composited over a background, a pixel-count guard against decompression bombs, and turns every
failure (not an image, truncated, unsupported) into an :class:`ImageLoadError` naming the file.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError
from .safeio import open_regular, regular_file

DEFAULT_MAX_PIXELS = 100_000_000  # ~10k x 10k; larger is refused before decoding (or scaled down on request)
# Past Pillow's own hard guard (2 x Image.MAX_IMAGE_PIXELS, ~179 MP) a file is refused even scaled down:
# such sizes are a decompression bomb or a scan no screen needs, and decoding it would take gigabytes.
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}


def _to_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = (0.0, 65535.0) if mode.startswith("I;16") or (mode == "I" and arr.max() > 255) else (0.0, 255.0)
        if mode == "F":
            lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
            hi = hi if hi > lo else lo + 1.0
        arr = np.clip((arr - lo) / (hi - lo) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, background + (255,))
        return Image.alpha_composite(base, rgba).convert("RGB")
    if mode == "CMYK":
        return img.convert("RGB")
    if mode != "RGB":
        return img.convert("RGB")
    return img


class ImageTooLarge(ImageLoadError):
    """An image over ``max_pixels`` that can still be opened scaled down (``load_image(..., scale_down=True)``)."""

    def __init__(self, path: str | Path, size: tuple[int, int], max_pixels: int):
        self.size, self.max_pixels = size, max_pixels
        w, h = size
        super().__init__(
            path,
            f"the image is {w}×{h} = {w * h / 1e6:.0f} megapixels, over the {max_pixels / 1e6:.0f} MP opened "
            f"as is; it can be opened scaled down to {scaled_size(size, max_pixels)[0]}×"
            f"{scaled_size(size, max_pixels)[1]}",
        )


def scale_down_limit() -> int:
    """The largest image (in pixels) that is opened at all, scaled down: Pillow's hard guard."""
    limit = Image.MAX_IMAGE_PIXELS
    return 2 * int(limit) if limit else 4 * DEFAULT_MAX_PIXELS


def scaled_size(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """``size`` shrunk (aspect kept) to at most ``max_pixels`` pixels."""
    w, h = size
    if w * h <= max_pixels:
        return w, h
    f = (max_pixels / (w * h)) ** 0.5
    return max(1, int(w * f)), max(1, int(h * f))


def load_image(
    path: str | Path,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    background: tuple[int, int, int] = (255, 255, 255),
    scale_down: bool = False,
) -> Image.Image:
    """Open a user image safely and return it as an 8-bit RGB PIL image.

    An image over ``max_pixels`` raises :class:`ImageTooLarge`, or with ``scale_down`` is decoded at a
    reduced size (JPEG draft mode where it can) and shrunk to fit ``max_pixels``. Sizes past
    :func:`scale_down_limit` are refused either way."""
    path = Path(path)
    if not os.path.lexists(path):
        raise ImageLoadError(path, "file not found")
    if path.is_dir():
        raise ImageLoadError(path, "this is a folder, not an image")
    if regular_file(path, ImageLoadError, "image").st_size == 0:  # a FIFO or a device is refused, unopened
        raise ImageLoadError(path, "the file is empty")
    try:
        with warnings.catch_warnings(), open_regular(path, ImageLoadError, "image") as fh:
            # our own pixel limit below decides; Pillow's warning band (89-179 MP) is not an error here,
            # its hard guard (DecompressionBombError) still is
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fh) as img:
                w, h = img.size
                if w < 1 or h < 1:
                    raise ImageLoadError(path, "the image has no pixels")
                target = (w, h)
                if w * h > max_pixels:
                    if not scale_down:
                        raise ImageTooLarge(path, (w, h), max_pixels)
                    target = scaled_size((w, h), max_pixels)
                    img.draft("RGB", target)  # JPEG decodes at 1/2, 1/4 or 1/8 directly; other formats: no-op
                img.seek(0)  # first frame of animations
                prev = ImageFile.LOAD_TRUNCATED_IMAGES
                ImageFile.LOAD_TRUNCATED_IMAGES = False
                try:
                    img.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = prev
                upright = ImageOps.exif_transpose(img) or img
                rgb = _to_rgb(upright, background)
                if rgb.width * rgb.height > max_pixels:
                    rgb = rgb.resize(scaled_size(rgb.size, max_pixels), Image.Resampling.LANCZOS, reducing_gap=3.0)
                return rgb.copy()
    except ImageLoadError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageLoadError(path, "not an image file (or a format Pillow cannot read)") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(
            path,
            f"the image is larger than {scale_down_limit() / 1e6:.0f} megapixels, too large to open even scaled "
            "down (or a decompression bomb): shrink it in an image editor first",
        ) from exc
    except OSError as exc:
        msg = str(exc)
        if "truncated" in msg.lower() or "broken" in msg.lower():
            raise ImageLoadError(path, "the image file is truncated or damaged") from exc
        raise ImageLoadError(path, f"could not read the image ({msg})") from exc
    except (ValueError, SyntaxError) as exc:  # PIL raises these for some malformed headers
        raise ImageLoadError(path, f"the image file is damaged ({exc})") from exc


def fit_square(img: Image.Image, size: int, mode: str = "crop") -> Image.Image:
    """Resize to size×size: ``crop`` takes the centre square, ``pad`` letterboxes on white."""
    if mode == "pad":
        return ImageOps.pad(img, (size, size), Image.Resampling.LANCZOS, color=(255, 255, 255))
    return ImageOps.fit(img, (size, size), Image.Resampling.LANCZOS)


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> [3,H,W] float in [0,1]."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def list_images(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Image files in a folder (sorted, hidden files skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageLoadError(folder, "not a folder")
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
