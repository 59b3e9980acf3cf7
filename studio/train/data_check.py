"""Look at a training folder before training: how many images are usable, their sizes, what will be
skipped and why.

Why a separate check: the trainers skip unreadable files silently-ish (one progress line) and only
after the run has started; an artist wants to know *before* pressing Start that 3 of their 200 files
are broken, that their images are 40 px while the model wants 128, or that a CAN needs one subfolder
per style. The check goes through the same loader as training (:func:`studio.core.images.load_image`),
so a file it counts as usable is one the trainer reads. It never raises for a bad file: every problem
is a line in the report.
"""

from __future__ import annotations

import os
import statistics
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.images import IMAGE_SUFFIXES, load_image

FULL_CHECK_LIMIT = 2000  # files decoded completely; beyond this only their headers are read (fast)
MAX_FILES_SEEN = 200_000  # a folder walk stops here (a mistaken pick of / or $HOME must not hang)


@dataclass
class Skipped:
    path: Path
    reason: str


@dataclass
class DataReport:
    """What :func:`check_folder` found. ``problem`` is set when the folder as a whole is unusable."""

    folder: Path
    usable: int = 0
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (w, h) of each usable image
    skipped: list[Skipped] = field(default_factory=list)  # image files that cannot be read
    ignored: list[Path] = field(default_factory=list)  # files that are not images (by suffix) or hidden
    groups: dict[str, int] = field(default_factory=dict)  # usable images per immediate subfolder
    header_only: int = 0  # usable images whose header only was checked (above FULL_CHECK_LIMIT)
    smaller_than: int = 0  # usable images with a shorter side below ``target`` (they are upscaled)
    target: int = 0
    truncated_walk: bool = False
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and self.usable > 0

    def size_text(self) -> str:
        if not self.sizes:
            return ""
        sides = [min(w, h) for w, h in self.sizes]
        common, n = Counter(self.sizes).most_common(1)[0]
        lo = min(self.sizes, key=lambda s: s[0] * s[1])
        hi = max(self.sizes, key=lambda s: s[0] * s[1])
        text = f"sizes {lo[0]}×{lo[1]} to {hi[0]}×{hi[1]} px, median shorter side {statistics.median(sides):.0f} px"
        if n > 1:
            text += f", most common {common[0]}×{common[1]} ({n})"
        return text

    def lines(self) -> list[str]:
        """The report as short sentences for the wizard (and the CLI)."""
        if self.problem:
            return [self.problem]
        out = [
            f"{self.usable} usable image{'s' if self.usable != 1 else ''}"
            + (f"; {self.size_text()}" if self.sizes else "")
        ]
        if self.groups:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(self.groups.items()))
            out.append(f"{len(self.groups)} subfolders: {parts}")
        if self.skipped:
            examples = "; ".join(f"{s.path.name}: {s.reason}" for s in self.skipped[:3])
            more = f" (and {len(self.skipped) - 3} more)" if len(self.skipped) > 3 else ""
            out.append(f"{len(self.skipped)} will be skipped because they cannot be read — {examples}{more}")
        if self.ignored:
            names = ", ".join(p.name for p in self.ignored[:3])
            out.append(f"{len(self.ignored)} other files are ignored (not images, or hidden): {names}")
        if self.smaller_than:
            out.append(
                f"{self.smaller_than} images are smaller than the model's {self.target} px and will be "
                "enlarged (they may look blurry)"
            )
        if self.header_only:
            out.append(
                f"{self.header_only} images were checked by their header only (the first {FULL_CHECK_LIMIT} fully)"
            )
        if self.truncated_walk:
            out.append(f"the folder holds more than {MAX_FILES_SEEN} files: only those were looked at")
        advice = enough_text(self.usable)
        if advice:
            out.append(advice)
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def enough_text(n: int) -> str:
    """How the number of images tends to go for a GAN (rules of thumb from the papers and FastGAN's
    few-shot results: ~100 images with augmentation, thousands without)."""
    if n == 0:
        return "no usable images: add PNG or JPEG files to the folder"
    if n < 50:
        return f"{n} images is very few: the model will mostly repeat them (keep augmentation on; 100+ is better)"
    if n < 500:
        return "enough for a first model with augmentation; 1000+ images give more variety"
    return ""


def _image_files(folder: Path, limit: int) -> tuple[list[Path], list[Path], bool]:
    """(image files, ignored files, walk truncated) under ``folder``, sorted, links out of it skipped."""
    images: list[Path] = []
    ignored: list[Path] = []
    seen = 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            seen += 1
            if seen > limit:
                return images, ignored, True
            p = Path(root) / name
            if name.startswith(".") or p.suffix.lower() not in IMAGE_SUFFIXES:
                ignored.append(p)
            else:
                images.append(p)
    return images, ignored, False


def _header_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as img:
            return img.size


def check_folder(
    folder: str | Path,
    target: int = 0,
    grouped: bool = False,
    full_check_limit: int = FULL_CHECK_LIMIT,
    max_files: int = MAX_FILES_SEEN,
    cancelled: Callable[[], bool] | None = None,
) -> DataReport:
    """Check every image under ``folder`` (recursively) as training would read it.

    ``target``: the model's image size (images with a smaller shorter side are counted). ``grouped``:
    the family wants one subfolder per class (CAN styles, GADN artists) — usable images are counted
    per immediate subfolder and fewer than two subfolders is a problem. ``cancelled`` is polled
    between files (the wizard stops a check when the folder changes). Never raises for a bad file.
    """
    folder = Path(folder).expanduser()
    report = DataReport(folder=folder, target=target)
    if not str(folder).strip() or str(folder) == ".":
        report.problem = "choose a folder of images"
        return report
    if not folder.exists():
        report.problem = f"{folder}: the folder does not exist"
        return report
    if not folder.is_dir():
        report.problem = f"{folder}: this is a file, not a folder"
        return report
    try:
        images, report.ignored, report.truncated_walk = _image_files(folder, max_files)
    except OSError as exc:
        report.problem = f"{folder}: could not list the folder ({exc.strerror or exc})"
        return report
    for i, path in enumerate(images):
        if cancelled is not None and cancelled():
            break
        try:
            if i < full_check_limit:
                w, h = load_image(path).size
            else:
                w, h = _header_size(path)
                report.header_only += 1
        except StudioError as exc:
            report.skipped.append(Skipped(path, getattr(exc, "problem", str(exc))))
            continue
        except Exception as exc:  # a header PIL cannot parse, an unreadable file: a skip, never a crash
            report.skipped.append(Skipped(path, f"could not read it ({type(exc).__name__})"))
            continue
        report.usable += 1
        report.sizes.append((w, h))
        if target and min(w, h) < target:
            report.smaller_than += 1
        rel = path.relative_to(folder).parts
        if grouped and len(rel) > 1:
            report.groups[rel[0]] = report.groups.get(rel[0], 0) + 1
    if grouped:
        loose = report.usable - sum(report.groups.values())
        if len(report.groups) < 2:
            report.problem = (
                f"{folder}: this model needs one subfolder of images per style or artist, at least two "
                f"(found {len(report.groups)} subfolder{'s' if len(report.groups) != 1 else ''} with images"
                + (f" and {loose} loose images" if loose else "")
                + ")"
            )
    elif report.usable == 0 and not report.problem:
        report.problem = f"{folder}: no usable images" + (
            f" ({len(report.skipped)} image files could not be read, e.g. {report.skipped[0].path.name}: "
            f"{report.skipped[0].reason})"
            if report.skipped
            else " (looked for .png, .jpg, .webp, … files)"
        )
    return report
