"""CAN training on the shared Trainer and the loaded model, on tiny networks and generated style folders:
losses move, resume is exact, Cancel and a NaN leave a resumable run, EMA is what is exported."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.errors import StudioError
from studio.core.jobs import CancelToken, run_job
from studio.core.store import load_model
from studio.models.can import train as can_train
from studio.models.can.config import CANConfig, TrainConfig
from studio.models.can.family import CANFamily
from studio.models.can.losses import generator_loss
from studio.models.can.networks import build_networks
from studio.models.can.train import CANTrainJob
from studio.train import RunFolder

TINY = dict(
    image_size=16,
    width=0.25,
    fc_dim=32,
    use_vgg=False,
    eval_samples=32,
    index_size=12,
    preview_every=5,
    checkpoint_every=5,
    batch=8,
    threads=0,
    device="cpu",
    lr_d=1e-3,
)


def make_styles(root: Path, per_style: int = 10, size: int = 16) -> Path:
    """Three generated 'styles': red discs, blue squares, green stripes, at random places and sizes."""
    rng = np.random.default_rng(0)
    for style in ("discs", "squares", "stripes"):
        folder = root / style
        folder.mkdir(parents=True)
        for i in range(per_style):
            img = Image.new("RGB", (size, size), "white")
            dr = ImageDraw.Draw(img)
            a, b = rng.integers(0, size // 2, 2)
            r = int(rng.integers(4, size // 2))
            if style == "discs":
                dr.ellipse([a, b, a + r, b + r], fill=(220, 30, 30))
            elif style == "squares":
                dr.rectangle([a, b, a + r, b + r], fill=(30, 30, 220))
            else:
                for y in range(int(a) % 4, size, 4):
                    dr.line([0, y, size, y], fill=(30, 160, 30), width=1)
            img.save(folder / f"{i}.png")
    (root / "LICENCE.txt").write_text("generated test shapes, CC0")
    return root


@pytest.fixture(scope="module")
def styles_dir(tmp_path_factory):
    return make_styles(tmp_path_factory.mktemp("can-data") / "styles")


@pytest.fixture(scope="module")
def trained(styles_dir, tmp_path_factory):
    """One short training run shared by the model tests: (job result, reporter history)."""
    base = tmp_path_factory.mktemp("can-run")
    job = CANFamily().make_job(
        "train",
        data=str(styles_dir),
        name="tiny-can",
        out=str(base / "tiny-can"),
        run_dir=str(base / "run"),
        steps=40,
        command="pytest",
        **TINY,
    )
    history = []
    result = run_job(job, history.append)
    assert result.ok, result.message + result.outputs.get("traceback", "")
    return result, history, base


def test_short_training_moves_both_losses(trained):
    result, history, _ = trained
    losses = [p.losses for p in history if p.losses]
    assert len(losses) == 40
    first_d = np.mean([step["d_loss"] for step in losses[:5]])
    last_d = np.mean([step["d_loss"] for step in losses[-5:]])
    first_g = np.mean([step["g_loss"] for step in losses[:5]])
    last_g = np.mean([step["g_loss"] for step in losses[-5:]])
    assert last_d < first_d - 0.05  # D learns the styles (style CE) and real vs fake
    assert abs(last_g - first_g) > 0.05
    assert any(p.preview is not None and p.preview.dtype == np.uint8 for p in history)
    assert any("diversity" in p.metrics for p in history)


def test_generator_steps_lower_its_loss_against_a_fixed_discriminator():
    torch.manual_seed(0)
    cfg = CANConfig(image_size=16, num_styles=3, width=0.25, fc_dim=32)
    g, d = build_networks(cfg)
    d.requires_grad_(False)
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    z = torch.randn(16, cfg.latent_dim)

    def loss():
        fl, fs = d(g(z))
        return generator_loss(fl, fs)["total"]

    before = loss().item()
    for _ in range(15):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < before


def test_card_records_training_and_metrics(trained):
    result, _, _ = trained
    card = read_card(result.outputs["card"])
    assert card.family == "can"
    assert card.labels == {"styles": ["discs", "squares", "stripes"]}
    assert card.training.steps == 40 and card.training.command == "pytest"
    assert "CC0" in card.training.licence and "30 images in 3 styles" in card.training.data
    for key in ("style_accuracy_heldout", "style_accuracy_chance", "entropy_samples_mean", "entropy_real_mean"):
        assert key in card.metrics
    assert card.metrics["entropy_max_logK"] == pytest.approx(math.log(3), abs=1e-3)


def test_saved_card_loads_through_the_store_and_renders(trained):
    result, _, _ = trained
    model = load_model(result.outputs["card"], device="cpu")
    states = [model.default_state("tiny-can", s) for s in range(3)]
    imgs = model.render(states)
    assert imgs.shape == (3, 3, 16, 16) and float(imgs.min()) >= 0 and float(imgs.max()) <= 1
    assert torch.equal(imgs, model.render(states))  # a state always renders the same image
    post = model.style_posterior(states[0])
    assert post.shape == (3,) and post.sum() == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= model.ambiguity(states[0]) <= math.log(3) + 1e-6
    near = model.nearest_training_images(states[0], k=4)
    assert len(near) == 4 and near[0]["image"].shape == (16, 16, 3)
    assert near[0]["distance"] <= near[-1]["distance"]
    assert {c.kind for c in model.controls()} >= {"seed", "latent", "direction"}


def test_steering_towards_a_style_raises_its_posterior(trained):
    result, _, _ = trained
    model = load_model(result.outputs["card"], device="cpu")
    state = model.default_state("tiny-can", 5)
    state["truncation"] = 0.8
    state["directions"] = {"pc0": 1.0}
    post = model.style_posterior(state)
    k = int(np.argmin(post))
    up = model.steer(state, k, amount=1.0, towards=True)
    assert model.style_posterior(up)[k] > post[k]
    down = model.steer(state, int(np.argmax(post)), amount=1.0, towards=False)
    assert model.style_posterior(down)[int(np.argmax(post))] < post.max()
    # the result is an ordinary state: JSON-able z_edits over the same seed, original untouched
    assert up["seed"] == 5 and len(up["z_edits"]) == model.latent_dim and state["z_edits"] == {}
    import json

    json.dumps(up)
    with pytest.raises(StudioError, match="does not exist"):
        model.steer(state, 9)


def test_sample_sorted_orders_by_ambiguity(trained):
    result, _, _ = trained
    model = load_model(result.outputs["card"], device="cpu")
    amb = model.sample_sorted(6, by="ambiguity", pool=24)
    typ = model.sample_sorted(6, by="typicality", pool=24)
    a, t = model.ambiguities(amb), model.ambiguities(typ)
    assert len(amb) == 6 and np.all(np.diff(a) <= 1e-6) and np.all(np.diff(t) >= -1e-6)
    assert a[0] >= t[0]
    with pytest.raises(StudioError):
        model.sample_sorted(3, by="colour")


def test_resume_continues_the_step_count(styles_dir, tmp_path):
    opts = dict(data=str(styles_dir), name="r", out=str(tmp_path / "r"), run_dir=str(tmp_path / "run"), **TINY)
    first = run_job(CANFamily().make_job("train", steps=6, command="studio train can A", **opts))
    assert first.ok and first.outputs["step"] == 6
    history = []
    second = run_job(
        CANFamily().make_job("train", steps=10, resume=True, command="studio train can B", **opts), history.append
    )
    assert second.ok, second.message
    steps = [p.step for p in history if p.losses]
    assert steps[0] == 7 and steps[-1] == 10
    card = read_card(second.outputs["card"])
    assert card.training.steps == 10 and card.training.command == "studio train can A"
    assert card.extra["commands"] == ["studio train can A", "studio train can B"]
    # starting again over an existing run without --resume is refused, not overwritten
    again = run_job(CANFamily().make_job("train", steps=10, **opts))
    assert again.status == "failed" and "--resume" in again.message


def test_cancel_saves_a_usable_model(styles_dir, tmp_path):
    cancel = CancelToken()

    def cb(p):
        if p.step >= 3:
            cancel.cancel()

    job = CANFamily().make_job(
        "train",
        data=str(styles_dir),
        name="c",
        out=str(tmp_path / "c"),
        run_dir=str(tmp_path / "run"),
        steps=50,
        **TINY,
    )
    res = run_job(job, cb, cancel)
    assert res.status == "cancelled" and Path(res.outputs["card"]).exists()
    assert read_card(res.outputs["card"]).training.steps == 3
    assert load_model(res.outputs["card"], device="cpu").render([{"seed": 1}]).shape == (1, 3, 16, 16)
    assert res.outputs["step"] == 3 and RunFolder(tmp_path / "run").load()[1]["step"] == 3
    events = []
    more = run_job(
        CANFamily().make_job(
            "train",
            data=str(styles_dir),
            name="c",
            out=str(tmp_path / "c"),
            run_dir=str(tmp_path / "run"),
            steps=5,
            resume=True,
            **TINY,
        ),
        events.append,
    )
    assert more.ok, more.message
    assert [e.step for e in events if e.losses] == [4, 5]


def test_bad_data_folders_get_clear_errors(tmp_path):
    def fails(path):
        job = CANFamily().make_job(
            "train", data=str(path), out=str(tmp_path / "m"), run_dir=str(tmp_path / "run"), steps=2, **TINY
        )
        res = run_job(job)
        assert res.status == "failed"
        return res.message

    assert "does not exist" in fails(tmp_path / "nope")
    one = tmp_path / "one"
    (one / "only").mkdir(parents=True)
    Image.new("RGB", (16, 16)).save(one / "only" / "a.png")
    assert "at least two style subfolders" in fails(one)
    broken = tmp_path / "broken"
    (broken / "a").mkdir(parents=True)
    (broken / "b").mkdir(parents=True)
    (broken / "a" / "x.png").write_bytes(b"not a png")
    (broken / "b" / "y.png").write_bytes(b"nor this")
    assert "could be read" in fails(broken)
    assert not (tmp_path / "m.json").exists()


def test_time_limit_stops_cleanly_and_can_be_resumed(styles_dir, tmp_path, monkeypatch):
    import time

    import studio.train.trainer as trainer_module

    class Clock:  # the Trainer's clock: real time, until three steps are done; then an hour later
        offset = 0.0

        def __getattr__(self, name):
            return getattr(time, name)

        def perf_counter(self):
            return time.perf_counter() + self.offset

    clock, steps_done = Clock(), []
    real_step = can_train.CANTask.train_step

    def step_then_tick(self, ctx):
        losses = real_step(self, ctx)
        steps_done.append(ctx.step)
        if len(steps_done) == 3:
            clock.offset = 3600.0
        return losses

    monkeypatch.setattr(trainer_module, "time", clock)
    monkeypatch.setattr(can_train.CANTask, "train_step", step_then_tick)
    opts = dict(data=str(styles_dir), name="t", out=str(tmp_path / "t"), run_dir=str(tmp_path / "run"), **TINY)
    res = run_job(CANFamily().make_job("train", steps=50, time_limit=1.0, **opts))  # one minute
    assert res.ok and res.outputs["step"] == 3 and res.outputs["status"] == "time_limit"
    monkeypatch.undo()
    assert read_card(res.outputs["card"]).training.steps == res.outputs["step"]
    more = run_job(CANFamily().make_job("train", steps=res.outputs["step"] + 2, resume=True, **opts))
    assert more.ok and more.outputs["step"] == res.outputs["step"] + 2


def test_kid_every_n_steps_is_plotted_and_kept_in_the_card(styles_dir, tmp_path, tiny_features):
    job = CANFamily().make_job(
        "train",
        data=str(styles_dir),
        name="k",
        out=str(tmp_path / "k"),
        run_dir=str(tmp_path / "run"),
        steps=6,
        kid_every=3,
        kid_samples=16,
        kid_features=tiny_features,
        **TINY,
    )
    events = []
    res = run_job(job, events.append)
    assert res.ok, res.message
    assert [e.step for e in events if "kid@tiny-random" in e.metrics] == [3, 6]
    history = read_card(res.outputs["card"]).extra["loss_history"]
    assert [p[0] for p in history["kid@tiny-random"]] == [3, 6] and "g_loss" in history


def test_augmented_training_runs_and_a_bad_policy_is_a_clear_error(styles_dir, tmp_path):
    job = CANFamily().make_job(
        "train",
        data=str(styles_dir),
        name="a",
        out=str(tmp_path / "a"),
        run_dir=str(tmp_path / "run"),
        steps=3,
        augment="translation,cutout",
        **TINY,
    )
    res = run_job(job)
    assert res.ok, res.message
    assert read_card(res.outputs["card"]).extra["train"]["augment"] == "translation,cutout"
    with pytest.raises(StudioError, match="unknown augmentation"):
        TrainConfig(augment="rotate")


def _opts(styles_dir, tmp_path, **kw):
    opts = dict(
        TINY,
        data=str(styles_dir),
        name="m",
        out=str(tmp_path / "m"),
        run_dir=str(tmp_path / "run"),
        command="studio train can",
    )
    opts.update(kw)
    return opts


def _losses(events):
    return {e.step: e.losses for e in events if e.losses}


@pytest.mark.parametrize("arch", ["report", "dcgan"])
def test_resume_is_exact(styles_dir, tmp_path, arch):
    """The losses of steps 7..10 of a run stopped at 6 and resumed equal those of a straight run (fp32, 1
    thread); previews and checkpoints at different steps in the two runs change nothing."""
    kw = {"threads": 1, "arch": arch, "image_size": 32 if arch == "dcgan" else 16, "augment": "translation,cutout"}
    straight = []
    assert run_job(CANTrainJob(**_opts(styles_dir, tmp_path / "a", steps=10, **kw)), straight.append).ok
    assert run_job(CANTrainJob(**_opts(styles_dir, tmp_path / "b", steps=6, checkpoint_every=4, **kw))).ok
    resumed = []
    res = run_job(CANTrainJob(**_opts(styles_dir, tmp_path / "b", steps=10, resume=True, **kw)), resumed.append)
    assert res.ok, res.message
    a, b = _losses(straight), _losses(resumed)
    assert sorted(b) == [7, 8, 9, 10]
    for step in b:
        torch.testing.assert_close(b[step], a[step], rtol=0, atol=1e-6)
    wa = load_checkpoint(str(tmp_path / "a" / "m"))[0]
    wb = load_checkpoint(str(tmp_path / "b" / "m"))[0]
    for k in wa:
        if k.startswith("G."):
            torch.testing.assert_close(wb[k], wa[k], rtol=0, atol=1e-6)


def test_an_injected_nan_stops_the_run_and_leaves_it_resumable(styles_dir, tmp_path, monkeypatch):
    real = can_train.discriminator_loss
    calls = {"n": 0}

    def nan_at_step_7(*args, **kw):
        out = real(*args, **kw)
        calls["n"] += 1
        if calls["n"] == 7:
            out["total"] = out["total"] * float("nan")
        return out

    monkeypatch.setattr(can_train, "discriminator_loss", nan_at_step_7)
    res = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=20, checkpoint_every=5)))
    assert res.status == "failed"
    assert "diverged" in res.message and "d_loss" in res.message and "step 7" in res.message
    assert not (tmp_path / "m.json").exists()  # nothing exported from a diverged run
    monkeypatch.setattr(can_train, "discriminator_loss", real)
    events = []
    more = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=8, checkpoint_every=5, resume=True)), events.append)
    assert more.ok, more.message
    assert [e.step for e in events if e.losses] == [6, 7, 8]  # from the checkpoint at step 5


def test_ema_generator_is_what_is_exported(styles_dir, tmp_path):
    res = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=6, ema=0.9)))
    assert res.ok, res.message
    exported, card = load_checkpoint(res.outputs["card"])
    state = RunFolder(tmp_path / "run").load()[0]
    g_keys = [k for k in exported if k.startswith("G.")]
    assert g_keys
    assert any(not torch.equal(exported[k], state["net." + k]) for k in g_keys if k.endswith("weight"))
    for k in g_keys:
        assert torch.equal(exported[k], state["ema." + k]), k
    for k in (k for k in exported if k.startswith("D.")):  # D is exported as trained
        assert torch.equal(exported[k], state["net." + k]), k
    assert card.extra["training_run"]["ema"]["decay"] == 0.9 and "EMA" in card.training.notes
    assert load_model(res.outputs["card"], device="cpu").render([{"seed": 2}]).shape == (1, 3, 16, 16)


def test_resume_keeps_the_runs_architecture_and_refuses_a_contradiction(styles_dir, tmp_path):
    assert run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=2, kernel=3))).ok
    # an option left at its default gives way to the run's value
    events = []
    more = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=3, resume=True, kernel=5)), events.append)
    assert more.ok, more.message
    assert read_card(more.outputs["card"]).config["kernel"] == 3
    assert any("run's architecture" in (e.message or "") for e in events)
    clash = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=4, resume=True, kernel=7)))
    assert clash.status == "failed" and "--kernel 7" in clash.message and "--run-dir" in clash.message


def test_a_run_folder_of_the_old_loop_is_refused_clearly(styles_dir, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "state.json").write_text("{}")
    res = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=2, resume=True)))
    assert res.status == "failed" and "older GAN Studio" in res.message


def test_cli_flags_are_the_shared_trainers(styles_dir, tmp_path):
    import argparse

    p = argparse.ArgumentParser()
    CANFamily().add_job_arguments("train", p)
    args = p.parse_args(
        [
            "--data",
            str(styles_dir),
            "--name",
            "cli",
            "--save-every",
            "7",
            "--time-limit",
            "2",
            "--precision",
            "bf16",
            "--ema",
            "0.99",
            "--ratio",
            "1",
            "--run-dir",
            str(tmp_path / "r"),
        ]
    )
    job = CANFamily().make_job("train", **vars(args))
    o = job.options
    assert (o.checkpoint_every, o.time_limit, o.precision, o.ema, o.steps, o.batch) == (7, 2.0, "bf16", 0.99, 2000, 64)
    assert (o.preview_every, o.kid_every) == (50, 500)  # CAN's defaults
    assert job.task.options.name == "cli" and job.task.options.recipe.ratio == 1
    assert job.task.run_path() == tmp_path / "r"
    defaults = p.parse_args(["--data", "d"])
    assert defaults.checkpoint_every == 200 and defaults.time_limit == 0.0


def test_bf16_training_runs(styles_dir, tmp_path):
    res = run_job(CANTrainJob(**_opts(styles_dir, tmp_path, steps=3, precision="bf16")))
    assert res.ok, res.message
    assert read_card(res.outputs["card"]).extra["training_run"]["precision"] == "bf16"


def test_collapse_warning_is_a_status_line_and_diversity_goes_in_the_card(styles_dir, tmp_path):
    events = []
    res = run_job(
        CANTrainJob(
            **_opts(styles_dir, tmp_path, steps=3, preview_every=1, collapse_threshold=100.0, collapse_warmup=2)
        ),
        events.append,
    )
    assert res.ok, res.message
    warned = [e.message for e in events if "possible mode collapse" in (e.message or "")]
    assert warned and "at step 2 " in warned[0]  # not before the warm-up
    card = read_card(res.outputs["card"])
    assert card.metrics["diversity"] > 0 and card.extra["diversity_features"].startswith("pixels")
