"""A folder of generated reference images (the tiny feature network lives in tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def reference_dir(tmp_path):
    folder = tmp_path / "reference"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(30):
        px = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
        px[: 4 + i % 8] = (i * 37 % 255, 80, 200)
        Image.fromarray(px).save(folder / f"img{i:02d}.png")
    Image.new("RGBA", (20, 12), (255, 0, 0, 128)).save(folder / "odd-mode.png")  # loader handles modes/sizes
    return folder
