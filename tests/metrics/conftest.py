"""A tiny random feature network (no weights to download) and a folder of generated reference images."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from studio.metrics.features import FeatureNet, register_feature_net


def tiny_feature_net() -> FeatureNet:
    torch.manual_seed(0)
    body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    head = nn.Linear(16, 5)
    return FeatureNet("tiny-random", "random 2-layer conv net (tests only)", body, head, body, input_size=16)


@pytest.fixture
def tiny_features():
    register_feature_net("tiny-random", tiny_feature_net)
    return "tiny-random"


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
