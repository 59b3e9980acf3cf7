"""`studio finetune` and `studio stylize` end to end with the real VGG-19 (tiny sizes, few steps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, read_card, save_checkpoint
from studio.core.export import read_state
from studio.core.registry import default_registry
from studio.core.store import ModelStore


@pytest.fixture
def parent(tmp_path):
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "finetune_test_helpers", Path(__file__).parents[1] / "models" / "test_finetune.py"
    )
    helpers = importlib.util.module_from_spec(spec)
    sys.modules["finetune_test_helpers"] = helpers
    spec.loader.exec_module(helpers)
    reg = default_registry()
    for fam in (helpers.TinyCSGANFamily, helpers.CSGANStyleFamily):
        if fam.name not in reg.families:
            reg.add(fam, "tests")
    torch.manual_seed(0)
    cfg = helpers.CSGANConfig(width=helpers.WIDTH, latent_dim=16)
    card = ModelCard(
        name="tiny-parent",
        family=helpers.TinyCSGANFamily.name,
        config=cfg.to_dict(),
        image_size=64,
        latent_dim=16,
        training=TrainingInfo(data="random", licence="CC0"),
    )
    return save_checkpoint(tmp_path / "tiny-parent", module_tensors("generator", helpers.Generator(cfg)), card)


def _image(path, seed, mode="RGB"):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (40, 50, 3)).astype(np.uint8)).convert(mode).save(path)
    return path


def test_finetune_cli_saves_child_in_user_models(parent, tmp_path, capsys):
    painting = _image(tmp_path / "wave.png", 0, "RGBA")
    code = main(
        [
            "finetune",
            str(parent),
            str(painting),
            "--steps",
            "2",
            "--batch",
            "2",
            "--layers",
            "2",
            "--size",
            "32",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    store = ModelStore()
    assert "tiny-parent-wave" in store.ids() and not store.entries["tiny-parent-wave"].bundled
    card = read_card(store.entries["tiny-parent-wave"].path)
    assert card.parent == "tiny-parent" and card.training.steps == 2 and "--layers 2" in card.training.command
    assert card.training.wall_time_s > 0
    err = capsys.readouterr().err
    assert "relative change" in err and "* body.9" in err


def test_finetune_cli_bad_painting(parent, tmp_path, capsys):
    bad = tmp_path / "empty.jpg"
    bad.write_bytes(b"")
    assert main(["finetune", str(parent), str(bad), "--steps", "1", "--device", "cpu"]) == 1
    assert "empty.jpg" in capsys.readouterr().err


def test_stylize_cli(tmp_path):
    out = tmp_path / "styled.png"
    code = main(
        [
            "stylize",
            str(_image(tmp_path / "photo.jpg", 1)),
            str(_image(tmp_path / "art.png", 2)),
            "--size",
            "32",
            "--steps",
            "2",
            "--ratio",
            "1e6",
            "--device",
            "cpu",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and out.exists()
    assert read_state(out)["settings"]["ratio"] == 1e6


def test_finetune_help_names_the_layers_default_it_applies(capsys):
    from studio.cli import build_parser
    from studio.models.csgan.finetune import FinetuneConfig

    parser = build_parser()
    args = parser.parse_args(["finetune", "parent", "painting.png"])
    assert args.layers == FinetuneConfig().layers
    with pytest.raises(SystemExit):
        parser.parse_args(["finetune", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(default {FinetuneConfig().layers}; 0 = the whole generator)" in help_text
