"""argparse ``type=`` validators: a bad value is a one-line ``error:`` before any work starts.

Every function takes the text of one argument and returns the parsed value, or raises
``argparse.ArgumentTypeError`` with a sentence that says what is allowed and what was given (argparse
prefixes it with the option's name). The job dialog of the window calls the same functions on what the
user typed, so the CLI and the window refuse the same values.

Qt-free and in ``studio.core`` so the families' ``add_job_arguments`` (in ``studio.models``) and the
Trainer's shared flags (``studio.train``) use them too.
"""

from __future__ import annotations

import math
from argparse import ArgumentTypeError
from collections.abc import Callable
from pathlib import Path

# One cell of a grid (generate, transfer): a 4096 px cell is 48 MiB as 8-bit RGB.
MAX_CELL = 4096
# The whole picture a command assembles in memory before writing it (8-bit RGB bytes).
MAX_IMAGE_BYTES = 1 << 30
# Seeds of one grid.
MAX_SEEDS = 4096
MAX_SEED = 2**31 - 1  # the window's seed control goes this far

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover (the loop always returns)


def image_bytes(width: int, height: int, count: int = 1) -> int:
    """Memory of ``count`` 8-bit RGB images of width × height."""
    return int(width) * int(height) * 3 * int(count)


def _int(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise ArgumentTypeError(f"must be a whole number (got {text!r})") from None


def _float(text: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ArgumentTypeError(f"must be a number (got {text!r})") from None
    if not math.isfinite(value):
        raise ArgumentTypeError(f"must be a finite number (got {text!r})")
    return value


def int_range(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """A whole number in [lo, hi] (either end open when None)."""

    def parse(text: str) -> int:
        value = _int(text)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            if hi is None:
                raise ArgumentTypeError(f"must be a whole number ≥ {lo} (got {text!r})")
            if lo is None:
                raise ArgumentTypeError(f"must be a whole number ≤ {hi} (got {text!r})")
            raise ArgumentTypeError(f"must be a whole number from {lo} to {hi} (got {text!r})")
        return value

    parse.__name__ = "int_range"
    return parse


def float_range(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False
) -> Callable[[str], float]:
    """A finite number in [lo, hi]; ``lo_open`` / ``hi_open`` exclude that end."""

    def parse(text: str) -> float:
        value = _float(text)
        low_bad = lo is not None and (value <= lo if lo_open else value < lo)
        high_bad = hi is not None and (value >= hi if hi_open else value > hi)
        if low_bad or high_bad:
            parts = []
            if lo is not None:
                parts.append(f"{'>' if lo_open else '≥'} {lo:g}")
            if hi is not None:
                parts.append(f"{'<' if hi_open else '≤'} {hi:g}")
            raise ArgumentTypeError(f"must be a number {' and '.join(parts)} (got {text!r})")
        return value

    parse.__name__ = "float_range"
    return parse


positive_int = int_range(1)
nonneg_int = int_range(0)
finite_float = float_range()
positive_float = float_range(0.0, lo_open=True)
nonneg_float = float_range(0.0)
prob = float_range(0.0, 1.0)
seed = int_range(0, MAX_SEED)


def seeds(text: str) -> list[int]:
    """'0-15' -> 0..15; '1,5,9' -> [1, 5, 9]; '3-1' -> [3, 2, 1]; at most MAX_SEEDS seeds, each 0..MAX_SEED."""
    out: list[int] = []
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise ArgumentTypeError(f"selects no seeds (got {text!r}); give e.g. 0-15 or 1,5,9")
    for part in parts:
        if not part:
            continue
        a, sep, b = part.partition("-")
        try:
            lo = int(a)
            hi = int(b) if sep else lo
        except ValueError:
            raise ArgumentTypeError(
                f"must be seeds like 0-15 or 1,5,9 (whole numbers from 0 to {MAX_SEED}; got {text!r})"
            ) from None
        if not (0 <= lo <= MAX_SEED and 0 <= hi <= MAX_SEED):
            raise ArgumentTypeError(f"seeds go from 0 to {MAX_SEED} (got {part!r})")
        if abs(hi - lo) + 1 + len(out) > MAX_SEEDS:
            raise ArgumentTypeError(f"selects more than {MAX_SEEDS} seeds (got {text!r})")
        out.extend(range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1))
    return out


def name_value(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value), both non-empty."""
    name, sep, value = str(text).partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise ArgumentTypeError(f"must be NAME=VALUE (got {text!r})")
    return name, value


def name_number(text: str) -> tuple[str, float]:
    """``NAME=NUMBER`` -> (name, finite float)."""
    name, value = name_value(text)
    try:
        return name, _float(value)
    except ArgumentTypeError:
        raise ArgumentTypeError(f"must be NAME=NUMBER with a finite number (got {text!r})") from None


def cell_size(text: str) -> int:
    """A grid cell's side in px: 1..MAX_CELL, or 0 for the model's own size; a bigger one is refused with
    its memory estimate."""
    value = _int(text)
    if value < 0:
        raise ArgumentTypeError(f"must be a size in px ≥ 1, or 0 for the model's own size (got {text!r})")
    if value > MAX_CELL:
        raise ArgumentTypeError(
            f"{value} px cells are too big: one cell alone would take ~{human_bytes(image_bytes(value, value))}; "
            f"the limit is {MAX_CELL} px (~{human_bytes(image_bytes(MAX_CELL, MAX_CELL))} a cell)"
        )
    return value


def check_image_size(width: int, height: int, what: str, hint: str = "") -> None:
    """Refuse (with the estimate and the limit) an image too big to assemble in memory.

    Raises ``StudioError``, so it is also usable after parsing (a grid's size depends on several flags).
    """
    from .errors import StudioError

    need = image_bytes(width, height)
    if need > MAX_IMAGE_BYTES:
        raise StudioError(
            f"{what} would be {width}×{height} px (~{human_bytes(need)} in memory); the limit is "
            f"{human_bytes(MAX_IMAGE_BYTES)}" + (f": {hint}" if hint else "")
        )


def image_out(text: str) -> Path:
    """An output image path whose suffix names a format the studio writes (.png, .jpg/.jpeg, .webp)."""
    path = Path(str(text)).expanduser()
    if not path.name or path.is_dir():
        raise ArgumentTypeError(f"{text} is a folder; give a file name (e.g. {path / 'out.png'})")
    if path.suffix.lower() not in IMAGE_FORMATS:
        raise ArgumentTypeError(f"{path.name}: the image format comes from the suffix; use .png, .jpg, .jpeg or .webp")
    return path
