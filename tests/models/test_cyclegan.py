"""CycleGAN: shapes, image pool, cycle loss, training on the shared Trainer (exact resume, Cancel, NaN
stop, EMA), tiling, loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.errors import CheckpointError, StudioError
from studio.core.jobs import CancelToken, run_job
from studio.core.store import load_model
from studio.models.cyclegan.config import CycleGANConfig
from studio.models.cyclegan.family import CycleGANFamily
from studio.models.cyclegan.networks import (
    DnCNNGenerator,
    ECEDiscriminator,
    PatchDiscriminator,
    ResnetGenerator,
    build_generator,
)
from studio.models.cyclegan.train import CycleGANTrainJob, cycle_loss
from studio.models.translate.data import ImagePool
from studio.models.translate.tiling import tiled_apply
from studio.models.translate.train import linear_decay
from studio.train import RunFolder


def make_domains(root, n=6, size=36, seed=0):
    """Two folders: red squares on white (A), blue discs on grey (B), plus one RGBA and one junk file."""
    rng = np.random.default_rng(seed)
    a, b = root / "squares", root / "discs"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        im = np.full((size, size, 3), 255, np.uint8)
        y, x = rng.integers(0, size // 2, 2)
        im[y : y + size // 3, x : x + size // 3] = (220, 30, 30)
        Image.fromarray(im).save(a / f"{i}.png")
        im = np.full((size, size, 3), 128, np.uint8)
        cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
        im[(yy - cy) ** 2 + (xx - cx) ** 2 < (size // 5) ** 2] = (30, 30, 220)
        Image.fromarray(im).save(b / f"{i}.jpg")
    Image.fromarray(np.zeros((size, size, 4), np.uint8), "RGBA").save(a / "alpha.png")
    (b / "broken.png").write_bytes(b"not a png")
    return a, b


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def tiny_job(a, b, tmp_path, steps=6, preset="ece", **kw):
    opts = dict(
        a=str(a),
        b=str(b),
        size=16,
        steps=steps,
        batch=2,
        out=str(tmp_path / "out" / "cg"),
        run_dir=str(tmp_path / "run"),
        device="cpu",
        preview_every=3,
        checkpoint_every=3,
        threads=1,
        channels=8,
        depth=2,
        n_blocks=1,
        ndf=8,
        d_channels=[4, 8, 8, 8],
        d_strides=[2, 2, 1, 1, 1],
        preset=preset,
        command="pytest",
    )
    opts.update(kw)
    return CycleGANFamily().make_job("train", **opts)


@pytest.mark.parametrize("h,w", [(17, 23), (31, 9), (64, 64)])
def test_generators_keep_odd_sizes(h, w):
    x = torch.randn(2, 3, h, w)
    assert DnCNNGenerator(8, 2)(x).shape == x.shape
    assert ResnetGenerator(4, 1)(x).shape == x.shape
    assert ResnetGenerator(4, 1, skips=True)(x).shape == x.shape
    assert ResnetGenerator(4, 1, skips=True, upsample="resize")(x).shape == x.shape
    assert ECEDiscriminator([4, 8, 8, 8]).forward(x).shape == (2, h * w)  # one score per pixel (stride 1)
    assert PatchDiscriminator(4)(torch.randn(2, 3, 70, 70)).shape == (2, 36)


def test_residual_dncnn_starts_as_identity_and_cycle_loss_of_identity_pair_is_zero():
    x, y = torch.rand(2, 3, 19, 21) * 2 - 1, torch.rand(2, 3, 19, 21) * 2 - 1
    g = DnCNNGenerator(8, 2, residual=True)
    assert torch.equal(g(x), x)
    assert cycle_loss(torch.nn.Identity(), torch.nn.Identity(), x, y).item() == 0.0
    assert cycle_loss(g, g, x, y).item() == 0.0
    assert cycle_loss(DnCNNGenerator(8, 2, residual=False), g, x, y).item() > 0.0


def test_image_pool_returns_a_mix_of_old_and_new_fakes_and_restores_exactly():
    pool = ImagePool(size=4)
    rng = torch.Generator().manual_seed(0)
    first = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first, rng), first)  # filling: the new fakes come straight back
    old, new = 0, 0
    for k in range(1, 40):
        batch = torch.full((4, 1, 1, 1), 100.0 + k)
        out = pool.query(batch, rng)
        new += int((out == 100.0 + k).sum())
        old += int((out != 100.0 + k).sum())
    assert old > 20 and new > 20
    assert ImagePool(size=0).query(first, rng) is first
    # the stored fakes and the generator's state are all a resumed pool needs
    copy = ImagePool(size=4)
    copy.restore(pool.contents())
    state = rng.get_state()
    batch = torch.full((4, 1, 1, 1), -1.0)
    expected = pool.query(batch, rng)
    assert torch.equal(copy.query(batch, torch.Generator().set_state(state)), expected)
    assert torch.equal(copy.contents(), pool.contents())
    assert ImagePool(size=4).contents() is None


def test_linear_decay_schedule():
    assert linear_decay(0, 100, 0.5) == 1.0 and linear_decay(49, 100, 0.5) == 1.0
    assert linear_decay(75, 100, 0.5) == pytest.approx(0.5)
    assert linear_decay(100, 100, 0.5) == 0.0
    assert linear_decay(99, 100, 1.0) == 1.0


def test_presets_and_bad_config():
    std = CycleGANConfig.preset("standard")
    assert (std.generator, std.discriminator, std.pool_size, std.lr, std.lambda_identity) == (
        "resnet",
        "patch",
        50,
        2e-4,
        0.5,
    )
    ece = CycleGANConfig.preset("ece")
    assert (ece.generator, ece.channels, ece.depth, ece.d_channels) == ("dncnn", 64, 6, [16, 64, 256, 256])
    with pytest.raises(StudioError, match="generator"):
        CycleGANConfig.preset("ece", generator="unet")
    with pytest.raises(StudioError, match="preset"):
        CycleGANConfig.preset("fancy")


def test_discriminators_without_norm():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 0.5 - 0.5
    brighter = x + 0.4  # the same image with a brightness offset
    for d in (ECEDiscriminator([4, 8, 8, 8], [2, 2, 1, 1, 1], norm="none"), PatchDiscriminator(4, norm="none")):
        assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in d.modules())
        assert (d(x) - d(brighter)).abs().max() > 1e-3
    with pytest.raises(StudioError, match="normalisation"):
        CycleGANConfig.preset("ece", d_norm="batch")


def test_standard_training_moves_losses_and_saves_a_loadable_translator(tmp_path):
    torch.manual_seed(0)
    a, b = make_domains(tmp_path / "data")
    job = tiny_job(a, b, tmp_path, steps=30, preset="standard", pool_size=4, size=32)
    previews = []
    res = run_job(job, lambda p: previews.append(p.preview) if p.preview is not None else None)
    assert res.ok, res.message
    card = read_card(res.outputs["card"])
    assert card.family == "cyclegan" and card.training.steps == 30 and card.training.command == "pytest"
    assert card.labels["domains"] == ["squares", "discs"]
    assert previews and previews[-1].dtype == np.uint8 and previews[-1].shape[2] == 3
    model = load_model(res.outputs["card"], "cpu")
    img = Image.new("RGB", (37, 23), (200, 40, 40))
    out = model.translate(img, "a2b")
    assert out.size == (37, 23)
    assert model.render([model.default_state("cg")]).shape == (1, 3, 32, 32)
    assert {c.name for c in model.controls()} >= {"direction"}
    # a grid mixing directions: each cell is the translation its own state asks for, in the states' order
    states = [dict(model.default_state("cg"), seed=i, labels={"direction": d}) for i, d in enumerate("abba")]
    for st in states:
        st["labels"]["direction"] = "a2b" if st["labels"]["direction"] == "a" else "b2a"
    mixed = model.render(states)
    for i, st in enumerate(states):
        assert torch.allclose(mixed[i : i + 1], model.render([st]), atol=1e-6)
    assert not torch.allclose(mixed[0], mixed[1])


def test_losses_move_during_a_short_run(tmp_path):
    torch.manual_seed(0)
    a, b = make_domains(tmp_path / "data")
    job = tiny_job(a, b, tmp_path, steps=40, preset="standard", pool_size=4, preview_every=0, size=32)
    events = []
    res = run_job(job, events.append)
    assert res.ok, res.message
    cyc = [e.losses["cycle"] for e in events if "cycle" in e.losses]
    assert len(cyc) == 40
    assert np.mean(cyc[-10:]) < 0.8 * np.mean(cyc[:5])


def test_resume_continues_the_step_count(tmp_path):
    a, b = make_domains(tmp_path / "data")
    assert run_job(tiny_job(a, b, tmp_path, steps=6)).ok
    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=10, resume=True), events.append)
    assert res.ok, res.message
    steps = [e.step for e in events if e.losses]
    assert steps == [7, 8, 9, 10]
    tensors, run = RunFolder(tmp_path / "run").load()
    assert run["family"] == "cyclegan" and run["step"] == 10 and read_card(res.outputs["card"]).training.steps == 10
    adam_steps = {float(v) for k, v in tensors.items() if k.startswith("opt.G.") and k.endswith(".step")}
    assert adam_steps == {10.0}
    assert res.outputs["run_dir"] == str(tmp_path / "run") and res.outputs["status"] == "finished"


def _interrupted_losses(job_fn, stop_at, tmp_path):
    """Losses of a run cancelled after step ``stop_at`` and resumed to the end, by step."""
    token = CancelToken()

    def cb(p):
        if p.step >= stop_at:
            token.cancel()

    first = run_job(job_fn(tmp_path), cb, token)
    assert first.status == "cancelled" and first.outputs["step"] == stop_at
    events = []
    res = run_job(job_fn(tmp_path, resume=True), events.append)
    assert res.ok, res.message
    return {e.step: e.losses for e in events if e.losses}


def test_resume_is_exact_with_image_pools_and_lr_decay(tmp_path):
    """Stopped at step 4 and resumed: steps 5..8 lose exactly what an uninterrupted run loses (the pools'
    stored fakes, their random choices, Adam's moments and the decaying lr all continue)."""
    a, b = make_domains(tmp_path / "data")

    def job(root, **kw):
        return tiny_job(a, b, root, steps=8, pool_size=3, decay_start=0.25, lambda_identity=0.5, **kw)

    events = []
    assert run_job(job(tmp_path / "straight"), events.append).ok
    straight = {e.step: e.losses for e in events if e.losses}
    resumed = _interrupted_losses(job, 4, tmp_path / "stopped")
    assert sorted(resumed) == [5, 6, 7, 8]
    assert set(straight[5]) == {"G_adv", "cycle", "identity", "D_a", "D_b"}
    for step in (5, 6, 7, 8):
        assert resumed[step] == straight[step], step
    # the pool did swap old fakes in before the stop (3 images, batch 2), and was saved with the run
    tensors, _ = RunFolder(tmp_path / "stopped" / "run").load()
    assert tensors["task.pool.a"].shape == (3, 3, 16, 16)


def test_resume_without_a_run_starts_one_and_another_config_fails_clearly(tmp_path):
    a, b = make_domains(tmp_path / "data")
    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=3, resume=True), events.append)
    assert res.ok, res.message
    assert any("no saved run" in (e.message or "") for e in events)
    res = run_job(tiny_job(a, b, tmp_path, steps=5))  # a new run over a saved one needs --resume
    assert res.status == "failed" and "--resume" in res.message
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True, channels=16))
    assert res.status == "failed" and "different architecture" in res.message and "channels" in res.message
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True, d_norm="none"))
    assert res.status == "failed" and "d_norm" in res.message


