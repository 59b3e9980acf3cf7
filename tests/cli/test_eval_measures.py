"""``studio eval --measure gadn|translation``: the GADN paper's measures and a translator's before/after KID,
reached from the CLI (they were only ``python -m`` modules before issue 16)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from test_translate_cli import tiny_translator  # noqa: F401  (same folder; the fixture is shared)

from studio.cli import main
from studio.core.checkpoint import read_card
from studio.core.jobs import run_job


def _folder(root, names, colour, size=8):
    root.mkdir(parents=True)
    rng = np.random.default_rng(sum(colour))
    for n in names:
        arr = (rng.integers(0, 60, (size, size, 3)) + np.array(colour)).clip(0, 255).astype(np.uint8)
        Image.fromarray(arr).save(root / n)
    return root


def test_eval_measure_translation(tmp_path, tiny_translator, tiny_features, capsys):  # noqa: F811
    names = [f"e{i}.png" for i in range(6)]
    a = _folder(tmp_path / "a", names, (180, 180, 180))
    b = _folder(tmp_path / "b", names, (20, 20, 20))
    out_json, grid = tmp_path / "t.json", tmp_path / "grid.png"
    args = ["eval", str(tiny_translator), "--measure", "translation", "--a", str(a), "--b", str(b)]
    args += ["--features", tiny_features, "--device", "cpu", "--json", str(out_json), "--grid", str(grid)]
    assert main(args + ["--write-card"]) == 0
    printed = capsys.readouterr().out
    assert "a2b: KID to the target" in printed and "b2a" in printed
    results = json.loads(out_json.read_text())
    assert results["n_a"] == 6 and results["a2b"]["pairs"] == 6 and "kid_ratio" in results["b2a"]
    # the b2a generator is the identity: translating B changes nothing
    assert results["b2a"]["paired_l1_after"] == pytest.approx(results["b2a"]["paired_l1_before"], abs=1e-4)
    assert results["b2a"]["mean_change"] < 1e-4 and results["b2a"]["kid_ratio"] == pytest.approx(1.0, abs=1e-3)
    # the colour-statistics baseline turns light noise into dark noise: much closer to B than A's images were
    assert results["a2b"]["mean_change_colour_transfer"] > 0.5
    assert results["a2b"]["kid_colour_transfer_ratio"] < results["a2b"]["kid_ratio"]
    assert results["size"] == 8 and "colour-statistics transfer" in printed
    # FID and MiFID on the same features; near-copies of the target images would raise MiFID above FID
    assert results["a2b"]["fid_colour_transfer_to_target"] < results["a2b"]["fid_source_to_target"]
    assert results["b2a"]["mifid_translated_to_target"] >= results["b2a"]["fid_translated_to_target"]
    assert read_card(tiny_translator).metrics["translation"]["a2b"] == results["a2b"]
    with Image.open(grid) as im:
        assert im.size == (6 * 8 + 7 * 2, 6 * 8 + 7 * 2)  # 6 rows (A | A→B | B, B | B→A | A) of 6 pairs
    # an existing output is refused before any work, unless --overwrite
    assert main(args) == 1 and "already exists" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    assert main(args + ["--overwrite", "--translate-size", "12"]) == 0
    assert json.loads(out_json.read_text())["size"] == 12


def test_eval_measure_translation_floor_from_other_real_images(tmp_path, tiny_translator, tiny_features, capsys):  # noqa: F811
    """--other-a/--other-b: other real images of the target domain give the floor a translator can reach;
    they are spread over their folder and as many as the source test images."""
    names = [f"e{i}.png" for i in range(6)]
    a = _folder(tmp_path / "a", names, (180, 180, 180))
    b = _folder(tmp_path / "b", names, (20, 20, 20))
    other_b = _folder(tmp_path / "ob", [f"o{i}.png" for i in range(30)], (22, 18, 20))  # more dark noise
    other_a = _folder(tmp_path / "oa", [f"o{i}.png" for i in range(4)], (20, 20, 20))  # B-like: no floor at all
    out_json = tmp_path / "t.json"
    args = ["eval", str(tiny_translator), "--measure", "translation", "--a", str(a), "--b", str(b)]
    args += ["--features", tiny_features, "--device", "cpu", "--json", str(out_json)]
    assert main(args + ["--other-a", str(other_a), "--other-b", str(other_b)]) == 0
    printed = capsys.readouterr().out
    res = json.loads(out_json.read_text())
    assert res["a2b"]["kid_other_target_ratio"] < 0.3 < res["b2a"]["kid_other_target_ratio"]
    assert res["a2b"]["other_target"] == str(other_b) and "the floor" in printed
    assert main(args + ["--overwrite", "--other-b", str(tmp_path / "missing")]) == 1
    assert "missing" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    assert "kid_other_target_ratio" not in json.loads(out_json.read_text())["a2b"]


def test_eval_measure_translation_errors(tmp_path, tiny_translator, capsys):  # noqa: F811
    assert main(["eval", str(tiny_translator), "--measure", "translation", "--a", str(tmp_path)]) == 1
    assert "--a FOLDER and --b FOLDER" in capsys.readouterr().err
    assert main(["eval", str(tiny_translator), str(tiny_translator), "--measure", "translation"]) == 1
    assert "one model at a time" in capsys.readouterr().err
    # a GADN measure of a translator names the family it got
    assert main(["eval", str(tiny_translator), "--measure", "gadn", "--data", str(tmp_path), "--device", "cpu"]) == 1
    assert "needs a GADN model, not a 'cyclegan' model" in capsys.readouterr().err
    # the default measure still needs its reference folder
    assert main(["eval", str(tiny_translator)]) == 1
    assert "--data" in capsys.readouterr().err


@pytest.fixture
def tiny_gadn(tmp_path):
    """A GADN trained for a handful of steps on 3 colour 'artists' × 4 shapes (16 px), and its folder."""
    from studio.models.gadn.train import GADNTrainJob

    data = tmp_path / "artists"
    yy, xx = np.mgrid[0:16, 0:16]
    for artist, colour in (("ann", (220, 40, 40)), ("bob", (40, 160, 40)), ("cy", (40, 40, 220))):
        (data / artist).mkdir(parents=True)
        for k in range(4):
            img = np.full((16, 16, 3), 255, np.uint8)
            img[((xx - 4 - 2 * k) ** 2 + (yy - 8) ** 2) < (3 + k) ** 2] = colour
            Image.fromarray(img).save(data / artist / f"shape{k}.png")
    job = GADNTrainJob(
        data=str(data),
        out=str(tmp_path / "tiny-gadn"),
        run_dir=str(tmp_path / "run"),
        image_size=16,
        content_dim=8,
        style_dim=4,
        base_channels=4,
        fc_features=16,
        steps1=2,
        steps_cls=1,
        steps2=2,
        batch_cls=6,
        batch=6,
        preview_every=100,
        checkpoint_every=100,
        device="cpu",
        threads=1,
    )
    res = run_job(job)
    assert res.ok, res.message
    return res.outputs["card"], data


def test_eval_measure_gadn(tmp_path, tiny_gadn, capsys):
    card, data = tiny_gadn
    out_json = tmp_path / "g.json"
    args = ["eval", str(card), "--measure", "gadn", "--data", str(data), "--features", "none", "--device", "cpu"]
    args += ["--generated", "6", "--per-pair", "2", "--classifier-steps", "2", "--json", str(out_json)]
    assert main(args + ["--write-card"]) == 0
    printed = capsys.readouterr().out
    assert "content space (full code)" in printed and "naive Bayes" in printed and "C2 (adversarial" in printed
    results = json.loads(out_json.read_text())
    assert results["images"] == 12 and results["c2_generated_samples"] == 6
    assert "by_artist" in results["content_space"]["full"]["naive_bayes"]
    assert "top1_generated" in results["independent_classifier"] and "transfer_truth" in results
    assert read_card(card).metrics["gadn_eval"]["images"] == 12
    # a missing training folder is one clear error
    assert main(["eval", str(card), "--measure", "gadn", "--device", "cpu"]) == 1
    assert "--data FOLDER" in capsys.readouterr().err
