"""The pieces of the render path outside the network: state -> code and float image -> pixels give the
same values however the tensors are laid out, and never share memory with a later call."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.grid import to_uint8
from studio.core.latents import seed_to_z, truncate


def _reference_uint8(images: torch.Tensor) -> np.ndarray:
    arr = (images.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)
    return arr.permute(0, 2, 3, 1).contiguous().numpy()


@pytest.mark.parametrize("layout", ["nchw", "channels_last", "bf16 channels_last", "strided"])
def test_to_uint8_is_exact_and_contiguous_for_every_layout(layout):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 3, 9, 7, generator=g) * 1.4 - 0.2  # values outside [0, 1] are clamped
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "bf16 channels_last":
        x = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    elif layout == "strided":
        x = torch.rand(5, 3, 18, 7, generator=g)[:, :, ::2]
    before = x.clone()
    out = to_uint8(x)
    assert out.dtype == np.uint8 and out.shape == (5, 9, 7, 3) and out.flags["C_CONTIGUOUS"]
    assert np.array_equal(out, _reference_uint8(x))
    assert torch.equal(x, before)  # the caller's tensor is not modified in place


def test_to_uint8_takes_a_single_image_and_a_grad_tensor():
    x = torch.rand(3, 4, 4, requires_grad=True)
    assert np.array_equal(to_uint8(x), _reference_uint8(x.unsqueeze(0)))


def test_seed_codes_are_fresh_tensors_with_the_same_values():
    a = seed_to_z(7, 16)
    a.zero_()  # a caller editing its code in place (latent_for sets z_edits this way)
    b = seed_to_z(7, 16)
    assert b.abs().sum() > 0 and torch.equal(b, seed_to_z(7, 16)) and not torch.equal(b, seed_to_z(8, 16))
    assert seed_to_z(7, 16, count=3).shape == (3, 16) and torch.equal(seed_to_z(7, 16, count=3)[0], b[0])


def test_truncation_scales_towards_the_mean():
    z = torch.randn(4, 8)
    assert torch.equal(truncate(z, 1.0), z)
    assert torch.allclose(truncate(z, 0.5), z * 0.5)
    mean = torch.ones(8)
    assert torch.allclose(truncate(z, 0.0, mean), mean.expand(4, 8))