def test_resize_upsampling_has_no_transposed_convs_and_no_checkerboard_at_start():
    """--upsample resize: nearest ×2 + conv in the decoder. A transposed 3×3 conv at stride 2 gives a
    constant input a 2-pixel period pattern even with equal weights (uneven overlap); resize does not."""
    cfg = CycleGANConfig.preset("standard", channels=4, n_blocks=1, upsample="resize")
    g = build_generator(cfg)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())
    assert sum(isinstance(m, torch.nn.Upsample) for m in g.modules()) == 2

    def period2(up: torch.nn.Module) -> float:
        for m in up.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.constant_(m.weight, 1.0)
        with torch.no_grad():
            y = up(torch.ones(1, 4, 8, 8))[0, 0, 2:-2, 2:-2]
        return float(y.max() - y.min())

    from studio.models.cyclegan.networks import _up_layers

    assert period2(torch.nn.Sequential(*_up_layers(4, 4, "transposed"))) > 1.0
    assert period2(torch.nn.Sequential(*_up_layers(4, 4, "resize"))) == 0.0
    with pytest.raises(StudioError, match="upsampling"):
        CycleGANConfig.preset("standard", upsample="bilinear")


def test_resume_of_a_run_saved_before_a_config_key_existed(tmp_path):
    """A run state whose config lacks a key added later (here d_norm) resumes with that key's default."""
    a, b = make_domains(tmp_path / "data")
    assert run_job(tiny_job(a, b, tmp_path, steps=3)).ok
    folder = RunFolder(tmp_path / "run")
    tensors, meta = folder.load()
    del meta["config"]["d_norm"]
    folder.save(tensors, meta)
    res = run_job(tiny_job(a, b, tmp_path, steps=4, resume=True))
    assert res.ok, res.message
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True, d_norm="none"))
    assert res.status == "failed" and "d_norm" in res.message


