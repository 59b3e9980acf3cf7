"""Reference-set features, cached on disk: extracting a few thousand images is the slow part of an
evaluation, and the same folder is evaluated again and again (every checkpoint, every compare).

The cache key is a SHA-256 over the folder's image files (relative path + bytes) and the feature
network's name, so editing, adding or removing any image invalidates it. Files live in
``$STUDIO_HOME/cache/features/`` and are written atomically (a crash never leaves a bad cache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.core.atomic import atomic_path
from studio.core.errors import StudioError
from studio.core.images import list_images, load_image, pil_to_tensor
from studio.core.paths import cache_home

from .features import FeatureNet, extract


@dataclass
class ReferenceSet:
    folder: Path
    files: list[Path]
    digest: str  # content hash of the folder's images
    features: torch.Tensor  # [N, F]
    logits: torch.Tensor  # [N, C]
    net_name: str
    from_cache: bool = False


def cache_dir() -> Path:
    return cache_home() / "features"


def folder_digest(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(root)).encode("utf-8") + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\1")
    return h.hexdigest()


def load_images_for(files: list[Path], size: int) -> torch.Tensor:
    """Images as [N,3,size,size] floats in [0,1] (centre-cropped squares, via the safe loader)."""
    from studio.core.images import fit_square

    return torch.stack([pil_to_tensor(fit_square(load_image(f), size)) for f in files])


def reference_features(
    folder: str | Path,
    net: FeatureNet,
    size: int,
    batch_size: int = 64,
    limit: int = 0,
    progress: Callable[[int, int], None] | None = None,
    use_cache: bool = True,
) -> ReferenceSet:
    """Features of the images in ``folder`` at ``size`` px (the generator's resolution), cached.

    ``size`` matters: reference images are shown to the network at the same resolution as samples,
    so FID measures the model, not the resize. ``limit`` > 0 takes an evenly spaced subset.
    """
    folder = Path(folder)
    files = list_images(folder)
    if not files:
        raise StudioError(f"{folder}: no images found (png, jpg, webp, ... searched recursively)")
    if limit and len(files) > limit:
        files = [files[int(i)] for i in np.linspace(0, len(files) - 1, limit)]
    digest = folder_digest(files, folder)
    precision = getattr(net, "precision", "fp32")  # bf16 features are cached apart from the fp32 reference
    tag = "" if precision == "fp32" else f"|{precision}"
    key = hashlib.sha256(f"{digest}|{net.name}|{size}{tag}".encode()).hexdigest()[:32]
    path = cache_dir() / f"{net.name}-{size}px-{key}.npz"
    if use_cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                feats, logits = torch.from_numpy(data["features"]), torch.from_numpy(data["logits"])
            if feats.shape[0] == len(files):
                if progress:
                    progress(len(files), len(files))
                return ReferenceSet(folder, files, digest, feats, logits, net.name, from_cache=True)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is recomputed below and overwritten

    def batches():
        for i in range(0, len(files), batch_size):
            yield load_images_for(files[i : i + batch_size], size)

    feats, logits = extract(net, batches(), on_batch=(lambda n: progress(n, len(files))) if progress else None)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, features=feats.numpy(), logits=logits.numpy())
    return ReferenceSet(folder, files, digest, feats, logits, net.name)
