"""U-GAT-IT with projected discriminators (``--discriminator projected``): two of them instead of the
paper's four, sharing one frozen network; the hinge loss; a short run that trains the heads and the
generators' CAM (so the attention maps still learn), resumes exactly and exports a loadable model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_cyclegan import _interrupted_losses, make_domains  # same folder (pytest prepends it)
from test_ugatit import tiny_job

from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.core.store import load_model
from studio.models.projected import ProjectedDiscriminator
from studio.models.ugatit.config import UGATITConfig
from studio.models.ugatit.family import UGATITModel
from studio.models.ugatit.train import UGATITTask


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def test_the_paper_discriminators_stay_the_default_and_a_bad_name_is_refused():
    assert UGATITConfig.for_size(64).discriminator == "ugatit"
    with pytest.raises(StudioError, match="unknown U-GAT-IT discriminator 'patch'"):
        UGATITConfig.for_size(64, discriminator="patch")


def test_projected_run_trains_heads_and_cam_resumes_exactly_and_loads(tmp_path):
    a, b = make_domains(tmp_path / "data", size=40)

    def job(root, **kw):
        return tiny_job(
            a, b, root, steps=6, size=32, discriminator="projected", lr=2e-3, preview_every=0, **kw
        )  # fmt: skip

    events = []
    straight = job(tmp_path / "straight")
    res = run_job(straight, events.append)
    assert res.ok, res.message
    task = straight.task
    assert isinstance(task, UGATITTask)
    assert set(task.nets) == {"G_ab", "G_ba", "D_a", "D_b"}  # two projected Ds, not four CAM Ds
    d_a, d_b = task.nets["D_a"], task.nets["D_b"]
    assert isinstance(d_a, ProjectedDiscriminator) and isinstance(d_b, ProjectedDiscriminator)
    assert d_a.feature_network is d_b.feature_network
    assert not torch.equal(d_a.projections()["ccm0"], d_b.projections()["ccm0"])
    assert all(not p.requires_grad for p in d_a.feature_network.parameters())

    losses = {e.step: e.losses for e in events if e.losses}
    assert set(losses[1]) == {"G_adv", "cycle", "identity", "cam", "D"}
    # hinge on untrained heads: each of the 2 × 2 terms ≈ 1
    assert losses[1]["D"] == pytest.approx(4.0, abs=1.5)
    assert losses[6]["D"] != losses[1]["D"] and losses[6]["cam"] < losses[1]["cam"]

    card = json.loads(Path(res.outputs["card"]).read_text())
    disc = card["extra"]["discriminator"]
    assert (disc["kind"], disc["feature_network"], disc["loss"]) == ("projected", "efficientnet_lite0", "hinge")
    assert card["config"]["discriminator"] == "projected"
    model = load_model(res.outputs["card"], "cpu")
    assert isinstance(model, UGATITModel)
    img = torch.rand(3, 32, 32)
    assert model.attention(img, "a2b").shape == img.shape

    resumed = _interrupted_losses(job, 3, tmp_path / "stopped")
    for step in (4, 5, 6):
        assert resumed[step] == losses[step], step
