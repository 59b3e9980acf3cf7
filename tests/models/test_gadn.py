"""GADN: networks, losses, the three training stages, resume, the loaded model and `studio transfer`."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.errors import StudioError
from studio.core.jobs import CancelToken, run_job
from studio.models.gadn.config import GADNConfig, TrainConfig
from studio.models.gadn.losses import (
    kl_standard_normal,
    negative_log_unlikelihood,
    other_artists,
    pixel_distance,
)
from studio.models.gadn.networks import GADNNets, ResBlock
from studio.models.gadn.train import (
    GADNTrainJob,
    classifier_step,
    freeze_encoder,
    make_optimisers,
    stage1_step,
    stage2_step,
)
from studio.train import RunFolder

ARTISTS = ["ann", "bob", "cy"]
COLOURS = [(220, 40, 40), (40, 160, 40), (40, 40, 220)]


def tiny_cfg(**kw) -> GADNConfig:
    base = dict(image_size=16, num_artists=3, content_dim=8, style_dim=4, base_channels=4, fc_features=16)
    base.update(kw)
    return GADNConfig(**base)


def tiny_train(**kw) -> TrainConfig:
    base = dict(steps1=6, steps_cls=4, steps2=6, batch_cls=6, lr1=2e-3, lr_cls=2e-3, lr2=1e-3)
    base.update(kw)
    return TrainConfig(**base)


# the job's options: the tiny architecture and schedule above, plus the shared Trainer's options
TINY_JOB = dict(
    image_size=16,
    content_dim=8,
    style_dim=4,
    base_channels=4,
    fc_features=16,
    **tiny_train().to_dict(),
    batch=6,
    preview_every=3,
    checkpoint_every=2,
    device="cpu",
    threads=1,
)


@pytest.fixture(scope="module")
def artist_folder(tmp_path_factory):
    """3 artists (colour = style) × 6 shapes (content); the same file name = the same content."""
    root = tmp_path_factory.mktemp("gadn_data")
    yy, xx = np.mgrid[0:16, 0:16]
    for colour, artist in zip(COLOURS, ARTISTS):
        (root / artist).mkdir()
        for k in range(6):
            mask = ((xx - 3 - k) ** 2 + (yy - 8) ** 2) < (4 + k % 3) ** 2
            img = np.full((16, 16, 3), 255, np.uint8)
            img[mask] = colour
            Image.fromarray(img).save(root / artist / f"shape{k}.png")
    (root / "dataset.json").write_text(
        json.dumps(
            {"data": "synthetic shapes", "licence": "CC0", "categories": {f"shape{k}": "ab"[k % 2] for k in range(6)}}
        )
    )
    return root


def batch(cfg, n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, cfg.image_size, cfg.image_size, generator=g) * 2 - 1
    a = torch.arange(n) % cfg.num_artists
    return x, a


# ----------------------------------------------------------------------------------------- networks
def test_network_shapes_and_ranges():
    cfg = tiny_cfg()
    nets = GADNNets(cfg)
    x, a = batch(cfg)
    mean, std = nets.E(x)
    assert mean.shape == std.shape == (6, cfg.content_dim) and (std > 0).all()
    s_mean, s_std = nets.S(a)
    assert s_mean.shape == (6, cfg.style_dim) and (s_std > 0).all()
    img = nets.G(mean, s_mean)
    assert img.shape == x.shape and img.min() >= -1 and img.max() <= 1
    assert nets.C1(x).shape == nets.C2(x).shape == (6, 3)
    assert nets.D(x).shape == (6, 1)
    # S is a table, not a network: exactly two parameters, no convolution or linear layer
    assert [n for n, _ in nets.S.named_parameters()] == ["mean", "log_std"]


@pytest.mark.parametrize("size,levels", [(64, 4), (128, 5), (256, 6)])
def test_depth_follows_image_size(size, levels):
    cfg = GADNConfig(image_size=size, width=0.05, fc_features=64)
    assert cfg.levels == levels and len(cfg.channels()) == levels
    if size == 128:
        nets = GADNNets(cfg)
        assert nets.G(torch.zeros(1, cfg.content_dim), torch.zeros(1, cfg.style_dim)).shape == (1, 3, 128, 128)


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        GADNConfig(image_size=48)
    with pytest.raises(ValueError):
        GADNConfig(num_artists=1)


@pytest.mark.parametrize("mode,cin,cout", [("same", 8, 8), ("down", 3, 8), ("up", 8, 4)])
def test_residual_block_has_one_conv_and_relu_branch(mode, cin, cout):
    block = ResBlock(cin, cout, mode)
    convs = [m for m in block.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert len(convs) == 1
    assert not any(isinstance(m, torch.nn.Linear) for m in block.modules())
    # with the branch switched off (ReLU of a negative value is 0) the block is its weight-free shortcut
    torch.nn.init.zeros_(block.conv.weight)
    torch.nn.init.constant_(block.conv.bias, -1.0)
    x = torch.randn(2, cin, 8, 8)
    out = block(x)
    assert out.shape[1] == cout
    assert out.shape[-1] == {"same": 8, "down": 4, "up": 16}[mode]
    # ReLU is on the branch before the add: a positive bias adds exactly that bias
    torch.nn.init.constant_(block.conv.bias, 0.5)
    assert torch.allclose(block(x) - out, torch.full_like(out, 0.5), atol=1e-6)


def test_every_network_is_made_of_one_conv_blocks():
    nets = GADNNets(tiny_cfg())
    blocks = [m for m in nets.modules() if isinstance(m, ResBlock)]
    modes = [b.mode for b in nets.E.trunk.blocks]
    assert modes == ["down", "same"] * nets.cfg.levels  # stride-2 and stride-1 blocks alternate
    assert all(sum(isinstance(m, torch.nn.Conv2d) for m in b.modules()) == 1 for b in blocks)


# ----------------------------------------------------------------------------------------- losses
def test_kl_is_zero_at_standard_normal_and_positive_elsewhere():
    assert kl_standard_normal(torch.zeros(4, 5), torch.ones(4, 5)).abs().item() < 1e-7
    assert kl_standard_normal(torch.full((4, 5), 0.5), torch.ones(4, 5)).item() > 0
    assert kl_standard_normal(torch.zeros(4, 5), torch.full((4, 5), 2.0)).item() > 0


def test_negative_log_unlikelihood_and_pixel_distance():
    logits = torch.randn(7, 4)
    target = torch.randint(0, 4, (7,))
    p = torch.softmax(logits, 1)[torch.arange(7), target]
    assert torch.allclose(negative_log_unlikelihood(logits, target), (-torch.log(1 - p)).mean(), atol=1e-5)
    a, b = torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    b[:, 0] = 3.0
    b[:, 1] = 4.0
    assert math.isclose(pixel_distance(a, b).item(), 5.0, rel_tol=1e-5)  # not squared


def test_other_artists_never_equal_the_source():
    a = torch.randint(0, 3, (500,))
    assert (other_artists(a, 3, torch.Generator().manual_seed(1)) != a).all()


# ----------------------------------------------------------------------------------------- stages
def test_stage1_classifier_sees_a_different_artist_than_the_source():
    cfg, tc = tiny_cfg(), tiny_train()
    torch.manual_seed(0)
    nets = GADNNets(cfg)
    opts = make_optimisers(nets, "stage1", tc)
    seen = []
    original = nets.C1.forward
    nets.C1.forward = lambda x: (seen.append(x.detach().clone()), original(x))[1]
    x, a = batch(cfg)
    trace = {}
    stage1_step(nets, opts, x, a, tc, torch.Generator().manual_seed(3), trace=trace)
    assert (trace["styled_as"] != trace["source"]).all()
    assert torch.equal(trace["source"], a)
    # both C1 calls (its own update and the adversarial term) get the restyled images
    assert len(seen) == 2 and all(torch.allclose(s, trace["c1_input"]) for s in seen)


def _mean(xs):
    return sum(xs) / len(xs)


def test_stage1_moves_reconstruction_down():
    cfg, tc = tiny_cfg(), tiny_train()
    torch.manual_seed(0)
    nets = GADNNets(cfg)
    opts = make_optimisers(nets, "stage1", tc)
    x, a = batch(cfg, 6, seed=1)
    x = x.mean((2, 3), keepdim=True).expand_as(x).contiguous() * 3  # flat colours: learnable quickly
    x = x.clamp(-0.9, 0.9)
    recs = [stage1_step(nets, opts, x, a, tc, torch.Generator().manual_seed(i))["rec"] for i in range(40)]
    assert _mean(recs[-5:]) < 0.8 * _mean(recs[:5])


def test_classifier_pretraining_learns_the_artists():
    cfg, tc = tiny_cfg(), tiny_train()
    torch.manual_seed(0)
    nets = GADNNets(cfg)
    opts = make_optimisers(nets, "cls", tc)
    x, a = batch(cfg, 6, seed=2)
    losses = [classifier_step(nets, opts, x, a)["c2"] for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]


def test_stage2_freezes_the_encoder_and_trains_the_rest():
    cfg, tc = tiny_cfg(), tiny_train()
    torch.manual_seed(0)
    nets = GADNNets(cfg)
    freeze_encoder(nets)
    opts = make_optimisers(nets, "stage2", tc)
    e_before = copy.deepcopy(nets.E.state_dict())
    g_before = copy.deepcopy(nets.G.state_dict())
    d_before = copy.deepcopy(nets.D.state_dict())
    x, a = batch(cfg, 6, seed=3)
    hist = [stage2_step(nets, opts, x, a, tc, torch.Generator().manual_seed(i)) for i in range(8)]
    assert all(not p.requires_grad for p in nets.E.parameters())
    assert all(torch.equal(v, nets.E.state_dict()[k]) for k, v in e_before.items())
    assert any(not torch.equal(v, nets.G.state_dict()[k]) for k, v in g_before.items())
    assert any(not torch.equal(v, nets.D.state_dict()[k]) for k, v in d_before.items())
    assert hist[0]["d"] != hist[-1]["d"] and hist[0]["c2_real"] != hist[-1]["c2_real"]
    assert all(math.isfinite(v) for h in hist for v in h.values())


# ----------------------------------------------------------------------------------------- job + resume
def _job(folder, tmp_path, resume=False, **kw):
    opts = dict(
        TINY_JOB,
        data=folder,
        out=tmp_path / "models" / "tiny-gadn",
        run_dir=tmp_path / "run",
        resume=resume,
        command="pytest --resume" if resume else "pytest",
        model_name="tiny-gadn",
    )
    opts.update(kw)
    return GADNTrainJob(**opts)


def _cancel_at(step):
    token = CancelToken()
    steps = []

    def cb(p):
        if p.losses:
            steps.append(p.step)
            if p.step >= step:
                token.cancel()

    return token, steps, cb


def _losses(events):
    return {e.step: dict(e.losses) for e in events if e.losses}


@pytest.fixture(scope="module")
def straight_losses(artist_folder, tmp_path_factory):
    """Every step's losses of an uninterrupted run (16 steps: 6 stage 1, 4 classifier, 6 stage 2)."""
    events = []
    res = run_job(_job(artist_folder, tmp_path_factory.mktemp("straight")), events.append)
    assert res.ok, res.message
    return _losses(events)


