"""The translators' data: two folders of images held in memory, random crops and flips, and the image
pool of older fakes their discriminators see."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from studio.core.errors import ImageLoadError, StudioError
from studio.core.images import fit_square, list_images, load_image


def to_model_range(x: torch.Tensor) -> torch.Tensor:
    """[0,1] pixels -> the [-1,1] range every translator works in."""
    return x * 2.0 - 1.0


def from_model_range(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


def load_folder(folder: str | Path, load_size: int, limit: int = 0) -> torch.Tensor:
    """Every image of a folder as one uint8 tensor [N,3,S,S] (centre square, resized).

    uint8 keeps a few thousand images in memory cheaply, so training never waits on the disk.
    Unreadable files are skipped (with the count reported by the caller); an empty folder is an error.
    """
    paths = list_images(folder)
    if limit:
        paths = paths[:limit]
    out, bad = [], 0
    for p in paths:
        try:
            img = fit_square(load_image(p), load_size)
        except ImageLoadError:
            bad += 1
            continue
        out.append(torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1))
    if not out:
        raise ImageLoadError(folder, f"no readable images in this folder ({bad} unreadable)")
    return torch.stack(out)


class UnpairedImages:
    """Random crops and horizontal flips from one domain's in-memory images."""

    def __init__(self, images: torch.Tensor, crop: int, flip: bool = True):
        if images.shape[-1] < crop or images.shape[-2] < crop:
            raise StudioError(f"images of {images.shape[-1]} px cannot be cropped to {crop} px")
        self.images, self.crop, self.flip = images, crop, flip

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, batch: int, gen: torch.Generator) -> torch.Tensor:
        """[batch,3,crop,crop] float in [-1,1]; every random choice comes from ``gen``."""
        idx = torch.randint(len(self), (batch,), generator=gen)
        s = self.images.shape[-1]
        out = []
        for i in idx.tolist():
            y, x = (torch.randint(s - self.crop + 1, (2,), generator=gen)).tolist()
            im = self.images[i, :, y : y + self.crop, x : x + self.crop]
            if self.flip and torch.rand((), generator=gen).item() < 0.5:
                im = im.flip(-1)
            out.append(im)
        return to_model_range(torch.stack(out).float() / 255.0)

    def centre(self, indices: Sequence[int]) -> torch.Tensor:
        s, c = self.images.shape[-1], self.crop
        o = (s - c) // 2
        return to_model_range(self.images[list(indices), :, o : o + c, o : o + c].float() / 255.0)

    def spread(self, n: int) -> torch.Tensor:
        """Centre crops of ``min(n, len)`` images spread evenly over the folder (fixed: no randomness)."""
        return self.centre([int(i) for i in np.linspace(0, len(self) - 1, min(n, len(self)))])


class ImagePool:
    """Shrivastava et al.'s history of generated images (CycleGAN uses 50).

    Each query returns, image by image, either the new fake (and stores it) or, with probability 0.5
    once the pool is full, a stored older fake (replacing it with the new one). Training the
    discriminator on older fakes too keeps it from chasing only the generator's latest mode.

    The decisions are drawn from the caller's generator (the run's RNG), and :meth:`contents` /
    :meth:`restore` save and reload the stored fakes, so a resumed run continues exactly.
    """

    def __init__(self, size: int = 50):
        self.size = int(size)
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        if self.size <= 0:
            return images
        out = []
        for im in images.detach():
            im = im.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(im.clone())
                out.append(im)
            elif torch.rand((), generator=rng).item() < 0.5:
                j = int(torch.randint(self.size, (), generator=rng))
                old = self.images[j].to(im.dtype)
                self.images[j] = im.clone()
                out.append(old)
            else:
                out.append(im)
        return torch.cat(out, 0)

    def contents(self) -> torch.Tensor | None:
        """The stored fakes in order as one CPU tensor [n,C,H,W], or None while empty."""
        return torch.cat(self.images).detach().cpu() if self.images else None

    def restore(self, contents: torch.Tensor | None, device: torch.device | str = "cpu") -> None:
        """Put back what :meth:`contents` returned (at most ``size`` images)."""
        self.images = [] if contents is None else [t.unsqueeze(0).to(device) for t in contents[: self.size]]
