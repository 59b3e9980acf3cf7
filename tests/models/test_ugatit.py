"""U-GAT-IT: shapes, AdaLIN ρ clipping, CAM outputs, training on the shared Trainer (exact resume, Cancel,
NaN stop, EMA), attention preview, config errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_cyclegan import _interrupted_losses, make_domains  # same folder (pytest prepends it to sys.path)

from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.errors import StudioError
from studio.core.jobs import CancelToken, run_job
from studio.core.store import load_model
from studio.models.ugatit.config import UGATITConfig
from studio.models.ugatit.family import UGATITFamily, UGATITModel
from studio.models.ugatit.networks import LIN, AdaLIN, UGATITDiscriminator, UGATITGenerator
from studio.train import RunFolder, TrainContext


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))


def tiny_cfg(size=16, light=True, **kw):
    return UGATITConfig.for_size(size, ngf=4, ndf=4, n_res=1, light=light, **kw)


def tiny_job(a, b, tmp_path, steps=4, **kw):
    opts = dict(
        a=str(a),
        b=str(b),
        size=16,
        steps=steps,
        batch=2,
        out=str(tmp_path / "out" / "ug"),
        run_dir=str(tmp_path / "run"),
        device="cpu",
        preview_every=2,
        checkpoint_every=2,
        threads=1,
        ngf=4,
        ndf=4,
        n_res=1,
        light=True,
        command="pytest",
    )
    opts.update(kw)
    return UGATITFamily().make_job("train", **opts)


@pytest.mark.parametrize("light", [True, False])
@pytest.mark.parametrize("h,w", [(16, 16), (19, 33), (9, 14)])
def test_generator_shapes_for_odd_sizes(light, h, w):
    g = UGATITGenerator(tiny_cfg(16, light))
    with torch.no_grad():
        y, cam_logit, heatmap = g(torch.randn(2, 3, h, w))
    assert y.shape == (2, 3, h, w) and cam_logit.shape == (2, 2)
    assert heatmap.shape[:2] == (2, 1) and float(y.abs().max()) <= 1.0


def test_discriminators_return_patch_and_cam_logits():
    cfg = tiny_cfg(32)
    for n in (cfg.global_layers, cfg.local_layers):
        logit, cam_logit, heatmap = UGATITDiscriminator(4, n)(torch.randn(2, 3, 32, 32))
        assert logit.shape[:2] == (2, 1) and logit.shape[-1] >= 1 and cam_logit.shape == (2, 2)


def test_adalin_interpolates_instance_and_layer_norm():
    x = torch.randn(2, 4, 5, 5) * 3 + 1
    norm = AdaLIN(4)
    ones, zeros = torch.ones(2, 4), torch.zeros(2, 4)
    with torch.no_grad():
        norm.rho.fill_(1.0)
        inst = norm(x, ones, zeros)
        assert torch.allclose(inst.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5)
        norm.rho.fill_(0.0)
        layer = norm(x, ones, zeros)
        assert torch.allclose(layer.mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-5)


def test_rho_stays_in_unit_interval_after_optimiser_steps(tmp_path):
    a, b = make_domains(tmp_path / "data", size=20)
    job = tiny_job(a, b, tmp_path, lr=0.5)  # a huge lr pushes ρ far outside [0, 1] without the clip
    task = job.task
    ctx = TrainContext.single_process(job.options)
    task.setup(ctx, None)
    task.optimizers("train")
    rhos = [m.rho for g in (task.nets["G_ab"], task.nets["G_ba"]) for m in g.modules() if isinstance(m, (AdaLIN, LIN))]
    with torch.no_grad():
        for i, r in enumerate(rhos):
            r.fill_(0.999 if i % 2 else 0.001)
    gen = torch.Generator().manual_seed(0)
    before = [r.detach().clone() for r in rhos]
    for _step in range(3):
        x, y = torch.rand(2, 3, 16, 16, generator=gen) * 2 - 1, torch.rand(2, 3, 16, 16, generator=gen) * 2 - 1
        task.step(ctx, x, y)
    assert any(not torch.equal(r0, r) for r0, r in zip(before, rhos))  # ρ did get updated
    for r in rhos:
        assert float(r.detach().min()) >= 0.0 and float(r.detach().max()) <= 1.0
    # and the clip was needed
    assert any(float(r.detach().min()) == 0.0 or float(r.detach().max()) == 1.0 for r in rhos)


def test_config_defaults_and_errors():
    cfg = UGATITConfig.for_size(256)
    assert (
        cfg.global_layers,
        cfg.local_layers,
        cfg.cycle_weight,
        cfg.identity_weight,
        cfg.cam_weight,
        cfg.lr,
        cfg.weight_decay,
    ) == (7, 5, 10.0, 10.0, 1000.0, 1e-4, 1e-4)
    assert UGATITConfig.for_size(64).global_layers == 6  # capped so the last map is at least 2×2
    with pytest.raises(StudioError, match="too deep"):
        UGATITConfig.for_size(64, global_layers=7)
    with pytest.raises(StudioError, match="multiple of 4"):
        UGATITConfig.for_size(30)


def test_short_run_moves_losses_resumes_and_loads(tmp_path):
    torch.manual_seed(0)
    a, b = make_domains(tmp_path / "data", size=20)
    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=12, lr=2e-3), events.append)
    assert res.ok, res.message
    losses = [e.losses for e in events if e.losses]
    assert len(losses) == 12 and set(losses[0]) == {"G_adv", "cycle", "identity", "cam", "D"}
    assert np.mean([step["cam"] for step in losses[-4:]]) < np.mean([step["cam"] for step in losses[:2]])
    previews = [e.preview for e in events if e.preview is not None]
    assert previews and previews[0].shape[0] > previews[0].shape[1]  # 8 rows incl. attention maps, 4 columns

    events = []
    res = run_job(tiny_job(a, b, tmp_path, steps=14, resume=True, lr=2e-3), events.append)
    assert res.ok, res.message
    assert [e.step for e in events if e.losses] == [13, 14]
    assert read_card(res.outputs["card"]).training.steps == 14

    model = load_model(res.outputs["card"], "cpu")
    assert isinstance(model, UGATITModel)
    img = torch.rand(3, 23, 30)
    assert model.translate(img, "a2b").shape == img.shape
    assert model.attention(img, "b2a").shape == img.shape
    tiled = model.translate(img, "a2b", tile=16, overlap=8)
    assert tiled.shape == img.shape and float((tiled - model.translate(img, "a2b")).abs().mean()) < 0.25


@pytest.mark.parametrize("augment", [None, "translation,cutout"])
def test_resume_is_exact_with_lr_decay(tmp_path, augment):
    """Stopped at step 3 and resumed: steps 4..6 (lr decaying from step 3) lose exactly what an
    uninterrupted run loses, also with --augment (its draws come from the run's saved RNG)."""
    a, b = make_domains(tmp_path / "data", size=20)

    def job(root, **kw):
        return tiny_job(a, b, root, steps=6, decay_start=0.5, lr=2e-3, augment=augment, **kw)

    events = []
    assert run_job(job(tmp_path / "straight"), events.append).ok
    straight = {e.step: e.losses for e in events if e.losses}
    resumed = _interrupted_losses(job, 3, tmp_path / "stopped")
    assert sorted(resumed) == [4, 5, 6]
    for step in (4, 5, 6):
        assert resumed[step] == straight[step], step
    if augment:  # the discriminators saw augmented images: the same seed loses otherwise than a plain run
        card = read_card(tmp_path / "straight" / "out" / "ug.json")
        assert card.config["augment"] == augment
        events = []
        assert run_job(tiny_job(a, b, tmp_path / "plain", steps=2, decay_start=0.5, lr=2e-3), events.append).ok
        plain = {e.step: e.losses for e in events if e.losses}
        assert plain[1]["D"] != straight[1]["D"]


def test_cancel_saves_a_loadable_model_and_resume_continues(tmp_path):
    a, b = make_domains(tmp_path / "data", size=20)
    token = CancelToken()

    def cb(p):
        if p.step >= 3:
            token.cancel()

    res = run_job(tiny_job(a, b, tmp_path, steps=40), cb, token)
    assert res.status == "cancelled" and res.outputs["step"] == 3
    model = load_model(res.outputs["card"], "cpu")
    assert isinstance(model, UGATITModel) and model.card.training.steps == 3
    events = []
    assert run_job(tiny_job(a, b, tmp_path, steps=4, resume=True), events.append).ok
    assert [e.step for e in events if e.losses] == [4]


def test_a_nan_stops_the_run_clearly_and_the_run_stays_resumable(tmp_path, monkeypatch):
    from studio.models.ugatit import train

    a, b = make_domains(tmp_path / "data", size=20)
    calls = {"n": 0}
    real_bce = train.bce

    def bce_going_nan(logit, target):  # 4 CAM terms per step: NaN from the 3rd step on
        calls["n"] += 1
        out = real_bce(logit, target)
        return out * float("nan") if calls["n"] > 8 else out

    monkeypatch.setattr(train, "bce", bce_going_nan)
    res = run_job(tiny_job(a, b, tmp_path, steps=6))
    assert res.status == "failed" and "diverged" in res.message and "'cam'" in res.message
    assert "step 3" in res.message and "keeps step 2" in res.message
    monkeypatch.setattr(train, "bce", real_bce)
    events = []
    assert run_job(tiny_job(a, b, tmp_path, steps=4, resume=True), events.append).ok
    assert [e.step for e in events if e.losses] == [3, 4]


def test_ema_generators_are_exported(tmp_path):
    a, b = make_domains(tmp_path / "data", size=20)
    res = run_job(tiny_job(a, b, tmp_path, steps=3, ema=0.9, lr=2e-3))
    assert res.ok, res.message
    exported, card = load_checkpoint(res.outputs["card"])
    state, _ = RunFolder(tmp_path / "run").load()
    assert card.extra["training_run"]["ema"]["decay"] == 0.9
    for g in ("G_ab", "G_ba"):
        keys = [k for k in exported if k.startswith(g + ".")]
        assert keys and all(torch.equal(exported[k], state["ema." + k]) for k in keys)
        assert any(not torch.equal(exported[k], state["net." + k]) for k in keys if k.endswith("weight"))