def test_short_run_through_the_trainer_moves_losses_and_names_its_phases(artist_folder, tmp_path):
    events = []
    res = run_job(_job(artist_folder, tmp_path), events.append)
    assert res.ok, res.message
    assert set(res.outputs) >= {"card", "run_dir", "step", "status", "wall_time_s", "losses"}
    assert res.outputs["step"] == 16 and res.outputs["status"] == "finished"
    steps = [e for e in events if e.losses]
    assert [e.step for e in steps] == list(range(1, 17)) and all(e.total == 16 for e in steps)
    assert {e.message for e in steps[:6]} == {"stage 1 (content encoder)"}
    assert {e.message for e in steps[6:10]} == {"classifier pre-training"}
    assert {e.message for e in steps[10:]} == {"stage 2 (dual-conditional generator)"}
    assert set(steps[0].losses) >= {"rec", "kl_c", "adv", "c1"} and set(steps[6].losses) == {"c2", "c2_acc"}
    assert set(steps[-1].losses) >= {"d", "g_adv", "g_cls", "content", "c2_real"}
    for name, part in (("rec", steps[:6]), ("c2", steps[6:10]), ("d", steps[10:])):
        values = np.array([e.losses[name] for e in part])
        assert np.isfinite(values).all() and values.std() > 1e-5, name  # the losses move
    previews = [e.preview for e in events if e.preview is not None]
    assert previews and previews[0].dtype == np.uint8 and previews[0].ndim == 3
    card = read_card(res.outputs["card"])
    assert card.training.steps == 16 and card.extra["training_run"]["engine"] == "studio.train.Trainer"
    assert set(card.metrics["final_losses"]) == {"stage1", "cls", "stage2"}
    assert {"rec", "d", "c2"} <= set(card.extra["loss_history"])
    run = RunFolder(tmp_path / "run").load()[1]
    assert (run["phase"], run["phase_step"], run["step"]) == ("stage2", 6, 16)


