"""studio.models.ugatit.attention: the CAM map as pixels at the image's size, large images scaled for the pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.models.ugatit.attention import attention_map, has_attention, heat_colours


class FakeModel:
    """attention() lights up the right half, whatever the input size."""

    def __init__(self):
        self.seen = []

    def attention(self, image: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        self.seen.append((tuple(image.shape), direction))
        h, w = image.shape[-2:]
        grey = torch.zeros(h, w)
        grey[:, w // 2 :] = 1.0
        return grey.expand(3, h, w)


def test_heat_ramp_is_black_to_white_and_monotone():
    ramp = heat_colours(np.linspace(0, 1, 11)[None, :])[0]
    assert ramp[0].tolist() == [0, 0, 0] and ramp[-1].tolist() == [255, 255, 255]
    assert (np.diff(ramp.astype(int).sum(1)) > 0).all()


def test_map_follows_the_attention_at_the_image_size():
    model = FakeModel()
    img = Image.new("RGB", (30, 20), (128, 128, 128))
    bare = attention_map(model, img, "b2a", overlay=0.0)
    assert bare.shape == (20, 30, 3) and model.seen == [((3, 20, 30), "b2a")]
    assert bare[:, :14].max() == 0 and bare[:, 16:].min() == 255
    mixed = attention_map(model, img, overlay=0.5)
    assert abs(int(mixed[0, 0, 0]) - 64) <= 1  # half the grey input where nothing is attended


def test_large_images_are_scaled_for_the_pass_and_back():
    model = FakeModel()
    out = attention_map(model, Image.new("RGB", (1000, 400)), max_side=100, overlay=0.0)
    assert model.seen[0][0] == (3, 40, 100)
    assert out.shape == (400, 1000, 3) and out[:, :450].max() == 0 and out[:, 550:].min() == 255


def test_models_without_attention_are_refused():
    assert not has_attention(object())
    with pytest.raises(TypeError):
        attention_map(object(), Image.new("RGB", (8, 8)))
