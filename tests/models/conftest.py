"""Fixtures shared by the model tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    """40 generated 64 px images (coloured discs on white, some RGBA / palette to go through the loader)."""
    folder = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    for i in range(40):
        a = np.full((64, 64, 3), 255, np.uint8)
        r = rng.integers(8, 28)
        a[(yy - 32) ** 2 + (xx - 32) ** 2 < r * r] = rng.integers(0, 255, 3)
        img = Image.fromarray(a)
        if i % 10 == 1:
            img = img.convert("RGBA")
        elif i % 10 == 2:
            img = img.convert("P")
        img.save(folder / f"{i:02d}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder
