"""U-GAT-IT: shapes, AdaLIN ρ clipping, CAM outputs, training/resume, attention preview, config errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.checkpoint import read_card
from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.core.store import load_model
from studio.models.ugatit.config import UGATITConfig
from studio.models.ugatit.family import UGATITFamily, UGATITModel
from studio.models.ugatit.networks import AdaLIN, LIN, UGATITDiscriminator, UGATITGenerator

from test_cyclegan import make_domains  # same folder (pytest prepends it to sys.path)


def tiny_cfg(size=16, light=True, **kw):
    return UGATITConfig.for_size(size, ngf=4, ndf=4, n_res=1, light=light, **kw)


def tiny_job(a, b, tmp_path, steps=4, **kw):
    opts = dict(a=str(a), b=str(b), size=16, steps=steps, batch=2, out=str(tmp_path / "out" / "ug"),
                run_dir=str(tmp_path / "run"), device="cpu", preview_every=2, checkpoint_every=2,
                ngf=4, ndf=4, n_res=1, light=True, command="pytest")
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
    job.build(torch.device("cpu"))
    rhos = [m.rho for g in (job.nets["G_ab"], job.nets["G_ba"]) for m in g.modules() if isinstance(m, (AdaLIN, LIN))]
    with torch.no_grad():
        for i, r in enumerate(rhos):
            r.fill_(0.999 if i % 2 else 0.001)
    gen = torch.Generator().manual_seed(0)
    before = [r.detach().clone() for r in rhos]
    for step in range(3):
        x, y = torch.rand(2, 3, 16, 16, generator=gen) * 2 - 1, torch.rand(2, 3, 16, 16, generator=gen) * 2 - 1
        job.train_step(x, y, step)
    assert any(not torch.equal(r0, r) for r0, r in zip(before, rhos))  # ρ did get updated
    for r in rhos:
        assert float(r.min()) >= 0.0 and float(r.max()) <= 1.0
    assert any(float(r.min()) == 0.0 or float(r.max()) == 1.0 for r in rhos)  # and the clip was needed


def test_config_defaults_and_errors():
    cfg = UGATITConfig.for_size(256)
    assert (cfg.global_layers, cfg.local_layers, cfg.cycle_weight, cfg.identity_weight, cfg.cam_weight,
            cfg.lr, cfg.weight_decay) == (7, 5, 10.0, 10.0, 1000.0, 1e-4, 1e-4)
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
    assert np.mean([l["cam"] for l in losses[-4:]]) < np.mean([l["cam"] for l in losses[:2]])
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
