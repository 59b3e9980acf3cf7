"""The CSGAN training job end to end on tiny nets and generated images: losses move, resume continues
the step count, Cancel saves a loadable model, the card loads through the store and renders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.checkpoint import read_card
from studio.core.errors import CheckpointError
from studio.core.jobs import CancelToken, run_job
from studio.core.store import load_model
from studio.models.csgan.family import CSGANFamily
from studio.models.csgan.train import CSGANTrainJob
from studio.train import RunFolder, TrainContext

TINY = dict(
    width=0.0625,
    batch=8,
    device="cpu",
    preview_every=5,
    checkpoint_every=0,
    pca_samples=128,
    pca_k=4,
    bn_samples=32,
    licence="test-licence",
    threads=0,
)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def _job(blobs, tmp_path, **kw):
    opts = dict(
        TINY,
        data=str(blobs),
        out=str(tmp_path / "out" / "tiny"),
        run_dir=str(tmp_path / "run"),
        command="studio train csgan --data blobs",
    )
    opts.update(kw)
    return CSGANTrainJob(**opts)


def test_short_run_losses_move_and_card_is_complete(blobs, tmp_path):
    events = []
    job = _job(blobs, tmp_path, steps=20)
    g0 = {k: v.clone() for k, v in job_g_init(job).items()}
    res = run_job(job, events.append)
    assert res.ok, res.message
    steps = [e for e in events if e.losses]
    assert [e.step for e in steps] == list(range(1, 21))
    d = np.array([e.losses["d"] for e in steps])
    g = np.array([e.losses["g"] for e in steps])
    assert np.isfinite(d).all() and np.isfinite(g).all()
    assert d.std() > 1e-4 and g.std() > 1e-4  # the losses move
    previews = [e.preview for e in events if e.preview is not None]
    assert previews and previews[0].dtype == np.uint8 and previews[0].ndim == 3
    card = read_card(res.outputs["card"])
    assert card.family == "csgan" and card.training.steps == 20
    assert card.training.licence == "test-licence" and card.training.command.startswith("studio train")
    assert card.training.wall_time_s > 0 and "width multiplier" in card.training.notes
    model = load_model(res.outputs["card"], device="cpu")
    gen = model.generator.state_dict()
    assert any(not torch.equal(gen[k], g0[k]) for k in g0 if k.endswith("weight"))


def job_g_init(job):
    """Initial G weights for a job (same seed ⇒ same init as the job builds)."""
    from studio.models.csgan.networks import CSGANConfig, Generator

    torch.manual_seed(job.options.seed)
    return Generator(CSGANConfig(job.task.options.arch, job.task.options.width)).state_dict()


def test_resume_continues_the_step_count(blobs, tmp_path):
    first = run_job(_job(blobs, tmp_path, steps=6))
    assert first.ok
    events = []
    second = run_job(_job(blobs, tmp_path, steps=10, resume=True), events.append)
    assert second.ok, second.message
    assert [e.step for e in events if e.losses] == [7, 8, 9, 10]
    assert read_card(second.outputs["card"]).training.steps == 10
    run = RunFolder(tmp_path / "run").load()[1]
    assert run["step"] == 10 and run["optimizers"]["G"]["param_groups"][0]["betas"] == [0.5, 0.999]


def test_resume_is_exact(blobs, tmp_path):
    """6+4 steps with a resume in between give the same weights as 10 straight steps."""
    straight = run_job(_job(blobs, tmp_path / "a", steps=10))
    run_job(_job(blobs, tmp_path / "b", steps=6))
    resumed = run_job(_job(blobs, tmp_path / "b", steps=10, resume=True))
    a = load_model(straight.outputs["card"], device="cpu").generator.state_dict()
    b = load_model(resumed.outputs["card"], device="cpu").generator.state_dict()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k


def test_cancel_saves_a_loadable_model(blobs, tmp_path):
    token = CancelToken()

    def cb(p):
        if p.step >= 3:
            token.cancel()

    res = run_job(_job(blobs, tmp_path, steps=500), cb, token)
    assert res.status == "cancelled"
    card = read_card(res.outputs["card"])
    assert card.training.steps == 3
    model = load_model(res.outputs["card"], device="cpu")
    img = model.render([model.default_state("tiny", 1)])
    assert img.shape == (1, 3, 64, 64)
    # the run state is resumable from the cancelled step
    events = []
    assert run_job(_job(blobs, tmp_path, steps=5, resume=True), events.append).ok
    assert [e.step for e in events if e.losses] == [4, 5]


def test_render_seeds_and_directions(blobs, tmp_path):
    res = run_job(_job(blobs, tmp_path, steps=4))
    model = load_model(res.outputs["card"], device="cpu")
    assert model.pca_directions is not None and model.pca_directions.shape == (4, 100)
    kinds = {c.kind for c in model.controls()}
    assert {"seed", "direction", "latent"} <= kinds
    s0, s1 = model.default_state("tiny", 0), model.default_state("tiny", 1)
    moved = dict(s0, directions={"pc0": 3.0})
    imgs = model.render([s0, s1, moved, s0])
    assert imgs.shape == (4, 3, 64, 64) and imgs.min() >= 0 and imgs.max() <= 1
    assert (imgs[0] - imgs[1]).abs().max() > 1e-3  # different seeds, different images
    assert (imgs[0] - imgs[2]).abs().max() > 1e-3  # a direction slider changes the image
    assert torch.equal(imgs[0], imgs[3])  # rendering is deterministic


def test_d_threshold_and_lr_decay_inside_the_job(blobs, tmp_path):
    job = _job(blobs, tmp_path, steps=2, d_threshold=1e9)
    task = job.task
    ctx = TrainContext.single_process(job.options)
    task.setup(ctx, None)
    task.optimizers("train")
    d_before = {k: v.detach().clone() for k, v in task.D.named_parameters()}
    ctx.step = 1000  # the first decay boundary
    out = task.train_step(ctx)
    assert out["d_step"] == 0.0
    d_after = dict(task.D.named_parameters())
    assert all(torch.equal(d_before[k], d_after[k]) for k in d_before)  # D skipped: loss below threshold
    assert task.opt_g.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.9)
    assert task.opt_d.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.85)
    task.options.recipe.d_threshold = -1.0
    assert task.train_step(ctx)["d_step"] == 1.0


def test_bad_data_folder_fails_clearly(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_job(CSGANTrainJob(**dict(TINY, data=str(empty), steps=2, run_dir=str(tmp_path / "r"))))
    assert res.status == "failed" and "no images" in res.message
    res = run_job(CSGANTrainJob(**dict(TINY, data=str(tmp_path / "missing"), steps=2)))
    assert res.status == "failed" and "does not exist" in res.message


def test_family_rejects_mismatched_tensors(blobs, tmp_path):
    from studio.core.checkpoint import load_checkpoint

    res = run_job(_job(blobs, tmp_path, steps=2))
    tensors, card = load_checkpoint(res.outputs["card"])
    card.config["width"] = 0.125
    with pytest.raises(CheckpointError, match="do not fit"):
        CSGANFamily().load(tensors, card, torch.device("cpu"))
    card.config = {"arch": "nope"}
    with pytest.raises(CheckpointError, match="config is invalid"):
        CSGANFamily().load(tensors, card, torch.device("cpu"))


def test_cli_parses_train_options():
    import argparse

    p = argparse.ArgumentParser()
    CSGANFamily().add_job_arguments("train", p)
    args = p.parse_args(
        [
            "--data",
            "d",
            "--arch",
            "lsgan112",
            "--steps",
            "5",
            "--resume",
            "--precision",
            "bf16",
            "--run-dir",
            "r",
            "--preview-every",
            "3",
        ]
    )
    job = CSGANFamily().make_job("train", **vars(args))
    assert job.task.options.arch == "lsgan112" and job.options.resume and job.options.preview_every == 3
    assert job.options.precision == "bf16" and job.options.run_dir == "r"


def test_kid_every_n_steps_is_reported_and_kept_in_the_card(blobs, tmp_path, tiny_features):
    events = []
    res = run_job(
        _job(blobs, tmp_path, steps=6, kid_every=3, kid_samples=16, kid_features=tiny_features), events.append
    )
    assert res.ok, res.message
    scored = [e.step for e in events if "kid@tiny-random" in e.metrics]
    assert scored == [3, 6]
    card = read_card(res.outputs["card"])
    history = card.extra["loss_history"]
    assert [p[0] for p in history["kid@tiny-random"]] == [3, 6]
    assert {"g", "d"} <= set(history)


def test_augmented_training_runs_and_bad_policy_is_a_clear_error(blobs, tmp_path):
    res = run_job(_job(blobs, tmp_path, steps=3, augment="color,translation,cutout"))
    assert res.ok, res.message
    bad = run_job(_job(blobs, tmp_path / "b", steps=3, augment="spin"))
    assert bad.status == "failed" and "unknown augmentation" in bad.message


def test_bce_loss_option_trains(blobs, tmp_path):
    res = run_job(_job(blobs, tmp_path, steps=3, loss="bce", d_threshold=0.0, init="dcgan"))
    assert res.ok, res.message
    assert read_card(res.outputs["card"]).extra["recipe"]["loss"] == "bce"