def test_the_shared_steps_flag_is_refused_with_the_stage_flags_named(artist_folder, tmp_path):
    with pytest.raises(StudioError, match="--steps1.*--steps-cls.*--steps2"):
        _job(artist_folder, tmp_path, steps=100)


@pytest.mark.parametrize("stop_at,stage,phase_step", [(3, "stage1", 3), (8, "cls", 2), (13, "stage2", 3)])
def test_resume_continues_each_stage_exactly(artist_folder, tmp_path, straight_losses, stop_at, stage, phase_step):
    token, _, cb = _cancel_at(stop_at)
    res = run_job(_job(artist_folder, tmp_path), cb, token)
    assert res.status == "cancelled" and "card" in res.outputs
    assert read_card(res.outputs["card"]).training.steps == stop_at  # Cancel exports a loadable model
    from studio.core.store import load_model

    model = load_model(res.outputs["card"], device="cpu")
    assert model.render([model.default_state("tiny-gadn", 1)]).shape == (1, 3, 16, 16)
    run = RunFolder(tmp_path / "run").load()[1]
    assert (run["phase"], run["phase_step"], run["step"]) == (stage, phase_step, stop_at)
    assert run["optimizers"]  # optimiser state saved as tensors + JSON
    # without --resume the run folder is protected
    assert run_job(_job(artist_folder, tmp_path)).status == "failed"
    events = []
    res2 = run_job(_job(artist_folder, tmp_path, resume=True), events.append)
    assert res2.ok, res2.message
    resumed = _losses(events)
    assert sorted(resumed) == list(range(stop_at + 1, 17))
    for step, losses in resumed.items():  # a resumed run is the uninterrupted one, step for step
        assert losses == straight_losses[step], step
    card = read_card(res2.outputs["card"])
    assert card.training.steps == 16 and card.labels["artists"] == ARTISTS
    assert card.extra["commands"] == ["pytest", "pytest --resume"] and "continued with" in card.training.notes
    # a finished run can be extended: more stage-2 steps continue from step 6 of stage 2
    _, steps3, cb3 = _cancel_at(10**9)
    assert run_job(_job(artist_folder, tmp_path, resume=True, steps2=8), cb3).ok
    assert steps3 == [17, 18]


