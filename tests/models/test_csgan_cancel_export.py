"""A cancelled CSGAN run exports quickly: BN statistics and GANSpace directions from a bounded number of
samples (the user waits for the stop), recorded in the card; a finished run uses the requested counts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.core.checkpoint import read_card
from studio.core.jobs import CancelToken, run_job
from studio.core.store import load_model
from studio.models.csgan.train import CANCEL_EXPORT_SAMPLES, CSGANTrainJob


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def discs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discs")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    for i in range(16):
        a = np.full((64, 64, 3), 255, np.uint8)
        a[(yy - 32) ** 2 + (xx - 32) ** 2 < int(rng.integers(8, 28)) ** 2] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i:02d}.png")
    return folder


def _job(discs, tmp_path, name, steps):
    return CSGANTrainJob(
        data=str(discs),
        out=str(tmp_path / "out" / name),
        run_dir=str(tmp_path / f"run-{name}"),
        width=0.0625,
        batch=8,
        steps=steps,
        device="cpu",
        preview_every=0,
        checkpoint_every=0,
        pca_k=4,
        pca_samples=CANCEL_EXPORT_SAMPLES + 64,
        bn_samples=CANCEL_EXPORT_SAMPLES + 64,
        threads=0,
    )


def test_a_cancelled_run_exports_with_bounded_samples_and_says_so(discs, tmp_path):
    token = CancelToken()

    def stop_at_two(p):
        if p.step >= 2:
            token.cancel()

    res = run_job(_job(discs, tmp_path, "cancelled", 1000), stop_at_two, token)
    assert res.status == "cancelled"
    extra = read_card(res.outputs["card"]).extra
    assert extra["pca_samples"] == extra["bn_samples"] == CANCEL_EXPORT_SAMPLES
    model = load_model(res.outputs["card"], device="cpu")  # still a complete, renderable model
    assert model.pca_directions is not None and model.pca_directions.shape[0] == 4
    done = run_job(_job(discs, tmp_path, "finished", 2))
    assert done.ok, done.message
    extra = read_card(done.outputs["card"]).extra
    assert extra["pca_samples"] == extra["bn_samples"] == CANCEL_EXPORT_SAMPLES + 64