def test_cancel_saves_a_loadable_model_and_resume_continues(tmp_path):
    a, b = make_domains(tmp_path / "data")
    token = CancelToken()

    def cb(p):
        if p.step >= 3:
            token.cancel()

    res = run_job(tiny_job(a, b, tmp_path, steps=50), cb, token)
    assert res.status == "cancelled" and res.outputs["step"] == 3
    model = load_model(res.outputs["card"], "cpu")
    assert model.card.training.steps == 3
    assert model.translate(torch.rand(3, 20, 20), "a2b").shape == (3, 20, 20)
    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True), events.append)
    assert res.ok, res.message
    assert [e.step for e in events if e.losses] == [4, 5]


def test_a_nan_stops_the_run_clearly_and_the_run_stays_resumable(tmp_path):
    a, b = make_domains(tmp_path / "data")
    job = tiny_job(a, b, tmp_path, steps=8, checkpoint_every=2)

    def poison(p):
        if p.step == 3:
            with torch.no_grad():
                next(job.task.nets["G_ab"].parameters()).fill_(float("nan"))

    res = run_job(job, poison)
    assert res.status == "failed" and "diverged" in res.message and "'G_adv'" in res.message
    assert "step 4" in res.message and "keeps step 2" in res.message
    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=5, checkpoint_every=2, resume=True), events.append)
    assert res.ok, res.message
    assert [e.step for e in events if e.losses] == [3, 4, 5]
    assert all(np.isfinite(v) for e in events if e.losses for v in e.losses.values())