def test_a_nan_loss_stops_with_its_name_and_the_run_resumes_from_the_last_checkpoint(
    artist_folder, tmp_path, monkeypatch
):
    import studio.models.gadn.train as train_module

    calls = []
    real = train_module.pixel_distance

    def broken(a, b):
        calls.append(1)
        out = real(a, b)
        return out * float("nan") if len(calls) == 3 else out

    monkeypatch.setattr(train_module, "pixel_distance", broken)
    res = run_job(_job(artist_folder, tmp_path))
    assert res.status == "failed" and "diverged" in res.message and "'rec'" in res.message
    assert "step 3" in res.message
    run = RunFolder(tmp_path / "run").load()[1]
    assert (run["phase"], run["step"]) == ("stage1", 2)  # the checkpoint of step 2 (--checkpoint-every 2)
    monkeypatch.setattr(train_module, "pixel_distance", real)
    events = []
    res2 = run_job(_job(artist_folder, tmp_path, resume=True), events.append)
    assert res2.ok, res2.message
    assert min(_losses(events)) == 3


def test_ema_exports_the_averaged_generator_and_style_codes(artist_folder, tmp_path):
    res = run_job(_job(artist_folder, tmp_path, ema=0.9))
    assert res.ok, res.message
    tensors, card = load_checkpoint(res.outputs["card"])
    run_tensors, _ = RunFolder(tmp_path / "run").load()
    assert card.extra["training_run"]["ema"]["decay"] == 0.9 and "EMA" in card.training.notes
    for net in ("G", "S"):
        names = [k[len("ema.") :] for k in run_tensors if k.startswith(f"ema.{net}.")]
        assert names
        for k in names:
            assert torch.equal(tensors[k], run_tensors["ema." + k]), k
        assert any(not torch.equal(tensors[k], run_tensors["net." + k]) for k in names), net
    # the encoder and the classifier are exported as trained
    e_names = [k[len("net.") :] for k in run_tensors if k.startswith("net.E.")]
    assert e_names and all(torch.equal(tensors[k], run_tensors["net." + k]) for k in e_names)


