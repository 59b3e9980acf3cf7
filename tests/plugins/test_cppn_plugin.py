"""The example plugin (plugins/cppn_patterns.py) trains on the shared Trainer like a built-in family:
found by the registry with no edit under studio/, trains from the CLI, resumes exactly, exports EMA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.checkpoint import load_checkpoint, read_card
from studio.core.jobs import run_job
from studio.core.registry import default_registry
from studio.core.store import load_model


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def stripes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stripes")
    rng = np.random.default_rng(1)
    for i in range(12):
        a = np.zeros((24, 24, 3), np.uint8)
        a[:, :: int(rng.integers(2, 6))] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i}.png")
    return folder


def _job(stripes, tmp_path, **kw):
    opts = dict(
        data=str(stripes),
        image_size=16,
        hidden=8,
        steps=6,
        batch=4,
        out=str(tmp_path / "m" / "cppn"),
        run_dir=str(tmp_path / "run"),
        preview_every=3,
        device="cpu",
    )
    opts.update(kw)
    return default_registry().get("cppn").make_job("train", **opts)


def test_the_plugin_family_is_found_and_offers_training():
    family = default_registry().get("cppn")
    assert "train" in family.jobs()
    assert "cppn" not in {
        ep.name for ep in __import__("importlib.metadata").metadata.entry_points(group="studio.families")
    }  # it comes from plugins/, not from our pyproject


def test_trains_exports_a_renderable_model_and_resumes_exactly(stripes, tmp_path):
    straight = []
    res = run_job(_job(stripes, tmp_path / "a", steps=8), straight.append)
    assert res.ok, res.message
    model = load_model(res.outputs["card"], device="cpu")
    img = model.render([model.default_state("cppn", 0), model.default_state("cppn", 1)])
    assert img.shape == (2, 3, 16, 16) and (img[0] - img[1]).abs().max() > 1e-4
    assert any(e.preview is not None for e in straight)
    first, rest = [], []
    assert run_job(_job(stripes, tmp_path / "b", steps=3), first.append).ok
    assert run_job(_job(stripes, tmp_path / "b", steps=8, resume=True), rest.append).ok

    def losses(events):
        return {e.step: e.losses for e in events if e.losses}

    assert losses(straight) == {**losses(first), **losses(rest)}


def test_ema_generator_is_exported(stripes, tmp_path):
    from studio.train import RunFolder

    res = run_job(_job(stripes, tmp_path, steps=10, ema=0.8))
    assert res.ok, res.message
    exported, card = load_checkpoint(res.outputs["card"])
    state, _ = RunFolder(tmp_path / "run").load()
    assert card.extra["training_run"]["ema"]["decay"] == 0.8
    for key, value in exported.items():
        assert torch.equal(value, state["ema.G." + key.split(".", 1)[1]])


def test_cli_trains_the_plugin(stripes, tmp_path):
    from studio.cli import main

    out = tmp_path / "cli" / "pattern"
    code = main(
        [
            "train",
            "cppn",
            "--data",
            str(stripes),
            "--image-size",
            "16",
            "--hidden",
            "8",
            "--steps",
            "3",
            "--batch",
            "4",
            "--out",
            str(out),
            "--run-dir",
            str(tmp_path / "cli-run"),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    card = read_card(out.with_suffix(".json"))
    assert card.family == "cppn" and card.training.steps == 3 and card.training.command.startswith("studio train")
