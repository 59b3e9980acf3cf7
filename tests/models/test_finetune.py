"""CSGAN style fine-tune: loss goes down, G_C untouched, last-K layers, style strength, cancel, resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import ModelCard, TrainingInfo, load_checkpoint, module_tensors, save_checkpoint
from studio.core.family import Family, LatentModel
from studio.core.jobs import CancelToken, run_job
from studio.core.registry import default_registry
from studio.core.store import load_model
from studio.losses.testing import TinyFeatures
from studio.models.csgan.finetune import CSGANStyleFamily, FinetuneConfig, FinetuneJob, layer_groups, select_trainable
from studio.models.csgan.networks import CSGANConfig, Generator

WIDTH = 1 / 64  # 16-8-4-4 channels: a real dcgan64 layout, tiny


class TinyCSGAN(LatentModel):
    def __init__(self, card, device, tensors):
        super().__init__(card, device)
        self.latent_dim = card.latent_dim
        self.generator = Generator(CSGANConfig(**card.config)).to(device).eval()
        sub = {k[len("generator.") :]: v for k, v in tensors.items() if k.startswith("generator.")}
        self.generator.load_state_dict(sub)

    def render(self, states):
        with torch.no_grad():
            return ((self.generator(self.latents_for(states).to(self.device)) + 1) / 2).clamp(0, 1).cpu()


class TinyCSGANFamily(Family):
    name = "tiny-csgan-test"
    title = "tiny csgan"

    def load(self, tensors, card, device):
        return TinyCSGAN(card, device, tensors)


@pytest.fixture
def families():
    reg = default_registry()
    for fam in (TinyCSGANFamily, CSGANStyleFamily):
        if fam.name not in reg.families:
            reg.add(fam, "tests")
    return reg


@pytest.fixture
def parent(tmp_path, families):
    torch.manual_seed(0)
    cfg = CSGANConfig(arch="dcgan64", width=WIDTH, latent_dim=16)
    gen = Generator(cfg)
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        gen.train()
        for _ in range(3):
            gen(torch.randn(32, 16))
    return _save_parent(tmp_path / "parent", cfg, gen)


def _save_parent(path: Path, cfg: CSGANConfig, gen: Generator) -> Path:
    card = ModelCard(
        name=path.name,
        family=TinyCSGANFamily.name,
        config=cfg.to_dict(),
        image_size=cfg.image_size,
        latent_dim=cfg.latent_dim,
        training=TrainingInfo(data="random", licence="CC0"),
    )
    return save_checkpoint(path, module_tensors("generator", gen), card)


@pytest.fixture
def painting(tmp_path):
    rng = np.random.default_rng(0)
    x = np.zeros((80, 96, 3), np.uint8)
    x[..., 0] = (np.sin(np.arange(96) / 2.0)[None, :] * 120 + 128).astype(np.uint8)
    x[..., 2] = rng.integers(0, 255, (80, 96))
    path = tmp_path / "stripes.png"
    Image.fromarray(x).save(path)
    return path


def _job(parent, painting, tmp_path, out=None, resume=False, trainer=None, **cfg):
    base = dict(steps=6, batch=4, preview_every=2, checkpoint_every=0, style_weight=10.0, size=32, layers=0)
    base.update(cfg)
    return FinetuneJob(
        parent,
        painting,
        FinetuneConfig(**base),
        out=out,
        device="cpu",
        resume=resume,
        models_dir=tmp_path / "user-models",
        loss_network=TinyFeatures(),
        **(trainer or {}),
    )


def test_layer_groups_follow_forward_order():
    gen = Generator(CSGANConfig(width=WIDTH, latent_dim=16))
    names = [n for n, _ in layer_groups(gen)]
    assert names == ["project", "body.0", "body.3", "body.6", "body.9"]
    trained = select_trainable(gen, 2)
    assert trained == ["body.6", "body.9"]
    grads = {n for n, p in gen.named_parameters() if p.requires_grad}
    assert grads == {"body.6.weight", "body.7.weight", "body.7.bias", "body.9.weight"}


def test_fastgan_layer_groups_follow_forward_order():
    """FastGAN registers its SLE gates after every up block; "the last 2 layers" must still be the 128 px
    block (its 3x3 convolution, BN and gate) and to_rgb, not a gate and to_rgb."""
    gen = Generator(CSGANConfig(arch="fastgan128", width=0.125, latent_dim=16))
    groups = layer_groups(gen)
    assert [n for n, _ in groups] == ["fast.init"] + [f"fast.ups.{i}" for i in range(5)] + ["fast.to_rgb"]
    listed = [p for _, ps in groups for p in ps]
    assert sorted(listed) == sorted(n for n, _ in gen.named_parameters())  # each parameter exactly once
    assert select_trainable(gen, 2) == ["fast.ups.4", "fast.to_rgb"]
    grads = {n for n, p in gen.named_parameters() if p.requires_grad}
    assert "fast.ups.4.1.weight" in grads and "fast.to_rgb.0.weight" in grads
    assert {n for n in grads if ".sle." in n} == {n for n, _ in gen.named_parameters() if n.startswith("fast.sle.128.")}
    assert "fast.ups.3.1.weight" not in grads


def _fastgan_parent(tmp_path):
    torch.manual_seed(0)
    cfg = CSGANConfig(arch="fastgan128", width=1 / 16, latent_dim=16)
    return _save_parent(tmp_path / "fastparent", cfg, Generator(cfg))


def test_default_lr_is_the_one_measured_for_the_parent_architecture(parent, painting, tmp_path, families):
    """lr 0 (the default) = the parent's measured rate, written into the child's card; a given lr is kept."""
    used = {}
    for label, model, lr in (
        ("dcgan", parent, 0.0),
        ("fastgan", _fastgan_parent(tmp_path), 0.0),
        ("given", parent, 3e-3),
    ):
        result = run_job(_job(model, painting, tmp_path, out=tmp_path / label, steps=1, layers=2, lr=lr))
        assert result.ok, result.message
        used[label] = load_checkpoint(result.outputs["card"])[1].config["finetune"]["lr"]
    assert used == {"dcgan": 5e-4, "fastgan": 2e-3, "given": 3e-3}


def test_finetune_lowers_style_loss_and_leaves_parent_untouched(parent, painting, tmp_path):
    before = dict(load_checkpoint(parent)[0])
    job = _job(parent, painting, tmp_path, steps=12, lr=3e-3, content_weight=0.1)
    events = []
    result = run_job(job, events.append)
    assert result.ok, result.message
    style = [e.losses["style"] for e in events if e.losses]
    assert style[-1] < 0.8 * style[0]
    assert any(e.preview is not None and e.preview.dtype == np.uint8 for e in events)
    after = load_checkpoint(parent)[0]
    assert all(torch.equal(before[k], after[k]) for k in before)
    tensors, card = load_checkpoint(result.outputs["card"])
    assert card.family == "csgan-style" and card.parent == "parent" and card.training.steps == 12
    assert card.extra["painting"]["file"] == "stripes.png" and len(card.extra["painting"]["sha256"]) == 64
    assert set(card.metrics["relative_change"]) == {"project", "body.0", "body.3", "body.6", "body.9"}
    assert all(v > 0 for v in card.metrics["relative_change"].values())
    # G_C inside the child is the parent, bit for bit
    assert all(torch.equal(tensors[k], before[k]) for k in before)


def test_last_k_changes_only_those_layers(parent, painting, tmp_path):
    result = run_job(_job(parent, painting, tmp_path, layers=2))
    assert result.ok, result.message
    tensors, card = load_checkpoint(result.outputs["card"])
    assert card.extra["trained_layers"] == ["body.6", "body.9"]
    changed = {
        k[len("style.generator.") :]
        for k, v in tensors.items()
        if k.startswith("style.") and not torch.equal(v, tensors[k[len("style.") :]])
    }
    assert changed and all(k.startswith(("body.6.", "body.7.", "body.9.")) for k in changed)
    rel = card.metrics["relative_change"]
    assert rel["project"] == 0 and rel["body.0"] == 0 and rel["body.9"] > 0


def test_style_strength_zero_and_one_are_exact(parent, painting, tmp_path):
    result = run_job(_job(parent, painting, tmp_path, steps=3, lr=1e-2))
    child = load_model(result.outputs["card"], "cpu")
    parent_model = load_model(parent, "cpu")
    names = [c.name for c in child.controls()]
    assert "style_strength" in names
    st = child.default_state("child", seed=3)
    assert st["scalars"]["style_strength"] == 1.0
    s0 = dict(st, scalars={"style_strength": 0.0})
    s_half = dict(st, scalars={"style_strength": 0.5})
    imgs = child.render([s0, st, s_half, s0])
    # same batch shape as the reference renders, so the comparison can be bit-exact
    assert torch.equal(child.render([s0])[0], parent_model.render([st])[0]) and torch.equal(imgs[0], imgs[3])
    tensors, _ = load_checkpoint(result.outputs["card"])
    g_s = Generator(CSGANConfig(**parent_model.card.config)).eval()
    g_s.load_state_dict({k[len("style.generator.") :]: v for k, v in tensors.items() if k.startswith("style.")})
    with torch.no_grad():
        expect = ((g_s(child.latents_for([st])) + 1) / 2).clamp(0, 1)
    assert torch.equal(child.render([st])[0], expect[0])
    assert not torch.equal(imgs[1], imgs[0]) and not torch.equal(imgs[2], imgs[0])


def test_cancel_leaves_loadable_child_or_none(parent, painting, tmp_path):
    cancel = CancelToken()
    seen = []

    def on_progress(p):
        seen.append(p.step)
        if p.step >= 2:
            cancel.cancel()

    result = run_job(_job(parent, painting, tmp_path, steps=50), on_progress, cancel)
    assert result.status == "cancelled"
    child = load_model(result.outputs["card"], "cpu")
    assert child.card.training.steps == 2
    assert child.render([child.default_state("c")]).shape == (1, 3, 64, 64)
    # cancelled before the first step: nothing saved, nothing half-written
    cancel2 = CancelToken()
    cancel2.cancel()
    result2 = run_job(_job(parent, painting, tmp_path, out="never"), None, cancel2)
    assert result2.status == "cancelled" and not result2.outputs
    assert not list((tmp_path / "user-models").glob("never*"))
    assert not list((tmp_path / "user-models").glob(".*tmp"))
    from studio.core.paths import runs_dir

    assert not (runs_dir() / "finetune-never").exists()  # nor a run state of nothing


def test_resume_continues_step_count(parent, painting, tmp_path):
    cancel = CancelToken()

    def stop_at_3(p):
        if p.step >= 3:
            cancel.cancel()

    first = run_job(_job(parent, painting, tmp_path, steps=6, out="resumed"), stop_at_3, cancel)
    assert first.status == "cancelled"
    steps = []
    job = _job(parent, painting, tmp_path, steps=6, out="resumed", resume=True)
    second = run_job(job, lambda p: steps.append(p.step) if p.losses else None)
    assert second.ok, second.message
    assert steps[0] == 4 and steps[-1] == 6
    card = json.loads((tmp_path / "user-models" / "resumed.json").read_text())
    assert card["training"]["steps"] == 6


def test_bad_painting_gives_clear_error(parent, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = run_job(_job(parent, bad, tmp_path))
    assert result.status == "failed" and "notes.png" in result.message


@pytest.mark.parametrize("kind", ["rgba", "16bit", "cmyk", "1px", "huge"])
def test_awkward_paintings(kind, parent, tmp_path):
    from studio.models.csgan.finetune import load_painting

    path = tmp_path / f"{kind}.png"
    if kind == "rgba":
        a = np.zeros((40, 50, 4), np.uint8)
        a[..., 0] = 200
        a[:20, :, 3] = 255
        Image.fromarray(a, "RGBA").save(path)
    elif kind == "16bit":
        Image.fromarray((np.arange(60 * 40).reshape(40, 60) * 20).astype(np.uint16)).save(path)
    elif kind == "cmyk":
        path = tmp_path / "cmyk.jpg"
        Image.new("CMYK", (30, 40), (10, 200, 30, 0)).save(path)
    elif kind == "1px":
        Image.new("RGB", (1, 300), (0, 0, 255)).save(path)
    else:
        Image.new("RGB", (8000, 600), (0, 128, 0)).save(path)
    x = load_painting(path, 64, 64)
    assert x.shape[0] == 1 and x.shape[1] == 3 and min(x.shape[-2:]) == 64 and max(x.shape[-2:]) <= 256
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    if kind == "rgba":  # transparent half composited over white
        assert float(x[0, :, -1, :].mean()) > 0.95
    if kind in ("rgba", "1px"):  # the whole job too (the loader path is the same for the others)
        result = run_job(_job(parent, path, tmp_path, steps=1, batch=2))
        assert result.ok, result.message


# ---------------------------------------------------------------------------- on the shared Trainer
def _losses(events):
    return {e.step: e.losses for e in events if e.losses}


def test_resume_is_exact(parent, painting, tmp_path):
    """Steps 4..6 of a run cancelled at step 3 and resumed report the losses of a straight run (fp32, 1 thread)."""
    one = {"threads": 1}
    straight = []
    assert run_job(_job(parent, painting, tmp_path, out="straight", trainer=one), straight.append).ok
    cancel = CancelToken()
    first = run_job(
        _job(parent, painting, tmp_path, out="split", trainer=one),
        lambda p: cancel.cancel() if p.step >= 3 else None,
        cancel,
    )
    assert first.status == "cancelled" and first.outputs["step"] == 3
    resumed = []
    res = run_job(_job(parent, painting, tmp_path, out="split", resume=True, trainer=one), resumed.append)
    assert res.ok, res.message
    a, b = _losses(straight), _losses(resumed)
    assert sorted(b) == [4, 5, 6]
    for step in (4, 5, 6):
        torch.testing.assert_close(
            torch.tensor(list(b[step].values()), dtype=torch.float64),
            torch.tensor(list(a[step].values()), dtype=torch.float64),
            rtol=0,
            atol=1e-6,
        )
    ta, _ = load_checkpoint(straight_card := tmp_path / "user-models" / "straight.json")
    tb, card = load_checkpoint(res.outputs["card"])
    assert straight_card.exists() and card.training.steps == 6
    assert all(torch.equal(ta[k], tb[k]) for k in ta if k.startswith("style."))


def test_cancel_at_step_3_exports_and_resume_continues(parent, painting, tmp_path):
    from studio.train import RunFolder

    cancel = CancelToken()
    res = run_job(
        _job(parent, painting, tmp_path, out="c3", steps=10), lambda p: cancel.cancel() if p.step >= 3 else None, cancel
    )
    assert res.status == "cancelled" and res.outputs["step"] == 3 and res.outputs["status"] == "cancelled"
    child = load_model(res.outputs["card"], "cpu")
    assert child.card.training.steps == 3 and child.card.extra["training_run"]["status"] == "cancelled"
    assert RunFolder(res.outputs["run_dir"]).load()[1]["step"] == 3
    events = []
    again = run_job(_job(parent, painting, tmp_path, out="c3", steps=5, resume=True), events.append)
    assert again.ok, again.message
    assert [e.step for e in events if e.losses] == [4, 5]


def test_nan_stops_with_the_term_named_and_the_run_resumes(parent, painting, tmp_path, monkeypatch):
    import studio.losses.perceptual as perceptual

    real_tv, calls = perceptual.total_variation, [0]

    def tv_goes_nan(images):
        calls[0] += 1
        out = real_tv(images)
        return out * float("nan") if calls[0] == 4 else out

    monkeypatch.setattr(perceptual, "total_variation", tv_goes_nan)
    res = run_job(_job(parent, painting, tmp_path, out="nan", checkpoint_every=2))
    assert res.status == "failed" and "diverged" in res.message and "'tv'" in res.message and "step 4" in res.message
    assert not (tmp_path / "user-models" / "nan.json").exists()
    monkeypatch.setattr(perceptual, "total_variation", real_tv)
    events = []
    again = run_job(_job(parent, painting, tmp_path, out="nan", checkpoint_every=2, resume=True), events.append)
    assert again.ok, again.message
    assert [e.step for e in events if e.losses] == [3, 4, 5, 6]


def test_ema_generator_is_what_the_child_stores(parent, painting, tmp_path):
    from studio.train import RunFolder

    res = run_job(
        _job(
            parent,
            painting,
            tmp_path,
            out="ema",
            steps=4,
            lr=1e-2,
            trainer={"ema": 0.9, "run_dir": str(tmp_path / "ema-run")},
        )
    )
    assert res.ok, res.message
    state, _ = RunFolder(tmp_path / "ema-run").load()
    tensors, card = load_checkpoint(res.outputs["card"])
    style = {k[len("style.generator.") :]: v for k, v in tensors.items() if k.startswith("style.")}
    raw = {k[len("net.G_S.") :]: v for k, v in state.items() if k.startswith("net.G_S.")}
    ema = {k[len("ema.G_S.") :]: v for k, v in state.items() if k.startswith("ema.G_S.")}
    assert set(style) == set(raw) == set(ema)
    assert all(torch.equal(style[k], ema[k]) for k in style)
    assert any(not torch.equal(style[k], raw[k]) for k in style if style[k].is_floating_point())
    assert "EMA" in card.training.notes and card.extra["training_run"]["ema"]["decay"] == 0.9


def test_resume_refuses_another_painting_or_layers(parent, painting, tmp_path):
    cancel = CancelToken()
    run_job(
        _job(parent, painting, tmp_path, out="r", layers=2), lambda p: cancel.cancel() if p.losses else None, cancel
    )
    other = tmp_path / "other.png"
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(other)
    res = run_job(_job(parent, other, tmp_path, out="r", layers=2, resume=True))
    assert res.status == "failed" and "another painting" in res.message and "stripes.png" in res.message
    res = run_job(_job(parent, painting, tmp_path, out="r", resume=True))
    assert res.status == "failed" and "--layers 2" in res.message
    assert run_job(_job(parent, painting, tmp_path, out="r", layers=2, resume=True)).ok


def test_default_names_stay_unique_and_out_refuses_an_existing_model(parent, painting, tmp_path):
    from studio.core.paths import runs_dir

    first = run_job(_job(parent, painting, tmp_path, steps=1))
    second = run_job(_job(parent, painting, tmp_path, steps=1))
    assert first.ok and second.ok
    assert [Path(r.outputs["card"]).stem for r in (first, second)] == ["parent-stripes", "parent-stripes-2"]
    assert Path(second.outputs["run_dir"]) == runs_dir() / "finetune-parent-stripes-2"
    clash = run_job(_job(parent, painting, tmp_path, steps=1, out="parent-stripes"))
    assert clash.status == "failed" and "already exists" in clash.message
    # a run folder without its child (a killed run) is not taken over by a new run's default name
    (tmp_path / "user-models" / "parent-stripes-2.json").unlink()
    third = run_job(_job(parent, painting, tmp_path, steps=1))
    assert third.ok and Path(third.outputs["card"]).stem == "parent-stripes-3"


def test_cli_parses_the_shared_training_flags(parent, painting, tmp_path):
    import argparse

    from studio.cli.finetune_cmd import register
    from studio.models.csgan.finetune import make_finetune_job

    ap = argparse.ArgumentParser()
    register(ap.add_subparsers())
    args = ap.parse_args(
        [
            "finetune",
            str(parent),
            str(painting),
            "--layers",
            "2",
            "--save-every",
            "7",
            "--ema",
            "0.99",
            "--time-limit",
            "3",
            "--precision",
            "bf16",
        ]
    )
    assert (args.steps, args.batch, args.checkpoint_every, args.preview_every) == (100, 16, 7, 5)
    opts = {k: v for k, v in vars(args).items() if k != "func"}
    job = make_finetune_job(**opts)
    assert job.options.ema == 0.99 and job.options.time_limit == 3 and job.options.precision == "bf16"
    assert job.task.cfg.layers == 2 and job.task.cfg.checkpoint_every == 7 and job.task.cfg.precision == "bf16"


def test_a_run_folder_of_the_old_loop_is_refused_clearly(parent, painting, tmp_path):
    from studio.core.paths import runs_dir

    old = runs_dir() / "finetune-old"
    old.mkdir(parents=True)
    (old / "state.json").write_text('{"step": 3}')
    res = run_job(_job(parent, painting, tmp_path, out="old", resume=True))
    assert res.status == "failed" and "older GAN Studio" in res.message