def test_cli_options_reach_the_task_and_the_trainer():
    import argparse

    from studio.models.gadn.family import GADNFamily

    p = argparse.ArgumentParser()
    GADNFamily().add_job_arguments("train", p)
    args = p.parse_args(
        [
            "--data",
            "d",
            "--steps1",
            "5",
            "--steps2",
            "7",
            "--batch",
            "4",
            "--save-every",
            "9",
            "--precision",
            "bf16",
            "--ema",
            "0.99",
            "--lr2",
            "1e-4",
            "--image-size",
            "32",
        ]
    )
    assert args.steps is None
    job = GADNFamily().make_job("train", **vars(args))
    assert [(ph.name, ph.steps) for ph in job.task.phases()] == [("stage1", 5), ("cls", 1000), ("stage2", 7)]
    assert job.options.batch == 4 and job.options.checkpoint_every == 9 and job.options.precision == "bf16"
    assert job.options.ema == 0.99 and job.task.tc.lr2 == 1e-4 and job.task.options.arch["image_size"] == 32
    with pytest.raises(StudioError, match="--steps1"):
        GADNFamily().make_job("train", **vars(p.parse_args(["--data", "d", "--steps", "10"])))


def test_trained_model_loads_renders_and_transfers(artist_folder, tmp_path):
    from studio.core.store import load_model

    res = run_job(_job(artist_folder, tmp_path))
    assert res.ok, res.message
    card = read_card(res.outputs["card"])
    assert card.family == "gadn" and card.training.licence == "CC0" and card.training.command == "pytest"
    model = load_model(res.outputs["card"], device="cpu")
    names = {c.name: c for c in model.controls()}
    assert names["artist"].options == tuple(ARTISTS) and "blend" in names and "pc0" in names
    state = model.default_state("tiny-gadn", seed=5)
    img = model.render([state])
    assert img.shape == (1, 3, 16, 16) and 0 <= img.min() and img.max() <= 1
    assert torch.equal(model.render([state]), img)  # deterministic
    grid = model.content_grid(state)
    assert grid.shape == (3, 3, 16, 16)
    assert model.artist_grid("bob", 4).shape == (4, 3, 16, 16)
    blended = dict(state, labels={"artist": "ann", "artist2": "cy"}, scalars={"blend": 0.5})
    assert not torch.equal(model.render([blended]), model.render([dict(state, labels={"artist": "ann"})]))
    moved = dict(state, directions={"pc0": 2.0})
    assert not torch.equal(model.render([moved]), img)
    out = model.transfer(artist_folder / "ann" / "shape2.png", "cy")
    assert out.shape == (3, 16, 16)
    big = tmp_path / "big.jpg"
    Image.new("RGB", (90, 40), (10, 200, 30)).save(big)
    assert model.transfer(big, "bob").shape == (3, 16, 16)
    with pytest.raises(StudioError, match="unknown artist"):
        model.transfer(big, "picasso")
    probs = model.classify(img)
    assert probs.shape == (1, 3) and torch.allclose(probs.sum(1), torch.ones(1))


