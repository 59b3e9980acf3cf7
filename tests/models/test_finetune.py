"""CSGAN style fine-tune: loss goes down, G_C untouched, last-K layers, style strength, cancel, resume."""
from __future__ import annotations

import json

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
from studio.models.csgan.finetune import (CSGANStyleFamily, FinetuneConfig, FinetuneJob, layer_groups,
                                          select_trainable)
from studio.models.csgan.networks import CSGANConfig, Generator

WIDTH = 1 / 64  # 16-8-4-4 channels: a real dcgan64 layout, tiny


class TinyCSGAN(LatentModel):
    def __init__(self, card, device, tensors):
        super().__init__(card, device)
        self.latent_dim = card.latent_dim
        self.generator = Generator(CSGANConfig(**card.config)).to(device).eval()
        sub = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
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
    card = ModelCard(name="parent", family=TinyCSGANFamily.name, config=cfg.to_dict(), image_size=64,
                     latent_dim=16, training=TrainingInfo(data="random", licence="CC0"))
    return save_checkpoint(tmp_path / "parent", module_tensors("generator", gen), card)


@pytest.fixture
def painting(tmp_path):
    rng = np.random.default_rng(0)
    x = np.zeros((80, 96, 3), np.uint8)
    x[..., 0] = (np.sin(np.arange(96) / 2.0)[None, :] * 120 + 128).astype(np.uint8)
    x[..., 2] = rng.integers(0, 255, (80, 96))
    path = tmp_path / "stripes.png"
    Image.fromarray(x).save(path)
    return path


def _job(parent, painting, tmp_path, out=None, **cfg):
    base = dict(steps=6, batch=4, preview_every=2, checkpoint_every=0, style_weight=10.0, size=32)
    base.update(cfg)
    return FinetuneJob(parent, painting, FinetuneConfig(**base), out=out, device="cpu",
                       models_dir=tmp_path / "user-models", loss_network=TinyFeatures())


def test_layer_groups_follow_forward_order():
    gen = Generator(CSGANConfig(width=WIDTH, latent_dim=16))
    names = [n for n, _ in layer_groups(gen)]
    assert names == ["project", "body.0", "body.3", "body.6", "body.9"]
    trained = select_trainable(gen, 2)
    assert trained == ["body.6", "body.9"]
    grads = {n for n, p in gen.named_parameters() if p.requires_grad}
    assert grads == {"body.6.weight", "body.7.weight", "body.7.bias", "body.9.weight"}


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
    changed = {k[len("style.generator."):] for k, v in tensors.items()
               if k.startswith("style.") and not torch.equal(v, tensors[k[len("style."):]])}
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
    g_s.load_state_dict({k[len("style.generator."):]: v for k, v in tensors.items() if k.startswith("style.")})
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


def test_resume_continues_step_count(parent, painting, tmp_path):
    cancel = CancelToken()

    def stop_at_3(p):
        if p.step >= 3:
            cancel.cancel()

    first = run_job(_job(parent, painting, tmp_path, steps=6, out="resumed"), stop_at_3, cancel)
    assert first.status == "cancelled"
    steps = []
    job = _job(parent, painting, tmp_path, steps=6, out="resumed")
    job.resume = True
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