def test_ema_generators_are_exported(tmp_path):
    a, b = make_domains(tmp_path / "data")
    res = run_job(tiny_job(a, b, tmp_path, steps=4, ema=0.9))
    assert res.ok, res.message
    exported, card = load_checkpoint(res.outputs["card"])
    state, run = RunFolder(tmp_path / "run").load()
    assert run["step"] == 4 and card.extra["training_run"]["ema"]["decay"] == 0.9
    assert "EMA" in card.training.notes
    for g in ("G_ab", "G_ba"):
        keys = [k for k in exported if k.startswith(g + ".")]
        assert keys
        for k in keys:
            assert torch.equal(exported[k], state["ema." + k]), k
        weights = [k for k in keys if k.endswith("weight")]
        assert any(not torch.equal(exported[k], state["net." + k]) for k in weights)
    assert not any(k.startswith(("D_a", "D_b")) for k in exported)


def test_cli_flags_reach_the_trainer_and_the_task():
    import argparse

    p = argparse.ArgumentParser()
    CycleGANFamily().add_job_arguments("train", p)
    args = p.parse_args(
        [
            "--a",
            "x",
            "--b",
            "y",
            "--preset",
            "standard",
            "--save-every",
            "7",
            "--precision",
            "bf16",
            "--time-limit",
            "2.5",
            "--ema",
            "0.99",
            "--run-dir",
            "r",
            "--pool-size",
            "5",
            "--upsample",
            "resize",
        ]
    )
    job = CycleGANFamily().make_job("train", **vars(args))
    assert (job.options.checkpoint_every, job.options.precision, job.options.time_limit, job.options.ema) == (
        7,
        "bf16",
        2.5,
        0.99,
    )
    assert (job.options.steps, job.options.batch, job.options.kid_every) == (10000, 1, 500)
    assert job.task.cfg.generator == "resnet" and job.task.cfg.pool_size == 5 and job.task.cfg.upsample == "resize"
    assert str(job.task.run_path()) == "r" and job.task.name == "cyclegan-x2y"
    direct = CycleGANTrainJob(a="x", b="y")
    assert direct.options.kid_every == 0 and direct.task.cfg.generator == "dncnn"


def test_patchgan_on_too_small_crops_is_a_clear_error(tmp_path):
    a, b = make_domains(tmp_path / "data")
    res = run_job(tiny_job(a, b, tmp_path, preset="standard", size=16))
    assert res.status == "failed" and "PatchGAN" in res.message and "32" in res.message


def test_empty_folder_is_a_clear_error(tmp_path):
    a, _ = make_domains(tmp_path / "data")
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_job(tiny_job(a, empty, tmp_path))
    assert res.status == "failed" and "empty" in res.message and "no readable images" in res.message


