"""Bayesian CycleGAN: shapes, the Monte-Carlo marginalisation (training losses and outputs average over
latent samples), the prior term, a short training that moves its losses, exact resume, loading and
``studio translate``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from test_cyclegan import make_domains  # same folder (pytest prepends it to sys.path)

from studio.cli import main
from studio.core.checkpoint import read_card
from studio.core.errors import StudioError
from studio.core.jobs import CancelToken, run_job
from studio.core.store import load_model
from studio.models.bayes_cyclegan.config import BayesCycleGANConfig
from studio.models.bayes_cyclegan.family import BayesCycleGANFamily
from studio.models.bayes_cyclegan.networks import (
    LatentGenerator,
    PosteriorMean,
    build_latent_generator,
    latent_noise,
    marginal_latents,
)
from studio.models.bayes_cyclegan.train import BayesCycleGANTask, config_from_options, gaussian_prior
from studio.models.cyclegan.networks import DnCNNGenerator
from studio.models.translate.train import TrainOptions
from studio.train import TrainerOptions


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


TINY = dict(channels=8, depth=2, d_channels=[4, 8, 8, 8], d_strides=[2, 2, 1, 1, 1])


def tiny_job(a, b, root, steps=6, **kw):
    opts = dict(
        a=str(a),
        b=str(b),
        size=16,
        steps=steps,
        batch=2,
        out=str(root / "out" / "bcg"),
        run_dir=str(root / "run"),
        device="cpu",
        preview_every=3,
        checkpoint_every=3,
        threads=1,
        preset="ece",
        command="pytest",
        **TINY,
    )
    opts.update(kw)
    return BayesCycleGANFamily().make_job("train", **opts)


def random_latent_generator(samples=3, seed=0):
    """A non-residual DnCNN on [image, noise]: its output depends on the latent."""
    torch.manual_seed(seed)
    return LatentGenerator(DnCNNGenerator(8, 1, residual=False, in_channels=4), 1, samples)


def test_presets_follow_the_authors_defaults():
    cfg = BayesCycleGANConfig.preset("bayes")
    assert (cfg.mc_x, cfg.mc_y, cfg.gamma, cfg.prior_weight, cfg.latent_channels) == (3, 3, 0.1, 1.0, 1)
    assert (cfg.generator, cfg.channels, cfg.n_blocks, cfg.discriminator, cfg.gan_loss) == (
        "resnet",
        32,
        6,
        "patch",
        "lsgan",
    )
    assert (cfg.lambda_cycle, cfg.lambda_identity, cfg.pool_size, cfg.lr, cfg.decay_start) == (10.0, 0.0, 0, 2e-4, 0.5)
    ece = config_from_options({"preset": "ece", "mc_x": 2})
    assert (ece.generator, ece.mc_x, ece.mc_y) == ("dncnn", 2, 3)
    with pytest.raises(StudioError, match="preset"):
        BayesCycleGANConfig.preset("fancy")
    with pytest.raises(StudioError, match="mc_x"):
        BayesCycleGANConfig.preset("bayes", mc_x=0)


def test_latent_generators_take_image_plus_noise_and_return_images():
    h, w = 17, 23  # odd sizes: the ResNet generators pad and crop back
    x = torch.rand(2, 3, h, w) * 2 - 1
    small = dict(channels=4, n_blocks=1)
    for preset, kw in (("ece", TINY), ("bayes", small), ("kaggle", small)):
        g = build_latent_generator(BayesCycleGANConfig.preset(preset, **kw))
        first = next(m for m in g.modules() if isinstance(m, torch.nn.Conv2d))
        assert first.in_channels == 4  # 3 image channels + 1 latent channel
        z = latent_noise(x, 1, seed=5)
        assert z.shape == (1, 1, h, w)
        assert g.sample(x, z).shape == (2, 3, h, w)
        assert g(x).shape == (2, 3, h, w)


def test_noise_comes_from_the_given_generator_or_seed():
    x = torch.zeros(1, 3, 5, 6)
    assert torch.equal(latent_noise(x, 2, seed=3), latent_noise(x, 2, seed=3))
    assert not torch.equal(latent_noise(x, 2, seed=3), latent_noise(x, 2, seed=4))
    rng = torch.Generator().manual_seed(9)
    assert torch.equal(latent_noise(x, 1, rng), torch.randn((1, 1, 5, 6), generator=torch.Generator().manual_seed(9)))


def test_marginal_output_is_the_mean_over_latent_samples():
    g = random_latent_generator(samples=3)
    x = torch.rand(2, 3, 9, 11) * 2 - 1
    with torch.no_grad():
        draws = [g.sample(x, latent_noise(x, 1, seed=i)) for i in range(3)]
        assert (draws[0] - draws[1]).abs().max() > 1e-4  # the latent matters
        expected = torch.stack(draws).mean(0)
        assert torch.allclose(g(x), expected, atol=1e-6)
        assert torch.allclose(g.marginal(x, samples=1), draws[0], atol=1e-6)


def test_the_batched_posterior_mean_is_the_marginal_in_one_call():
    """The render path's one-call marginal (all samples in one batch) gives the loop's numbers."""
    g = random_latent_generator(samples=3).eval()  # as rendered: batch statistics would mix the samples
    x = torch.rand(4, 3, 9, 11) * 2 - 1
    calls = []
    g.net.register_forward_hook(lambda mod, args, out: calls.append(args[0].shape[0]))
    with torch.no_grad():
        zs = marginal_latents(x, 1, 3)
        assert zs.shape == (3, 1, 9, 11) and torch.equal(zs[1:2], latent_noise(x, 1, seed=1))
        batched = PosteriorMean(g.net)(x, zs)
        assert calls == [12]  # one network call for 3 samples of 4 images
        assert torch.allclose(batched, g.marginal(x), atol=1e-5)


def test_the_loaded_model_renders_the_marginal_batched_and_pictures_by_the_loop(monkeypatch):
    from studio.core.store import ModelStore
    from studio.models.bayes_cyclegan import family as bayes_family

    entry = ModelStore().entries.get("emoji-twitter2fluent-bayes")
    if entry is None:
        pytest.skip("the bundled Bayesian CycleGAN is not present")
    model = load_model(entry.path, torch.device("cpu"))
    gen = model.generators["a2b"]
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        expected = gen.marginal(x)
        assert torch.allclose(model.forward(x, "a2b"), expected, atol=1e-5)
        monkeypatch.setattr(bayes_family, "BATCHED_MARGINAL_PIXELS", 16)  # a "big picture": the loop
        assert torch.equal(model.forward(x, "a2b"), expected)


def _task(tmp_path, a, b, **cfg_kw):
    cfg = BayesCycleGANConfig.preset("ece", **{**TINY, **cfg_kw})
    task = BayesCycleGANTask(cfg, TrainOptions(a=str(a), b=str(b), size=16), TrainerOptions(steps=1, batch=2))
    task.nets = task.build()
    return task


def test_generator_adversarial_loss_averages_over_the_posterior_samples(tmp_path):
    a, b = make_domains(tmp_path / "data")
    task = _task(tmp_path, a, b, gamma=0.0, prior_weight=0.0, lambda_cycle=0.0, mc_x=3, mc_y=3)
    torch.manual_seed(1)
    real_a, real_b = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    zs_ab = [latent_noise(real_a, 1, seed=i) for i in range(3)]
    zs_ba = [latent_noise(real_b, 1, seed=10 + i) for i in range(3)]
    with torch.no_grad():
        loss, parts, images = task.generator_losses(real_a, real_b, zs_ab, zs_ba)
        assert images["fake_b"].shape == (6, 3, 16, 16) and images["rec_a"].shape == (6, 3, 16, 16)
        per_sample = []
        for z_ab, z_ba in zip(zs_ab, zs_ba):
            fb, fa = task.nets["G_ab"].sample(real_a, z_ab), task.nets["G_ba"].sample(real_b, z_ba)
            per_sample.append(
                F.mse_loss(task.nets["D_b"](fb), torch.ones(2, task.nets["D_b"](fb).shape[1]))
                + F.mse_loss(task.nets["D_a"](fa), torch.ones(2, task.nets["D_a"](fa).shape[1]))
            )
    assert loss.item() == pytest.approx(float(torch.stack(per_sample).mean()), rel=1e-5)
    assert parts["G_adv"].item() == pytest.approx(loss.item())


def test_gaussian_prior_is_the_authors_sum_of_mean_squares_over_batch_and_moves_the_loss(tmp_path):
    net = torch.nn.Linear(2, 3)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]))
        net.bias.copy_(torch.tensor([2.0, 0.0, 1.0]))
    # mean(w²) = 30/6 = 5, mean(b²) = 5/3; divided by the batch of 2
    assert gaussian_prior(net.parameters(), 2).item() == pytest.approx((5 + 5 / 3) / 2)

    a, b = make_domains(tmp_path / "data")
    real_a, real_b = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    zs = [latent_noise(real_a, 1, seed=i) for i in range(3)]
    with torch.no_grad():
        without = _task(tmp_path, a, b, prior_weight=0.0)
        torch.manual_seed(0)
        without.nets = without.build()
        with_prior = _task(tmp_path, a, b, prior_weight=1.0)
        with_prior.nets = {k: v for k, v in without.nets.items()}  # the same networks
        l0, _, im0 = without.generator_losses(real_a, real_b, zs, zs)
        l1, parts, _ = with_prior.generator_losses(real_a, real_b, zs, zs)
        params = [*without.nets["G_ab"].parameters(), *without.nets["G_ba"].parameters()]
        expected = gaussian_prior(params, 2).item()
        assert expected > 0 and parts["prior_G"].item() == pytest.approx(expected)
        assert (l1 - l0).item() == pytest.approx(expected, rel=1e-4)
        d = without.nets["D_b"]
        d0 = without.discriminator_loss(d, real_b, im0["fake_b"], im0["rec_b"], 3)
        d1 = with_prior.discriminator_loss(d, real_b, im0["fake_b"], im0["rec_b"], 3)
        assert (d1 - d0).item() == pytest.approx(gaussian_prior(d.parameters(), 2).item(), rel=1e-4)
    # and the prior pulls the weights towards zero: one gradient step on it alone shrinks them
    g = without.nets["G_ab"]
    before = sum(float(p.detach().pow(2).sum()) for p in g.parameters())
    gaussian_prior(g.parameters(), 2).backward()
    with torch.no_grad():
        for p in g.parameters():
            p -= 0.5 * p.grad
    assert sum(float(p.pow(2).sum()) for p in g.parameters()) < before


def test_discriminator_loss_weights_real_by_the_sample_count_and_gamma_the_reconstructions(tmp_path):
    a, b = make_domains(tmp_path / "data")
    task = _task(tmp_path, a, b, prior_weight=0.0, gamma=0.1)
    d = task.nets["D_b"]
    real, fake, rec = (torch.rand(k, 3, 16, 16) * 2 - 1 for k in (2, 6, 6))
    with torch.no_grad():
        lr_, lf, lc = (F.mse_loss(d(t), torch.full_like(d(t), v)) for t, v in ((real, 1.0), (fake, 0.0), (rec, 0.0)))
        got = task.discriminator_loss(d, real, fake, rec, 3).item()
    assert got == pytest.approx(float(0.5 * (3 * lr_ + lf) + 0.05 * (3 * lr_ + lc)), rel=1e-5)


def test_short_training_moves_losses_and_exports_a_translator(tmp_path):
    a, b = make_domains(tmp_path / "data")
    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=10, preview_every=0, mc_x=2, mc_y=2), events.append)
    assert res.ok, res.message
    losses = [e.losses for e in events if e.losses]
    assert len(losses) == 10
    assert set(losses[0]) >= {"G_adv", "G_adv_rec", "cycle", "prior_G", "D_a", "D_b"}
    cyc = [x["cycle"] for x in losses]
    d = [x["D_a"] + x["D_b"] for x in losses]
    assert cyc[0] == 0.0 and max(cyc[1:]) > 1e-3  # the residual DnCNN starts as the identity, then moves
    assert np.mean(d[-4:]) < 0.9 * np.mean(d[:3])
    card = read_card(res.outputs["card"])
    assert card.family == "bayes-cyclegan" and card.config["mc_x"] == 2 and "inference" in card.extra
    model = load_model(res.outputs["card"], "cpu")
    out = model.translate(Image.new("RGB", (19, 13), (200, 40, 40)), "a2b")
    assert out.size == (19, 13)
    # the loaded model's translation is the mean over its latent samples
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        g = model.generators["a2b"]
        mean = torch.stack([g.sample(x, latent_noise(x, 1, seed=i)) for i in range(3)]).mean(0)
        assert torch.allclose(model.forward(x, "a2b"), mean, atol=1e-6)
    src = tmp_path / "in.png"
    Image.new("RGB", (21, 17), (30, 30, 220)).save(src)
    dst = tmp_path / "translated.png"
    args = ["translate", res.outputs["card"], str(src), "-o", str(dst), "--direction", "b2a", "--device", "cpu"]
    assert main(args) == 0
    with Image.open(dst) as im:
        assert im.size == (21, 17)


def test_resume_is_exact(tmp_path):
    """Stopped at step 3 and resumed: steps 4..6 lose exactly what an uninterrupted run loses (the latent
    samples come from the run's RNG, Adam's moments and the lr decay continue)."""
    a, b = make_domains(tmp_path / "data")

    def job(root, **kw):
        return tiny_job(a, b, root, steps=6, mc_x=2, mc_y=2, decay_start=0.3, pool_size=2, **kw)

    events = []
    assert run_job(job(tmp_path / "straight"), events.append).ok
    straight = {e.step: e.losses for e in events if e.losses}
    token = CancelToken()

    def stop(p):
        if p.step >= 3:
            token.cancel()

    first = run_job(job(tmp_path / "stopped"), stop, token)
    assert first.status == "cancelled" and first.outputs["step"] == 3
    events = []
    res = run_job(job(tmp_path / "stopped", resume=True), events.append)
    assert res.ok, res.message
    resumed = {e.step: e.losses for e in events if e.losses}
    assert sorted(resumed) == [4, 5, 6]
    for step in (4, 5, 6):
        assert resumed[step] == straight[step], step


def test_augment_reaches_the_discriminators_through_the_runs_rng(tmp_path):
    """--augment (shared with CycleGAN): D's loss depends on the augmentations drawn from the run's RNG; the
    same RNG state gives the same loss, and without augmentation the RNG is not used at all."""
    a, b = make_domains(tmp_path / "data")
    real, fake, rec = (torch.rand(k, 3, 16, 16) * 2 - 1 for k in (2, 6, 6))

    def loss(task, seed):
        task.rng = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            value = task.discriminator_loss(task.nets["D_b"], real, fake, rec, 3).item()
        return value, task.rng.get_state()

    plain = _task(tmp_path, a, b, prior_weight=0.0)
    augmented = _task(tmp_path, a, b, prior_weight=0.0, augment="translation,cutout")
    augmented.nets["D_b"].load_state_dict(plain.nets["D_b"].state_dict())
    (p0, rng_p0), (p1, _) = loss(plain, 0), loss(plain, 1)
    assert p0 == p1 and torch.equal(rng_p0, torch.Generator().manual_seed(0).get_state())
    (a0, _), (a0_again, _), (a1, _) = loss(augmented, 0), loss(augmented, 0), loss(augmented, 1)
    assert a0 == a0_again and a0 != a1 and a0 != p0
