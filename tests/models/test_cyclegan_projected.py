"""CycleGAN with projected discriminators (``--discriminator projected``): the hinge criterion, the
preset's loss, and a short run whose heads learn while the shared frozen network stays as shipped,
resumed exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_cyclegan import _interrupted_losses, make_domains, tiny_job  # same folder (pytest prepends it)

from studio.core.jobs import run_job
from studio.models.cyclegan.config import CycleGANConfig
from studio.models.cyclegan.train import CycleGANTask, adversarial, config_from_options
from studio.models.projected import ProjectedDiscriminator
from studio.models.translate.train import TrainOptions
from studio.train import TrainerOptions


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def test_hinge_criterion_by_hand():
    hinge = adversarial("hinge")
    pred = torch.tensor([[-2.0, 0.5], [1.5, 1.0]])
    # D on reals: mean(relu(1 − D)) = (3 + 0.5 + 0 + 0) / 4; on fakes: mean(relu(1 + D)) = (0 + 1.5 + 2.5 + 2) / 4
    assert hinge(pred, 1.0).item() == pytest.approx(3.5 / 4)
    assert hinge(pred, 0.0).item() == pytest.approx(6.0 / 4)
    assert hinge.generator(pred).item() == pytest.approx(-1.0 / 4)  # −mean(D), unbounded
    # the other criteria score the generator's fakes as real
    lsgan = adversarial("lsgan")
    assert lsgan.generator(pred).item() == pytest.approx(lsgan(pred, 1.0).item())


def test_projected_discriminator_defaults_to_the_hinge_loss_unless_told():
    assert CycleGANConfig.preset("standard", discriminator="projected").gan_loss == "hinge"
    assert config_from_options({"preset": "standard", "discriminator": "projected", "gan_loss": "lsgan"}).gan_loss == (
        "lsgan"
    )
    assert CycleGANConfig.preset("standard").gan_loss == "lsgan"


def test_both_projected_discriminators_share_one_frozen_network_with_their_own_projections(tmp_path):
    a, b = make_domains(tmp_path / "data")
    cfg = CycleGANConfig.preset("standard", discriminator="projected", channels=4, n_blocks=1)
    task = CycleGANTask(cfg, TrainOptions(a=str(a), b=str(b), size=32), TrainerOptions(steps=2, seed=3))
    nets = task.build()
    d_a, d_b = nets["D_a"], nets["D_b"]
    assert isinstance(d_a, ProjectedDiscriminator) and isinstance(d_b, ProjectedDiscriminator)
    assert d_a.feature_network is d_b.feature_network
    assert not any(k.startswith("_features") for k in d_a.state_dict())  # the frozen network is not saved
    assert not torch.equal(d_a.projections()["ccm0"], d_b.projections()["ccm0"])


def test_projected_cyclegan_trains_its_heads_not_the_frozen_network_and_resumes_exactly(tmp_path):
    a, b = make_domains(tmp_path / "data")

    def job(root, **kw):
        return tiny_job(
            a, b, root, steps=4, preset="standard", size=32, discriminator="projected", preview_every=0,
            checkpoint_every=2, pool_size=0, **kw,
        )  # fmt: skip

    events = []
    straight = job(tmp_path / "straight")
    res = run_job(straight, events.append)
    assert res.ok, res.message
    losses = {e.step: e.losses for e in events if e.losses}
    assert set(losses[1]) >= {"G_adv", "cycle", "D_a", "D_b"}
    task = straight.task
    d_b = task.nets["D_b"]
    frozen = {k: v.clone() for k, v in d_b.feature_network.state_dict().items()}
    # hinge on an untrained D: each of the two terms ≈ 1, halved by the standard preset
    assert losses[1]["D_b"] == pytest.approx(1.0, abs=0.5)
    assert losses[1]["D_b"] != losses[4]["D_b"]
    for k, v in d_b.feature_network.state_dict().items():
        assert torch.equal(v, frozen[k]), k
    assert all(not p.requires_grad for p in d_b.feature_network.parameters())
    card = json.loads(Path(res.outputs["card"]).read_text())
    disc = card["extra"]["discriminator"]
    assert (disc["kind"], disc["feature_network"], disc["loss"]) == ("projected", "efficientnet_lite0", "hinge")
    assert card["config"]["discriminator"] == "projected"
    resumed = _interrupted_losses(job, 2, tmp_path / "stopped")
    for step in (3, 4):
        assert resumed[step] == losses[step], step
