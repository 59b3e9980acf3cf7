"""Gatys stylisation: the loss goes down, cancel saves the best image so far, PNG carries metadata."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.core.errors import StudioError
from studio.core.export import read_state
from studio.core.jobs import CancelToken, run_job
from studio.losses.testing import TinyFeatures
from studio.stylize import StylizeConfig, StylizeJob


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(1)
    content = np.zeros((40, 48, 3), np.uint8)
    content[10:30, 12:36] = (220, 180, 40)
    style = rng.integers(0, 255, (30, 30, 3)).astype(np.uint8)
    style[:, ::4] = (0, 0, 255)
    Image.fromarray(content).save(tmp_path / "photo.png")
    Image.fromarray(style).save(tmp_path / "style.png")
    return tmp_path / "photo.png", tmp_path / "style.png"


@pytest.mark.parametrize("optimizer,init", [("lbfgs", "content"), ("adam", "noise")])
def test_stylize_lowers_loss_and_saves_png(pair, tmp_path, optimizer, init):
    out = tmp_path / f"out-{optimizer}.png"
    cfg = StylizeConfig(ratio=1e6, optimizer=optimizer, init=init, size=32, steps=12, lr=0.05)
    events = []
    res = run_job(StylizeJob(*pair, out, cfg, device="cpu", loss_network=TinyFeatures()), events.append)
    assert res.ok, res.message
    totals = [e.losses["total"] for e in events if e.losses]
    assert totals[-1] < 0.7 * totals[0]
    assert any(e.preview is not None for e in events)
    with Image.open(out) as img:
        assert img.size == (32, 27) and img.mode == "RGB"
    meta = read_state(out)
    assert meta["kind"] == "stylize" and meta["settings"]["optimizer"] == optimizer and meta["style"] == "style.png"


def test_cancel_saves_best_so_far(pair, tmp_path):
    cancel = CancelToken()

    def stop(p):
        if p.step >= 2:
            cancel.cancel()

    out = tmp_path / "cancelled.png"
    res = run_job(StylizeJob(*pair, out, StylizeConfig(size=24, steps=50), "cpu", TinyFeatures()), stop, cancel)
    assert res.status == "cancelled" and res.outputs["steps"] == 2 and out.exists()
    assert read_state(out)["steps"] == 2


def test_bad_inputs_are_clear(pair, tmp_path):
    with pytest.raises(StudioError, match=r"out\.gif: .*\.png, \.jpg, \.jpeg or \.webp"):
        StylizeJob(*pair, tmp_path / "out.gif")
    with pytest.raises(StudioError, match="ratio"):
        StylizeConfig(ratio=0)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    res = run_job(
        StylizeJob(pair[0], broken, tmp_path / "o.png", StylizeConfig(size=16, steps=1), "cpu", TinyFeatures())
    )
    assert res.status == "failed" and "broken.png" in res.message


def test_thin_image_is_a_clear_error(pair, tmp_path):
    thin = tmp_path / "thin.png"
    Image.new("RGB", (1, 64), (200, 10, 10)).save(thin)
    res = run_job(StylizeJob(thin, pair[1], tmp_path / "o.png", StylizeConfig(size=32, steps=1), "cpu", TinyFeatures()))
    assert res.status == "failed" and "thin.png" in res.message and "too thin to stylize" in res.message
    assert "traceback" not in res.outputs and not (tmp_path / "o.png").exists()


def test_jpeg_output_carries_the_settings(pair, tmp_path):
    out = tmp_path / "o.jpg"
    res = run_job(StylizeJob(*pair, out, StylizeConfig(size=24, steps=1), "cpu", TinyFeatures()))
    assert res.status == "finished", res.message
    with Image.open(out) as im:
        assert im.format == "JPEG"
    assert read_state(out)["kind"] == "stylize"
