"""CSGAN §4's LSGAN schedule (the every-1000-iterations multipliers become ×0.95 G / ×0.9 D after 16 epochs)
and the discriminator's optional final sigmoid (the authors' code)."""

from __future__ import annotations

import pytest
import torch

from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.models.csgan.recipe import d_scores, late_decay_on, lr_at, lr_at_step, switch_step
from studio.models.csgan.train import CSGANTrainJob
from studio.train import RunFolder, TrainContext

BASE = 2e-4
TINY = dict(width=0.0625, batch=8, device="cpu", preview_every=0, checkpoint_every=0, pca_samples=16, pca_k=2)
TINY.update(bn_samples=8, threads=1)


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def _job(blobs, tmp_path, **kw):
    opts = dict(TINY, data=str(blobs), out=str(tmp_path / "out" / "m"), run_dir=str(tmp_path / "run"), command="t")
    opts.update(kw)
    return CSGANTrainJob(**opts)


def test_lr_at_step_changes_multiplier_after_the_switch():
    # the plain schedule is unchanged without a switch
    for step in (0, 999, 1000, 4321):
        assert lr_at_step(step, BASE, 0.9, 1000) == pytest.approx(lr_at(step, BASE, 0.9, 1000))
    # switch at 2500: the decays at 1000 and 2000 are early (×0.9), those at 3000 and 4000 late (×0.95)
    assert lr_at_step(2999, BASE, 0.9, 1000, 2500, 0.95) == pytest.approx(BASE * 0.9**2)
    assert lr_at_step(3000, BASE, 0.9, 1000, 2500, 0.95) == pytest.approx(BASE * 0.9**2 * 0.95)
    assert lr_at_step(4000, BASE, 0.85, 1000, 2500, 0.9) == pytest.approx(BASE * 0.85**2 * 0.9**2)
    # a decay exactly at the switch iteration is still an early one
    assert lr_at_step(2000, BASE, 0.9, 1000, 2000, 0.95) == pytest.approx(BASE * 0.9**2)
    assert lr_at_step(3000, BASE, 0.9, 1000, 2000, 0.95) == pytest.approx(BASE * 0.9**2 * 0.95)


def test_switch_step_is_sixteen_epochs_of_the_data():
    assert switch_step(16, 8, 4) == 32
    assert switch_step(16, 40, 8) == 80
    assert switch_step(16, 126_227, 128) == 15_779  # LSUN church-outdoor at the paper's batch: 986.1 per epoch
    assert switch_step(0.5, 5, 2) == 2  # 1.25 iterations → the second one completes it


def test_late_decay_is_on_by_default_for_lsgan112_only():
    assert late_decay_on("auto", "lsgan112") and not late_decay_on("auto", "dcgan64")
    assert late_decay_on("on", "dcgan64") and not late_decay_on("off", "lsgan112")
    with pytest.raises(ValueError):
        late_decay_on("maybe", "lsgan112")


def test_lsgan112_rates_at_the_epoch_boundary_inside_the_job(blobs, tmp_path):
    """40 images at batch 8 are 5 iterations an epoch, so 16 epochs end at step 80; with a decay every 20
    iterations the decays at 20, 40, 60, 80 use ×0.9 / ×0.85 and the one at 100 uses ×0.95 / ×0.9."""
    job = _job(blobs, tmp_path, arch="lsgan112", decay_every=20, steps=2)
    task, ctx = job.task, TrainContext.single_process(job.options)
    task.setup(ctx, None)
    task.optimizers("train")
    assert task.late_switch == 80 and task.state()["late_decay_switch_step"] == 80
    assert task.learning_rates(99) == pytest.approx((BASE * 0.9**4, BASE * 0.85**4))
    assert task.learning_rates(100) == pytest.approx((BASE * 0.9**4 * 0.95, BASE * 0.85**4 * 0.9))
    ctx.step = 100
    task.train_step(ctx)
    assert task.opt_g.param_groups[0]["lr"] == pytest.approx(BASE * 0.9**4 * 0.95)
    assert task.opt_d.param_groups[0]["lr"] == pytest.approx(BASE * 0.85**4 * 0.9)
    options = task.training_options()["lr_schedule"]
    assert options["late_decay_switch_step"] == 80 and options["late_multipliers"]["G"] == 0.95


