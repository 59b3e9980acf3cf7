"""CAN with csgan's FastGAN generator (issue 14: a CAN at 128 px): it draws [0, 1] images, trains and resumes
exactly, and ``--init-generator`` starts its G from a trained csgan FastGAN, recording it; a model of another
family or shape is refused with the flags that would fit, before any step."""

from __future__ import annotations

import pytest
import torch
from test_can_train import _losses, _opts, make_styles  # the CAN training tests' tiny set-up

from studio.core.checkpoint import ModelCard, TrainingInfo, load_checkpoint, module_tensors, read_card, save_checkpoint
from studio.core.errors import StudioError
from studio.core.jobs import run_job
from studio.models.can.config import CANConfig
from studio.models.can.networks import build_networks
from studio.models.can.train import CANTrainJob
from studio.models.csgan.networks import CSGANConfig, Generator

FAST = {"arch": "fastgan", "image_size": 128, "width": 0.05, "latent_dim": 32, "threads": 1, "batch": 4}


@pytest.fixture(scope="module")
def styles(tmp_path_factory):
    return make_styles(tmp_path_factory.mktemp("can-fastgan") / "styles", per_style=4, size=128)


def _content_model(tmp_path, width=0.05, latent=32, arch="fastgan128"):
    """A csgan FastGAN 'trained' model: random weights, saved as csgan exports its generator."""
    torch.manual_seed(3)
    cfg = CSGANConfig(arch=arch, width=width, latent_dim=latent)
    gen = Generator(cfg)
    card = ModelCard(
        name="content",
        family="csgan",
        config=cfg.to_dict(),
        image_size=cfg.image_size,
        latent_dim=cfg.latent_dim,
        training=TrainingInfo(steps=123),
    )
    return save_checkpoint(tmp_path / "content", module_tensors("G", gen), card), gen


def test_fastgan_can_draws_images_in_range_and_rejects_other_sizes():
    g, d = build_networks(CANConfig(arch="fastgan", image_size=128, width=0.05, latent_dim=32, num_styles=3))
    with torch.no_grad():
        x = g(torch.randn(2, 32))
        real, style = d(x)
    assert x.shape == (2, 3, 128, 128) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert real.shape == (2,) and style.shape == (2, 3)
    assert g.latent_features(torch.randn(5, 32)).shape[0] == 5
    with pytest.raises(StudioError, match="128 or 256"):
        CANConfig(arch="fastgan", image_size=64, num_styles=3)


def test_fastgan_can_trains_and_resumes_exactly(styles, tmp_path):
    straight: list = []
    a = run_job(CANTrainJob(**_opts(styles, tmp_path / "a", steps=4, **FAST)), straight.append)
    assert a.ok, a.message
    assert run_job(CANTrainJob(**_opts(styles, tmp_path / "b", steps=2, checkpoint_every=2, **FAST))).ok
    resumed: list = []
    b = run_job(CANTrainJob(**_opts(styles, tmp_path / "b", steps=4, resume=True, **FAST)), resumed.append)
    assert b.ok, b.message
    la, lb = _losses(straight), _losses(resumed)
    assert sorted(lb) == [3, 4]
    for step in lb:
        torch.testing.assert_close(lb[step], la[step], rtol=0, atol=1e-6)
    card = read_card(a.outputs["card"])
    assert card.config["arch"] == "fastgan" and card.image_size == 128 and card.extra["init_generator"] is None


def test_init_generator_starts_g_from_the_content_model_and_says_so(styles, tmp_path):
    path, gen = _content_model(tmp_path)
    # zero steps would export nothing new: one step, with learning rates so small G barely moves
    res = run_job(CANTrainJob(**_opts(styles, tmp_path / "c", steps=1, init_generator=str(path), lr_g=1e-12, **FAST)))
    assert res.ok, res.message
    card = read_card(res.outputs["card"])
    record = card.extra["init_generator"]
    assert record["model"] == "content" and record["steps"] == 123
    assert record["tensors_sha256"] == read_card(path).tensors_sha256
    assert "Generator started from the csgan model content" in card.training.notes
    tensors = load_checkpoint(res.outputs["card"])[0]
    source = gen.state_dict()
    conv = "fast.ups.0.1.weight"  # a convolution: only Adam's 1e-12 steps away from the content model's
    torch.testing.assert_close(tensors[f"G.{conv}"].float(), source[conv], rtol=0, atol=1e-6)
    fresh = build_networks(CANConfig(arch="fastgan", image_size=128, width=0.05, latent_dim=32, num_styles=3))[0]
    assert not torch.allclose(fresh.state_dict()[conv], source[conv])
    # resuming keeps the record (and the run's own G)
    more = run_job(CANTrainJob(**_opts(styles, tmp_path / "c", steps=2, resume=True, **FAST)))
    assert more.ok, more.message
    assert read_card(more.outputs["card"]).extra["init_generator"]["model"] == "content"


@pytest.mark.parametrize(
    ("content", "asked", "says"),
    [
        ({"width": 0.1}, {}, "--width 0.1 --latent-dim 32"),
        ({"latent": 16}, {}, "--width 0.05 --latent-dim 16"),
        ({"arch": "dcgan128"}, {}, "needs a csgan fastgan128 model (this one is csgan dcgan128)"),
        ({}, {"arch": "dcgan", "image_size": 32}, "needs --arch fastgan"),
    ],
)
def test_init_generator_refuses_a_model_that_does_not_fit(styles, tmp_path, content, asked, says):
    path, _ = _content_model(tmp_path, **content)
    res = run_job(CANTrainJob(**_opts(styles, tmp_path / "d", steps=1, init_generator=str(path), **{**FAST, **asked})))
    assert res.status == "failed" and says in res.message, res.message
    assert not (tmp_path / "d" / "m.json").exists()  # nothing exported, nothing half-written


def test_init_generator_of_a_missing_model_is_a_clear_error(styles, tmp_path):
    res = run_job(CANTrainJob(**_opts(styles, tmp_path / "e", steps=1, init_generator="no-such-model", **FAST)))
    assert res.status == "failed" and "no-such-model" in res.message and "neither a known model" in res.message


def test_style_entropy_script_judges_every_row_by_the_can_head(styles, tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "can_style_entropy.py"
    spec = importlib.util.spec_from_file_location("can_style_entropy", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path, _ = _content_model(tmp_path)
    res = run_job(CANTrainJob(**_opts(styles, tmp_path / "f", steps=1, **FAST)))
    assert res.ok, res.message
    assert module.main([res.outputs["card"], str(path), "--real", str(styles), "--n", "6"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["m", "content", "real:"], out
    for r in rows:
        assert 0.0 <= float(r[-3]) <= 1.0995  # an entropy over 3 styles: at most log 3 (1.0986), printed to 3 places
    assert module.main([str(path)]) == 1  # a content GAN has no style head: a clear error
    assert "not a CAN model" in capsys.readouterr().err
