"""A style-labelled image folder: ``DIR/<style>/**/*.png`` (each subfolder is one style).

Everything is loaded once into a uint8 tensor (64 px images are ~12 kB each, so 15k images fit in
~200 MB) so training batches cost no decoding. A deterministic per-style hold-out is kept aside so the
style head's accuracy can be measured on images it never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.core.errors import ImageLoadError, StudioError
from studio.core.images import fit_square, list_images, load_image


@dataclass
class StyleData:
    styles: list[str]
    images: torch.Tensor  # [N,3,S,S] uint8 (training part)
    labels: torch.Tensor  # [N] int64
    held_images: torch.Tensor  # [M,3,S,S] uint8
    held_labels: torch.Tensor  # [M]
    counts: dict[str, int]  # images per style (train + held out)
    skipped: list[str]  # files that could not be read, with the reason

    def batch(self, n: int, gen: torch.Generator, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """A uniform random minibatch (as the report did), images as floats in [0,1] on ``device``."""
        idx = torch.randint(0, self.images.shape[0], (n,), generator=gen)
        return (self.images[idx].to(device).float() / 255.0), self.labels[idx].to(device)

    def describe(self) -> str:
        parts = ", ".join(f"{s} ({self.counts[s]})" for s in self.styles)
        return f"{sum(self.counts.values())} images in {len(self.styles)} styles: {parts}"


def style_folders(root: str | Path) -> list[Path]:
    root = Path(root)
    if not root.exists():
        raise StudioError(f"{root}: the data folder does not exist")
    if not root.is_dir():
        raise StudioError(f"{root}: --data must be a folder with one subfolder per style")
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_style_folder(
    root: str | Path, size: int, holdout: float = 0.1, seed: int = 0, max_per_style: int = 0
) -> StyleData:
    """Read every style subfolder of ``root`` at ``size``×``size`` (letterboxed on white, never cropped)."""
    root = Path(root)
    folders = style_folders(root)
    per_style: list[tuple[str, list[Path]]] = []
    for folder in folders:
        files = list_images(folder)
        if files:
            per_style.append((folder.name, files))
    if len(per_style) < 2:
        found = ", ".join(f.name for f in folders) or "none"
        raise StudioError(
            f"{root}: a CAN needs at least two style subfolders with images in them "
            f"(found: {found}). Put each style's images in its own subfolder."
        )
    rng = np.random.default_rng(seed)
    styles = [name for name, _ in per_style]
    train_x: list[np.ndarray] = []
    held_x: list[np.ndarray] = []
    train_y: list[int] = []
    held_y: list[int] = []
    counts: dict[str, int] = {}
    skipped: list[str] = []
    for k, (name, files) in enumerate(per_style):
        files = list(files)
        if max_per_style and len(files) > max_per_style:
            files = [files[i] for i in sorted(rng.choice(len(files), max_per_style, replace=False))]
        arrays = []
        for path in files:
            try:
                img = load_image(path)
            except ImageLoadError as exc:
                skipped.append(str(exc))
                continue
            if img.size != (size, size):
                img = fit_square(img, size, mode="pad")
            arrays.append(np.asarray(img, dtype=np.uint8))
        if not arrays:
            raise StudioError(f"{root / name}: none of the {len(files)} images in this style folder could be read")
        counts[name] = len(arrays)
        order = rng.permutation(len(arrays))
        n_held = int(round(len(arrays) * holdout)) if len(arrays) > 1 else 0
        for j, i in enumerate(order):
            (held_x if j < n_held else train_x).append(arrays[i])
            (held_y if j < n_held else train_y).append(k)

    def stack(xs: list[np.ndarray]) -> torch.Tensor:
        if not xs:
            return torch.zeros(0, 3, size, size, dtype=torch.uint8)
        return torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()

    return StyleData(
        styles,
        stack(train_x),
        torch.tensor(train_y, dtype=torch.long),
        stack(held_x),
        torch.tensor(held_y, dtype=torch.long),
        counts,
        skipped,
    )


def read_licence(root: str | Path) -> str:
    """The data set's licence line, from a LICENCE.txt/LICENSE.txt next to the style folders (if any)."""
    for name in ("LICENCE.txt", "LICENSE.txt", "LICENCE", "LICENSE"):
        p = Path(root) / name
        if p.is_file():
            try:
                return " ".join(p.read_text(encoding="utf-8", errors="replace").split())[:2000]
            except OSError:
                pass
    return ""