@pytest.mark.parametrize("arch,late", [("dcgan64", "auto"), ("lsgan112", "off")])
def test_without_the_late_schedule_the_decay_stays_plain(blobs, tmp_path, arch, late):
    job = _job(blobs, tmp_path, arch=arch, late_decay=late, decay_every=20, steps=2)
    job.task.setup(TrainContext.single_process(job.options), None)
    assert job.task.late_switch is None
    assert job.task.learning_rates(100) == pytest.approx((BASE * 0.9**5, BASE * 0.85**5))


def test_the_schedule_is_exact_at_resume_and_keeps_the_runs_switch_step(blobs, tmp_path):
    """Switch after 0.4 epochs (2 iterations of 5 an epoch), a decay every iteration: the rates of a run
    resumed at step 3 equal an uninterrupted run's at every step; resuming with another batch (which
    would move the switch) keeps the run's switch step and says so."""
    kw = dict(arch="lsgan112", decay_every=1, late_after_epochs=0.4)

    def rates(events):
        return {e.step: e.metrics["lr_g"] for e in events if e.losses}

    straight: list = []
    assert run_job(_job(blobs, tmp_path / "a", steps=5, **kw), straight.append).ok
    first: list = []
    assert run_job(_job(blobs, tmp_path / "b", steps=3, **kw), first.append).ok
    assert RunFolder(tmp_path / "b" / "run").load()[1]["task"]["late_decay_switch_step"] == 2
    second: list = []
    assert run_job(_job(blobs, tmp_path / "b", steps=5, resume=True, **kw), second.append).ok
    assert rates(first) | rates(second) == pytest.approx(rates(straight))
    expected = [BASE * 0.9**2 * 0.95 ** (s - 1 - 2) if s - 1 > 2 else BASE * 0.9 ** (s - 1) for s in range(1, 6)]
    assert [rates(straight)[s] for s in range(1, 6)] == pytest.approx(expected)
    moved: list = []
    res = run_job(_job(blobs, tmp_path / "b", steps=6, resume=True, **{**kw, "batch": 2}), moved.append)
    assert res.ok, res.message
    assert any("change at step 2, as when this run started" in (e.message or "") for e in moved)


def test_discriminator_sigmoid_option(blobs, tmp_path):
    raw = torch.tensor([-30.0, 0.0, 30.0])
    assert torch.equal(d_scores(raw, "linear"), raw)
    assert d_scores(raw, "sigmoid").tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)
    for bad in (dict(loss="bce"), dict(discriminator="projected")):
        with pytest.raises(StudioError, match="sigmoid"):
            _job(blobs, tmp_path, d_output="sigmoid", **bad).task.options.validate(8)
    job = _job(blobs, tmp_path, d_output="sigmoid", d_threshold=0.0, steps=1)
    task, ctx = job.task, TrainContext.single_process(job.options)
    task.setup(ctx, None)
    task.optimizers("train")
    out = task.train_step(ctx)
    # every score is in (0, 1): with labels in [0, 1.12] the two MSE terms stay below 1.12² + 1
    assert 0.0 < out["d"] < 1.12**2 + 1 and out["d_step"] == 1.0
    assert task.config()["d_output"] == "sigmoid"
    assert task.training_options()["discriminator"]["output"] == "sigmoid"


def test_a_run_keeps_its_discriminator_output(blobs, tmp_path):
    assert run_job(_job(blobs, tmp_path, d_output="sigmoid", steps=1)).ok
    refused = run_job(_job(blobs, tmp_path, steps=2, resume=True))
    assert refused.status == "failed" and "--d-output sigmoid" in refused.message
    assert run_job(_job(blobs, tmp_path, d_output="sigmoid", steps=2, resume=True)).ok