def test_tiled_equals_untiled_for_a_local_network():
    torch.manual_seed(0)
    g = DnCNNGenerator(8, 3, residual=False).eval()
    for p in g.parameters():
        p.data.normal_(0, 0.3)
    x = torch.randn(1, 3, 45, 70)
    with torch.no_grad():
        full = g(x)
        calls = []
        tiled = tiled_apply(g, x, tile=24, overlap=16, margin=6, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1] > 4
    assert torch.allclose(tiled, full, atol=1e-5)


def test_translator_tiled_matches_untiled_and_bad_direction(tmp_path):
    a, b = make_domains(tmp_path / "data")
    res = run_job(tiny_job(a, b, tmp_path, steps=2))
    model = load_model(res.outputs["card"], "cpu")
    img = torch.rand(3, 40, 57)
    full = model.translate(img, "b2a")
    tiled = model.translate(img, "b2a", tile=24)
    assert tiled.shape == full.shape == img.shape
    assert torch.allclose(tiled, full, atol=1e-5)
    with pytest.raises(StudioError, match="direction"):
        model.translate(img, "sideways")


def test_card_with_a_broken_config_is_a_checkpoint_error(tmp_path):
    a, b = make_domains(tmp_path / "data")
    res = run_job(tiny_job(a, b, tmp_path, steps=1))
    tensors, card = load_checkpoint(res.outputs["card"])
    card.config["generator"] = "unet"
    with pytest.raises(CheckpointError, match="CycleGAN config"):
        CycleGANFamily().load(tensors, card, torch.device("cpu"))
    assert build_generator(CycleGANConfig()).residual


def test_kid_of_both_directions_during_training(tmp_path, tiny_features):
    a, b = make_domains(tmp_path / "data")
    events = []
    res = run_job(
        tiny_job(a, b, tmp_path, steps=4, kid_every=2, kid_samples=8, kid_features=tiny_features), events.append
    )
    assert res.ok, res.message
    scored = [(e.step, sorted(e.metrics)) for e in events if e.metrics]
    assert scored == [(2, ["kid@tiny-random a2b", "kid@tiny-random b2a"])] * 1 + [
        (4, ["kid@tiny-random a2b", "kid@tiny-random b2a"])
    ]
    history = read_card(res.outputs["card"]).extra["loss_history"]
    assert [p[0] for p in history["kid@tiny-random a2b"]] == [2, 4]


def test_augment_reaches_every_discriminator_input_and_resume_stays_exact(tmp_path):
    """--augment translation,cutout: D sees shifted, cut-out images (real and generated alike), the
    augmentations come from the run's RNG (so a stopped and resumed run loses exactly what a straight one
    does), the card records the policy, and a bad policy is a clear error."""
    from studio.models.cyclegan.train import CycleGANTask

    a, b = make_domains(tmp_path / "data")
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = CycleGANTask.judge

    def spy(self, d, images):
        seen.append((images.detach().clone(), original(self, lambda x: x, images).detach().clone()))
        return original(self, d, images)

    def job(root, **kw):
        return tiny_job(a, b, root, steps=6, pool_size=2, augment="translation,cutout", **kw)

    CycleGANTask.judge = spy  # (the spy draws each augmentation twice, so its run's losses are its own)
    try:
        assert run_job(job(tmp_path / "spied")).ok
    finally:
        CycleGANTask.judge = original
    assert len(seen) == 6 * 6  # G: two fakes; each D: a real batch and a (pooled) fake batch, every step
    # a cut-out zeroes part of every image (of up to a quarter of it), which none of the inputs has itself
    assert all(float((x == 0).float().mean()) == 0.0 for x, _ in seen)
    assert all((y == 0).flatten(1).float().mean(1).min() > 0.03 for _, y in seen)
    events = []
    assert run_job(job(tmp_path / "straight"), events.append).ok
    straight = {e.step: e.losses for e in events if e.losses}
    card = read_card(tmp_path / "straight" / "out" / "cg.json")
    assert card.config["augment"] == "translation,cutout"
    resumed = _interrupted_losses(job, 3, tmp_path / "stopped")
    for step in (4, 5, 6):
        assert resumed[step] == straight[step], step
    with pytest.raises(StudioError, match="unknown augmentation"):
        CycleGANConfig.preset("standard", augment="rotate")
    assert CycleGANConfig.preset("standard").augment == "none"
