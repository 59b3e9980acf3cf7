"""Training images: any folder, read once through the studio's safe loader into one uint8 tensor.

Why uint8 in memory: a few thousand 64–112 px images fit in tens of MB, and sampling a batch from a
tensor is far cheaper than decoding PNGs every step (that would dominate a CPU training run). The
tensor is also cached in the run folder, keyed by a fingerprint of the file list, so resuming is fast.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from studio.core.errors import ImageLoadError, StudioError
from studio.core.images import fit_square, list_images, load_image


def fingerprint(files: list[Path], size: int, fit: str) -> str:
    h = hashlib.sha256(f"{size}:{fit}".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def load_folder(
    folder: str | Path,
    size: int,
    fit: str = "crop",
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> torch.Tensor:
    """All images under ``folder`` as a [N, 3, size, size] uint8 tensor (bad files are skipped, named)."""
    folder = Path(folder)
    if not folder.exists():
        raise StudioError(f"{folder}: the training data folder does not exist")
    files = list_images(folder)
    if not files:
        raise StudioError(f"{folder}: no images found (looked for .png/.jpg/.webp/... files)")
    key = fingerprint(files, size, fit)
    cache = cache_dir / f"data-{key}.npy" if cache_dir else None
    if cache is not None and cache.exists():
        try:
            arr = np.load(cache, allow_pickle=False)
            if arr.dtype == np.uint8 and arr.ndim == 4 and arr.shape[1:] == (3, size, size):
                return torch.from_numpy(arr)
        except (OSError, ValueError):
            pass  # a damaged cache is simply rebuilt
    out = np.empty((len(files), 3, size, size), dtype=np.uint8)
    n, skipped = 0, []
    for i, f in enumerate(files):
        try:
            img = fit_square(load_image(f), size, fit)
        except ImageLoadError as exc:
            skipped.append(str(exc))
            continue
        out[n] = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
        n += 1
        if progress and (i + 1) % 500 == 0:
            progress(f"loading images: {i + 1}/{len(files)}")
    if n == 0:
        raise StudioError(
            f"{folder}: none of the {len(files)} files could be read as images (first problem: {skipped[0]})"
        )
    if skipped and progress:
        progress(f"skipped {len(skipped)} unreadable files, e.g. {skipped[0]}")
    arr = out[:n]
    if cache is not None:
        from studio.core.atomic import atomic_path

        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
    return torch.from_numpy(arr)


def sample_batch(images: torch.Tensor, batch: int, generator: torch.Generator, flip: bool = True) -> torch.Tensor:
    """A random batch as float in [-1, 1] (CPU), with random horizontal flips."""
    idx = torch.randint(0, images.shape[0], (batch,), generator=generator)
    x = images[idx].float().div_(127.5).sub_(1.0)
    if flip:
        mask = torch.rand(batch, generator=generator) < 0.5
        x[mask] = x[mask].flip(3)
    return x
