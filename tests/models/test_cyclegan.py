"""CycleGAN: shapes, image pool, cycle loss, training/resume/cancel, tiling, loading."""
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
from studio.models.cyclegan.networks import (DnCNNGenerator, ECEDiscriminator, PatchDiscriminator,
                                             ResnetGenerator, build_generator)
from studio.models.cyclegan.train import cycle_loss
from studio.models.translate_common import ImagePool, linear_decay, tiled_apply


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
        im[y:y + size // 3, x:x + size // 3] = (220, 30, 30)
        Image.fromarray(im).save(a / f"{i}.png")
        im = np.full((size, size, 3), 128, np.uint8)
        cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
        im[(yy - cy) ** 2 + (xx - cx) ** 2 < (size // 5) ** 2] = (30, 30, 220)
        Image.fromarray(im).save(b / f"{i}.jpg")
    Image.fromarray(np.zeros((size, size, 4), np.uint8), "RGBA").save(a / "alpha.png")
    (b / "broken.png").write_bytes(b"not a png")
    return a, b


def tiny_job(a, b, tmp_path, steps=6, preset="ece", **kw):
    opts = dict(a=str(a), b=str(b), size=16, steps=steps, batch=2, out=str(tmp_path / "out" / "cg"),
                run_dir=str(tmp_path / "run"), device="cpu", preview_every=3, checkpoint_every=3,
                channels=8, depth=2, n_blocks=1, ndf=8, d_channels=[4, 8, 8, 8], d_strides=[2, 2, 1, 1, 1],
                preset=preset, command="pytest")
    opts.update(kw)
    return CycleGANFamily().make_job("train", **opts)


@pytest.mark.parametrize("h,w", [(17, 23), (31, 9), (64, 64)])
def test_generators_keep_odd_sizes(h, w):
    x = torch.randn(2, 3, h, w)
    assert DnCNNGenerator(8, 2)(x).shape == x.shape
    assert ResnetGenerator(4, 1)(x).shape == x.shape
    assert ResnetGenerator(4, 1, skips=True)(x).shape == x.shape
    assert ECEDiscriminator([4, 8, 8, 8]).forward(x).shape == (2, h * w)  # one score per pixel (stride 1)
    assert PatchDiscriminator(4)(torch.randn(2, 3, 70, 70)).shape == (2, 36)


def test_residual_dncnn_starts_as_identity_and_cycle_loss_of_identity_pair_is_zero():
    x, y = torch.rand(2, 3, 19, 21) * 2 - 1, torch.rand(2, 3, 19, 21) * 2 - 1
    g = DnCNNGenerator(8, 2, residual=True)
    assert torch.equal(g(x), x)
    assert cycle_loss(torch.nn.Identity(), torch.nn.Identity(), x, y).item() == 0.0
    assert cycle_loss(g, g, x, y).item() == 0.0
    assert cycle_loss(DnCNNGenerator(8, 2, residual=False), g, x, y).item() > 0.0


def test_image_pool_returns_a_mix_of_old_and_new_fakes():
    pool = ImagePool(size=4, seed=0)
    first = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: the new fakes come straight back
    old, new = 0, 0
    for k in range(1, 40):
        batch = torch.full((4, 1, 1, 1), 100.0 + k)
        out = pool.query(batch)
        new += int((out == 100.0 + k).sum())
        old += int((out != 100.0 + k).sum())
    assert old > 20 and new > 20
    assert ImagePool(size=0).query(first) is first


def test_linear_decay_schedule():
    assert linear_decay(0, 100, 0.5) == 1.0 and linear_decay(49, 100, 0.5) == 1.0
    assert linear_decay(75, 100, 0.5) == pytest.approx(0.5)
    assert linear_decay(100, 100, 0.5) == 0.0
    assert linear_decay(99, 100, 1.0) == 1.0


def test_presets_and_bad_config():
    std = CycleGANConfig.preset("standard")
    assert (std.generator, std.discriminator, std.pool_size, std.lr, std.lambda_identity) == \
           ("resnet", "patch", 50, 2e-4, 0.5)
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
    tensors, card = load_checkpoint(tmp_path / "run" / "state.json")
    assert card.extra["run"]["step"] == 10 and read_card(res.outputs["card"]).training.steps == 10
    adam_steps = {float(v) for k, v in tensors.items() if k.startswith("opt_G.") and k.endswith(".step")}
    assert adam_steps == {10.0}


def test_resume_without_a_run_and_with_another_config_fail_clearly(tmp_path):
    a, b = make_domains(tmp_path / "data")
    res = run_job(tiny_job(a, b, tmp_path, steps=3, resume=True))
    assert res.status == "failed" and "no saved run" in res.message
    assert run_job(tiny_job(a, b, tmp_path, steps=3)).ok
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True, channels=16))
    assert res.status == "failed" and "different architecture" in res.message
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True, d_norm="none"))
    assert res.status == "failed" and "d_norm" in res.message


def test_resume_of_a_run_saved_before_a_config_key_existed(tmp_path):
    """A run state whose card lacks a key added later (here d_norm) resumes with that key's default."""
    import json

    a, b = make_domains(tmp_path / "data")
    assert run_job(tiny_job(a, b, tmp_path, steps=3)).ok
    state = tmp_path / "run" / "state.json"
    card = json.loads(state.read_text())
    del card["config"]["d_norm"]
    state.write_text(json.dumps(card))
    res = run_job(tiny_job(a, b, tmp_path, steps=4, resume=True))
    assert res.ok, res.message
    res = run_job(tiny_job(a, b, tmp_path, steps=5, resume=True, d_norm="none"))
    assert res.status == "failed" and "d_norm" in res.message


def test_cancel_saves_a_loadable_checkpoint(tmp_path):
    a, b = make_domains(tmp_path / "data")
    token = CancelToken()

    def cb(p):
        if p.step >= 2:
            token.cancel()

    res = run_job(tiny_job(a, b, tmp_path, steps=50), cb, token)
    assert res.status == "cancelled" and res.outputs["step"] == 2
    model = load_model(res.outputs["card"], "cpu")
    assert model.card.training.steps == 2


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
    res = run_job(tiny_job(a, b, tmp_path, steps=4, kid_every=2, kid_samples=8, kid_features=tiny_features),
                  events.append)
    assert res.ok, res.message
    scored = [(e.step, sorted(e.metrics)) for e in events if e.metrics]
    assert scored == [(2, ["kid@tiny-random a2b", "kid@tiny-random b2a"])] * 1 + [
        (4, ["kid@tiny-random a2b", "kid@tiny-random b2a"])]
    history = read_card(res.outputs["card"]).extra["loss_history"]
    assert [p[0] for p in history["kid@tiny-random a2b"]] == [2, 4]
