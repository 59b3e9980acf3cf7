"""A folder of artists (one subfolder each) loaded once into memory as uint8 tensors.

Why in memory: GADN's data sets here are small (a few thousand 64 px images), and sampling random
batches from a tensor is faster and simpler than a DataLoader with workers on a shared 2-core machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from studio.core.errors import FileProblem, ImageLoadError, StudioError
from studio.core.images import fit_square, list_images, load_image


@dataclass
class ArtistImages:
    images: torch.Tensor  # [N, 3, H, W] uint8
    labels: torch.Tensor  # [N] int64 artist index
    artists: list[str]
    keys: list[str]  # file stems: the same stem under two artists = the same content
    info: dict = field(default_factory=dict)  # dataset.json when the folder has one (data, licence, ...)
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as floats in [-1, 1] and their artist labels."""
        return self.images[indices].float() / 127.5 - 1.0, self.labels[indices]

    def subset(self, indices: torch.Tensor) -> ArtistImages:
        """These images only (the same artists, info and skipped list)."""
        rows = indices.tolist()
        return ArtistImages(
            self.images[indices],
            self.labels[indices],
            self.artists,
            [self.keys[i] for i in rows],
            self.info,
            self.skipped,
        )

    def category_of(self, key: str) -> str | None:
        return (self.info.get("categories") or {}).get(key)


def load_artist_folder(folder: str | Path, size: int, max_per_artist: int = 0) -> ArtistImages:
    """Read ``folder/<artist>/*.png|jpg...``; unreadable images are skipped (and listed), not fatal."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileProblem(folder, "the training data folder does not exist")
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    per_artist = []
    for d in subdirs:
        files = list_images(d)
        if max_per_artist:
            files = files[:max_per_artist]
        if files:
            per_artist.append((d.name, files))
    if len(per_artist) < 2:
        raise FileProblem(
            folder,
            f"GADN needs one subfolder of images per artist and at least two artists; "
            f"found {len(per_artist)} subfolder(s) with images",
        )
    arrays, labels, keys, skipped = [], [], [], []
    for idx, (_, files) in enumerate(per_artist):
        for f in files:
            try:
                img = fit_square(load_image(f), size)
            except ImageLoadError as exc:
                skipped.append(str(exc))
                continue
            arrays.append(np.asarray(img, dtype=np.uint8))
            labels.append(idx)
            keys.append(f.stem)
    if not arrays:
        raise FileProblem(folder, "none of the images could be read")
    present = sorted(set(labels))
    if len(present) < 2:
        raise FileProblem(folder, "images could be read for fewer than two artists")
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    info = {}
    meta = folder / "dataset.json"
    if meta.exists():
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise FileProblem(meta, f"not valid JSON ({exc})") from exc
    return ArtistImages(images, torch.tensor(labels, dtype=torch.long), [n for n, _ in per_artist], keys, info, skipped)


HOLDOUT_SEED = 2024  # fixed: training and evaluation must agree on which contents were held out


def held_out_contents(keys: list[str], fraction: float, seed: int = HOLDOUT_SEED) -> set[str]:
    """The contents (file stems) that ``holdout_contents = fraction`` leaves out of training: the same set
    for the same stems, whatever their order, so ``evaluate.py`` can find them again from the card."""
    if fraction <= 0:
        return set()
    unique = sorted(set(keys))
    order = torch.randperm(len(unique), generator=torch.Generator().manual_seed(seed)).tolist()
    count = min(len(unique) - 1, int(round(fraction * len(unique))))
    return {unique[i] for i in order[:count]}


def partner_table(data: ArtistImages, usable: torch.Tensor) -> torch.Tensor:
    """[N, artists] index of the same content (file stem) drawn by each artist, -1 where there is none or
    that drawing is not ``usable`` (a held-out content); row i's own artist points at i itself."""
    table = torch.full((len(data), len(data.artists)), -1, dtype=torch.long)
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(data.keys):
        if bool(usable[i]):
            by_key.setdefault(key, []).append(i)
    labels = data.labels.tolist()
    for members in by_key.values():
        for i in members:
            for j in members:
                table[i, labels[j]] = j
    return table


def check_artists(data: ArtistImages, expected: list[str]) -> None:
    if data.artists != expected:
        raise StudioError(
            f"the data folder's artists {data.artists} differ from the run's {expected}; "
            "resume with the same data folder"
        )
