"""``studio translate``: any image in, a PNG of the same size with the translation in its metadata."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.core.checkpoint import ModelCard, TrainingInfo, module_tensors, save_checkpoint
from studio.core.export import read_state
from studio.models.cyclegan.config import CycleGANConfig
from studio.models.cyclegan.networks import DnCNNGenerator


@pytest.fixture
def tiny_translator(tmp_path):
    """A saved CycleGAN: a2b is a random DnCNN, b2a the identity (a fresh residual DnCNN), so b2a's output
    must equal its input exactly."""
    cfg = CycleGANConfig(channels=4, depth=1, residual=True)
    torch.manual_seed(0)
    inv, ident = DnCNNGenerator(4, 1, residual=True), DnCNNGenerator(4, 1, residual=True)
    with torch.no_grad():
        inv.net[-1].weight.normal_(0, 0.2)
    tensors = {
        **module_tensors("G_ab", inv),
        **module_tensors("G_ba", ident),
        "val.a": torch.zeros(2, 3, 8, 8, dtype=torch.uint8),
        "val.b": torch.full((2, 3, 8, 8), 255, dtype=torch.uint8),
    }
    card = ModelCard(
        name="tiny-translator",
        family="cyclegan",
        config=dataclasses.asdict(cfg),
        image_size=8,
        labels={"domains": ["light", "dark"]},
        training=TrainingInfo(command="tests"),
    )
    return save_checkpoint(tmp_path / "translators" / "tiny-translator", tensors, card)


def _image(path, size=(21, 13), mode="RGB"):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (size[1], size[0], 4 if mode == "RGBA" else 3), dtype=np.uint8)
    Image.fromarray(arr, mode).save(path)
    return path


def test_translate_writes_same_size_png_with_metadata(tmp_path, tiny_translator, capsys):
    src = _image(tmp_path / "in.png")
    out = tmp_path / "out.png"
    assert main(["translate", str(tiny_translator), str(src), "-o", str(out), "--device", "cpu"]) == 0
    with Image.open(out) as im:
        assert im.size == (21, 13)
        got = np.asarray(im.convert("RGB"), dtype=np.int32)
    state = read_state(out)
    assert state["labels"]["direction"] == "a2b" and state["translate"]["source"] == "in.png"
    assert "wrote" in capsys.readouterr().out
    # b2a is the identity generator: output equals input; tiled b2a equals untiled
    out2 = tmp_path / "out2.png"
    assert (
        main(
            [
                "translate",
                str(tiny_translator),
                str(src),
                "--direction",
                "b2a",
                "-o",
                str(out2),
                "--tile",
                "8",
                "--overlap",
                "4",
            ]
        )
        == 0
    )
    with Image.open(src) as a, Image.open(out2) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert got.shape == (13, 21, 3)


def test_translate_any_image_mode_and_side_by_side(tmp_path, tiny_translator):
    src = _image(tmp_path / "in.png", (9, 17), "RGBA")
    out = tmp_path / "pair.png"
    assert main(["translate", str(tiny_translator), str(src), "-o", str(out), "--side-by-side"]) == 0
    with Image.open(out) as im:
        assert im.size == (18, 17)


def test_translate_bad_inputs_give_clear_errors(tmp_path, tiny_translator, tiny_model, capsys):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"nope")
    assert main(["translate", str(tiny_translator), str(junk)]) == 1
    assert "junk.png: not an image" in capsys.readouterr().err
    src = _image(tmp_path / "in.png")
    assert main(["translate", str(tiny_model), str(src)]) == 1
    assert "not an image translator" in capsys.readouterr().err
    assert main(["translate", str(tmp_path / "missing.json"), str(src)]) == 1
    assert "neither a known model" in capsys.readouterr().err