def test_bad_data_folder_gives_clear_errors(tmp_path):
    (tmp_path / "only").mkdir()
    Image.new("RGB", (16, 16)).save(tmp_path / "only" / "a.png")
    res = run_job(_job(tmp_path, tmp_path / "x"))
    assert res.status == "failed" and "at least two artists" in res.message
    res = run_job(_job(tmp_path / "missing", tmp_path / "y"))
    assert res.status == "failed" and "does not exist" in res.message


def test_cli_transfer_writes_input_next_to_output(artist_folder, tmp_path, monkeypatch, capsys):
    from studio.cli import main
    from studio.core.export import read_state

    res = run_job(_job(artist_folder, tmp_path))
    out = tmp_path / "t.png"
    assert (
        main(
            [
                "transfer",
                res.outputs["card"],
                str(artist_folder / "bob" / "shape1.png"),
                "--artist",
                "cy",
                "-o",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    with Image.open(out) as im:
        assert im.size == (2 * 16 + 3 * 2, 16 + 2 * 2)  # input | output, tile padding 2
    state = read_state(out)
    assert state["labels"]["artist"] == "cy" and len(state["content"]) == 8
    assert main(["transfer", res.outputs["card"], "--seeds", "0-1", "-o", str(out), "--device", "cpu"]) == 1
    assert "already exists" in capsys.readouterr().err  # never replaced silently
    assert (
        main(["transfer", res.outputs["card"], "--seeds", "0-1", "-o", str(out), "--overwrite", "--device", "cpu"]) == 0
    )
    with Image.open(out) as im:
        assert im.size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)  # 2 contents × 3 artists
    assert (
        main(
            [
                "transfer",
                res.outputs["card"],
                str(artist_folder / "bob" / "shape1.png"),
                "--artist",
                "nobody",
                "-o",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 1
    )


def test_kid_during_training_skips_the_classifier_stage_and_survives_resume(artist_folder, tmp_path, tiny_features):
    def job(resume=False):
        return _job(
            artist_folder,
            tmp_path,
            resume=resume,
            out=tmp_path / "models" / "k",
            model_name="k",
            kid_every=5,
            kid_samples=8,
            kid_features=tiny_features,
        )

    token, _, cb = _cancel_at(12)
    assert run_job(job(), cb, token).status == "cancelled"
    events = []
    res = run_job(job(resume=True), events.append)
    assert res.ok, res.message
    assert [e.step for e in events if "kid@tiny-random" in e.metrics] == [15]  # step 10 is classifier training
    history = read_card(res.outputs["card"]).extra["loss_history"]
    assert [p[0] for p in history["kid@tiny-random"]] == [5, 15]
    steps = [p[0] for p in history["rec"]] if "rec" in history else [p[0] for p in next(iter(history.values()))]
    assert steps == sorted(steps)
