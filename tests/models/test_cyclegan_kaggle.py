"""The Kaggle report's CycleGAN preset (LayerNorm skip generator, average-pooled discriminator, log loss)
and ECE 285's exponential learning-rate decay (×0.99 every 2 epochs), exact at the boundary and at resume."""

from __future__ import annotations

import math

import pytest
import torch
from test_cyclegan import _interrupted_losses, make_domains, tiny_job  # same folder (pytest prepends it)

from studio.core.jobs import run_job
from studio.models.cyclegan.config import CycleGANConfig
from studio.models.cyclegan.networks import KaggleDiscriminator, ResnetGenerator, build_discriminator, build_generator
from studio.models.cyclegan.train import CycleGANTask, adversarial, config_from_options, log_loss, lsgan
from studio.models.translate.train import TrainOptions, exponential_decay
from studio.train import TrainerOptions


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def test_kaggle_preset_is_the_reports_configuration():
    cfg = CycleGANConfig.preset("kaggle")
    assert (cfg.generator, cfg.skips, cfg.g_norm) == ("resnet", True, "layer")
    assert (cfg.discriminator, cfg.d_norm, cfg.gan_loss, cfg.lr) == ("kaggle", "layer", "bce", 2e-4)
    assert config_from_options({"preset": "kaggle", "gan_loss": "lsgan"}).gan_loss == "lsgan"  # a flag overrides
    assert CycleGANConfig.preset("standard").gan_loss == "lsgan"  # the other presets keep their loss


def test_kaggle_generator_has_layernorm_except_at_input_and_output_and_keeps_sizes():
    g = build_generator(CycleGANConfig.preset("kaggle", channels=4, n_blocks=2))
    assert isinstance(g, ResnetGenerator) and g.skips
    assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in g.modules())
    norms = [m for m in g.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(m.num_groups == 1 for m in norms)  # LayerNorm over (C, H, W)
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in g.stem)  # input conv: no norm
    assert not any(isinstance(m, (torch.nn.GroupNorm, torch.nn.InstanceNorm2d)) for m in g.head)
    x = torch.rand(2, 3, 21, 30) * 2 - 1
    y = g(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    # LayerNorm keeps the balance between channels that InstanceNorm divides away: a colour cast moves
    # the output of the layer-normalised generator
    cast = x.clone()
    cast[:, 0] += 0.5
    assert (g(cast) - y).abs().mean() > 1e-4


def test_kaggle_discriminator_ends_with_average_pooling_one_logit_per_image():
    d = build_discriminator(CycleGANConfig.preset("kaggle", ndf=4))
    assert isinstance(d, KaggleDiscriminator)
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 and sum(isinstance(m, torch.nn.GroupNorm) for m in d.modules()) == 3
    x = torch.rand(3, 3, 48, 40)
    out = d(x)
    assert out.shape == (3, 1)
    assert torch.allclose(out, d.net(x).mean(dim=(2, 3)))  # the mean of the PatchGAN's patch scores


def test_log_loss_is_minus_log_sigmoid():
    logits = torch.tensor([[0.0], [2.0], [-1.0]])
    assert log_loss(logits, 1.0).item() == pytest.approx(float(-torch.log(torch.sigmoid(logits)).mean()), rel=1e-6)
    assert log_loss(logits, 0.0).item() == pytest.approx(float(-torch.log(1 - torch.sigmoid(logits)).mean()), rel=1e-6)
    assert log_loss(torch.zeros(1, 1), 1.0).item() == pytest.approx(math.log(2))
    assert adversarial("bce").criterion is log_loss and adversarial("lsgan").criterion is lsgan


def test_kaggle_preset_trains_and_its_losses_are_log_losses(tmp_path):
    a, b = make_domains(tmp_path / "data")
    events = []
    job = tiny_job(a, b, tmp_path, steps=3, preset="kaggle", size=32, n_blocks=1, ndf=4, preview_every=0)
    res = run_job(job, events.append)
    assert res.ok, res.message
    first = next(e.losses for e in events if e.losses)
    # an untrained D scores ≈ 0 logits: each log loss ≈ log 2 (LSGAN would give ≈ 1 per term)
    assert first["G_adv"] == pytest.approx(2 * math.log(2), abs=0.3)


def test_exponential_decay_steps_at_the_boundary():
    # 10 steps per epoch, ×0.99 every 2 epochs: steps 0..19 at 1, 20..39 at 0.99, 40 at 0.99²
    assert exponential_decay(0, 10, 0.99, 2) == 1.0
    assert exponential_decay(19, 10, 0.99, 2) == 1.0
    assert exponential_decay(20, 10, 0.99, 2) == pytest.approx(0.99)
    assert exponential_decay(39, 10, 0.99, 2) == pytest.approx(0.99)
    assert exponential_decay(40, 10, 0.99, 2) == pytest.approx(0.99**2)
    assert exponential_decay(1000, 10, 1.0, 2) == 1.0  # off


def test_task_lr_follows_the_epoch_schedule(tmp_path):
    a, b = make_domains(tmp_path / "data")  # 7 readable images in A (one RGBA), 6 in B
    cfg = CycleGANConfig.preset("ece", exp_decay=0.99, exp_decay_epochs=2)
    task = CycleGANTask(cfg, TrainOptions(a=str(a), b=str(b), size=16), TrainerOptions(steps=100, batch=2))

    class Sized:
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

    task.data_a, task.data_b = Sized(7), Sized(6)  # type: ignore[assignment]
    assert task.steps_per_epoch() == 4  # ceil(7 / 2)
    assert task.lr_factor(7) == 1.0 and task.lr_factor(8) == pytest.approx(0.99)
    assert task.lr_factor(16) == pytest.approx(0.99**2)
    # combined with the linear decay of the second half
    task.cfg = CycleGANConfig.preset("ece", exp_decay=0.99, decay_start=0.5)
    assert task.lr_factor(75) == pytest.approx(0.5 * 0.99 ** (75 // 8))


def test_resume_is_exact_across_an_exponential_decay_step(tmp_path):
    """A period of 2 steps (4 steps per epoch, every 0.5 epoch): the lr changes at steps 2, 4, 6; a run
    stopped at 3 and resumed loses exactly what an uninterrupted one does, and reports the same lr."""
    a, b = make_domains(tmp_path / "data")

    def job(root, **kw):
        return tiny_job(a, b, root, steps=6, exp_decay=0.5, exp_decay_epochs=0.5, preview_every=0, **kw)

    events = []
    assert run_job(job(tmp_path / "straight"), events.append).ok
    straight = {e.step: e.losses for e in events if e.losses}
    lrs = {e.step: e.metrics["lr"] for e in events if e.losses}
    assert [lrs[s] for s in range(1, 7)] == pytest.approx([1e-3 * 0.5 ** (s // 2) for s in range(1, 7)])
    resumed = _interrupted_losses(job, 3, tmp_path / "stopped")
    for step in (4, 5, 6):
        assert resumed[step] == straight[step], step
