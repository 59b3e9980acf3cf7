"""Stylize keeps the photo's resolution (up to AUTO_SIZE_LIMIT), optimises large outputs in tiles, keeps
finished tiles on Cancel, and its default ratio is the one measured to stylize visibly (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.errors import JobCancelled
from studio.core.jobs import CancelToken, run_job
from studio.losses.testing import TinyFeatures
from studio.stylize import StylizeConfig, StylizeJob, gatys


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(2)
    content = np.zeros((30, 44, 3), np.uint8)
    content[5:25, 8:36] = (200, 90, 40)
    style = rng.integers(0, 255, (24, 24, 3)).astype(np.uint8)
    Image.fromarray(content).save(tmp_path / "photo.png")
    Image.fromarray(style).save(tmp_path / "style.png")
    return tmp_path / "photo.png", tmp_path / "style.png"


def test_the_default_keeps_the_photo_size_and_stylizes_strongly(photo, tmp_path):
    cfg = StylizeConfig(steps=2)
    assert cfg.size == 0 and cfg.ratio == gatys.DEFAULT_RATIO >= 1e4
    assert cfg.output_side((4000, 3000)) == gatys.AUTO_SIZE_LIMIT and cfg.output_side((480, 320)) == 480
    res = run_job(StylizeJob(*photo, tmp_path / "o.png", cfg, "cpu", TinyFeatures()))
    assert res.ok, res.message
    with Image.open(tmp_path / "o.png") as img:
        assert img.size == (44, 30)  # the photo's own resolution, not a fixed 256


def test_a_large_output_is_optimised_in_tiles_with_one_progress_line(photo, tmp_path, monkeypatch):
    monkeypatch.setattr(gatys, "TILE_ABOVE", 32)
    monkeypatch.setattr(gatys, "TILE", 24)
    monkeypatch.setattr(gatys, "TILE_OVERLAP", 8)
    seen = []
    calls = []
    real = gatys.stylize
    monkeypatch.setattr(gatys, "stylize", lambda c, *a, **k: calls.append(tuple(c.shape)) or real(c, *a, **k))
    res = run_job(StylizeJob(*photo, tmp_path / "t.png", StylizeConfig(steps=2), "cpu", TinyFeatures()), seen.append)
    assert res.ok, res.message
    assert len(calls) == 6 and all(s[2:] == (24, 24) for s in calls)  # 2 rows × 3 columns of 24 px tiles
    totals = {e.total for e in seen if e.total}
    assert totals == {12} and max(e.step for e in seen) == 12  # 6 tiles × 2 steps, one bar
    with Image.open(tmp_path / "t.png") as img:
        assert img.size == (44, 30)


def test_cancel_in_a_tiled_run_keeps_the_finished_tiles(photo):
    content = gatys._load(photo[0], None)
    style = gatys._load(photo[1], 24)
    cancel = CancelToken()

    class Stop:
        steps = 0

        def check(self):
            cancel.raise_if_cancelled()

        def report(self, step, total, **kw):
            if step >= 3:  # during the second tile
                cancel.cancel()

        def message(self, text):
            pass

    cfg = StylizeConfig(steps=2, ratio=1e6)
    with pytest.raises(JobCancelled) as info:
        gatys.stylize_tiled(content, style, cfg, TinyFeatures(), Stop(), tile=24, overlap=8)
    image = info.value.image
    assert image.shape == content.shape
    assert not torch.allclose(image[..., :12, :12], content[..., :12, :12], atol=1e-3)  # tile 1 stylised
    assert torch.allclose(image[..., -8:, -8:], content[..., -8:, -8:], atol=1e-6)  # the last tile never ran
