"""PNG state metadata, grid tiling and latent utilities."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from studio.core.errors import ImageLoadError
from studio.core.export import read_state, save_png
from studio.core.grid import resize_cells, tile, to_uint8
from studio.core.latents import principal_directions, seed_to_z, slerp, truncate


def test_png_state_round_trip(tmp_path):
    state = {"model": "m", "seed": 4, "directions": {"pc0": 1.5}, "labels": {"artist": "ü"}}
    pixels = np.zeros((5, 6, 3), np.uint8)
    save_png(tmp_path / "out.png", pixels, state)
    assert read_state(tmp_path / "out.png") == state
    assert np.asarray(Image.open(tmp_path / "out.png")).shape == (5, 6, 3)


def test_png_without_state_and_non_png(tmp_path):
    Image.new("RGB", (3, 3)).save(tmp_path / "plain.png")
    with pytest.raises(ImageLoadError, match="holds no GAN Studio state"):
        read_state(tmp_path / "plain.png")
    (tmp_path / "x.png").write_text("nope")
    with pytest.raises(ImageLoadError, match="x.png"):
        read_state(tmp_path / "x.png")


def test_export_does_not_overwrite_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    save_png(target, np.full((4, 4, 3), 9, np.uint8), {"seed": 1})
    before = target.read_bytes()
    real_save = Image.Image.save

    def half_then_fail(self, fp, format=None, **params):
        """Write the first half of the real PNG to the file Pillow was given, then fail (a full disk)."""
        buffer = io.BytesIO()
        real_save(self, buffer, format=format, **params)
        data = buffer.getvalue()
        Path(fp).write_bytes(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_png(target, np.zeros((4, 4, 3), np.uint8), {"seed": 2})
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert read_state(target) == {"seed": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]  # no temp file left either


def test_tile_places_cells():
    imgs = np.stack([np.full((4, 4, 3), i * 40, np.uint8) for i in range(5)])
    out = tile(imgs, rows=2, cols=3, pad=1, background=255)
    assert out.shape == (2 * 4 + 3, 3 * 4 + 4, 3)
    assert out[1, 1, 0] == 0 and out[1, 6, 0] == 40 and out[6, 1, 0] == 120
    assert out[6, 11, 0] == 255  # sixth cell empty


def test_to_uint8_and_resize():
    t = torch.tensor([[[[0.0, 1.0], [0.5, 2.0]]]]).repeat(1, 3, 1, 1)
    px = to_uint8(t)
    assert px.shape == (1, 2, 2, 3) and px.dtype == np.uint8
    assert px[0, 0, 0, 0] == 0 and px[0, 0, 1, 0] == 255 and px[0, 1, 1, 0] == 255 and px[0, 1, 0, 0] == 128
    assert resize_cells(px, 8).shape == (1, 8, 8, 3)


def test_seed_to_z_is_deterministic_and_distinct():
    assert torch.equal(seed_to_z(3, 16), seed_to_z(3, 16))
    assert not torch.equal(seed_to_z(3, 16), seed_to_z(4, 16))
    assert seed_to_z(0, 100, count=5).shape == (5, 100)


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 1), st.integers(0, 10_000))
def test_slerp_endpoints_and_norm(t, seed):
    a, b = seed_to_z(seed, 32)[0], seed_to_z(seed + 1, 32)[0]
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    # codes of equal norm stay on their sphere (lerp would cut inside it)
    b_same = b / b.norm() * a.norm()
    assert torch.isclose(slerp(a, b_same, t).norm(), a.norm(), rtol=1e-4)
    assert slerp(a, b, t).norm() >= ((1 - t) * a + t * b).norm() - 1e-4


def test_slerp_parallel_vectors_fall_back_to_lerp():
    a = torch.ones(4)
    assert torch.allclose(slerp(a, 2 * a, 0.5), 1.5 * a)


def test_truncate():
    z = torch.tensor([2.0, -4.0])
    assert torch.equal(truncate(z, 1.0), z)
    assert torch.equal(truncate(z, 0.0), torch.zeros(2))
    assert torch.equal(truncate(z, 0.5, mean=torch.tensor([0.0, 2.0])), torch.tensor([1.0, -1.0]))


def test_principal_directions_recover_the_dominant_axis():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(500, 6, generator=gen)
    # features respond strongly to z0 + z1 and weakly to the rest
    feats = torch.stack([5 * (z[:, 0] + z[:, 1]), 0.5 * z[:, 2], 0.1 * z[:, 3]], 1) + 0.01 * torch.randn(
        500, 3, generator=gen
    )
    dirs, stds = principal_directions(z, feats, k=2)
    assert dirs.shape == (2, 6) and stds.shape == (2,)
    expected = torch.tensor([1.0, 1.0, 0, 0, 0, 0]) / 2**0.5
    assert abs(float(dirs[0] @ expected)) > 0.99
    assert torch.allclose(dirs.norm(dim=1), torch.ones(2), atol=1e-5)
    assert abs(float(dirs[1, 2])) > 0.99
