"""The families' model jobs (CAN steer / sort, GADN encode, translate) on the bundled models: from Python
(the classes the window's tools run) and through ``studio run FAMILY JOB`` (files, never overwritten
without --force, nothing but short lines printed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.core.export import read_state
from studio.core.jobs import run_job
from studio.core.paths import bundled_models_dir
from studio.core.registry import default_registry
from studio.core.store import load_model

CAN, GADN, TRANSLATOR = "can-emoji-styles", "gadn-emoji", "emoji-google2twitter"


@pytest.fixture(scope="module")
def can_model():
    return load_model(bundled_models_dir() / f"{CAN}.json", device="cpu")


@pytest.fixture
def picture(tmp_path):
    rng = np.random.default_rng(4)
    path = tmp_path / "picture.png"
    Image.fromarray(rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)).save(path)
    return path


def _run_cli(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "array(" not in text and "tensor(" not in text and len(text) < 4000  # no raw arrays printed
    return code, text


def test_families_offer_the_jobs_and_keep_train():
    fams = default_registry().families
    assert {"train", "steer", "sort"} <= set(fams["can"].jobs())
    assert {"train", "encode"} <= set(fams["gadn"].jobs())
    for name in ("cyclegan", "ugatit"):
        assert {"train", "translate"} <= set(fams[name].jobs())


# ------------------------------------------------------------------------------------------------ CAN
def test_sort_job_from_python(can_model, tmp_path):
    from studio.models.can.jobs import SampleSortedJob

    res = run_job(SampleSortedJob(can_model, CAN, 3, "ambiguity", 8, seed=1))
    assert res.ok, res.message
    scores = res.outputs["ambiguity"]
    assert len(res.outputs["states"]) == 3 and scores == sorted(scores, reverse=True)
    res = run_job(SampleSortedJob(can_model, CAN, 3, "typicality", 8, seed=1, out=tmp_path / "t.json"))
    assert res.ok, res.message
    data = json.loads((tmp_path / "t.json").read_text())
    amb = [s["ambiguity"] for s in data["samples"]]
    assert amb == sorted(amb) and data["styles"] == list(can_model.styles)
    assert "states" not in res.outputs  # a file run reports the file, not the states


def test_steer_job_from_python_moves_the_posterior(can_model, tmp_path):
    from studio.models.can.jobs import SteerJob

    state = can_model.default_state(CAN, 5)
    k = int(np.argmin(can_model.style_posterior(state)))
    res = run_job(SteerJob(can_model, state, k, 1.0, True))
    assert res.ok, res.message
    assert can_model.style_posterior(res.outputs["state"])[k] > can_model.style_posterior(state)[k]
    res = run_job(SteerJob(can_model, state, can_model.styles[k], 1.0, True, out=tmp_path / "s.png"))
    assert res.ok, res.message
    saved = read_state(tmp_path / "s.png")
    assert saved["steer"]["posterior_after"] > saved["steer"]["posterior_before"] and saved["z_edits"]
    assert Image.open(tmp_path / "s.png").size == (2 * can_model.image_size + 6, can_model.image_size + 4)


def test_cli_sort_writes_a_grid_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "sorted.png"
    code, text = _run_cli(["run", "can", "sort", CAN, "--count", "4", "--pool", "8", "-o", str(out)], capsys)
    assert code == 0, text
    state = read_state(out)
    assert len(state["grid"]["seeds"]) == 4 and state["model"] == CAN
    before = out.read_bytes()
    code, text = _run_cli(["run", "can", "sort", CAN, "--count", "2", "--pool", "4", "-o", str(out)], capsys)
    assert code == 1 and "--overwrite" in text and out.read_bytes() == before
    code, text = _run_cli(["run", "can", "sort", CAN, "--count", "2", "--pool", "4", "-o", str(out), "--force"], capsys)
    assert code == 0 and len(read_state(out)["grid"]["seeds"]) == 2


def test_cli_steer_from_an_exported_state_writes_json(tmp_path, capsys):
    start = tmp_path / "start.png"
    assert _run_cli(["run", "can", "sort", CAN, "--count", "1", "--pool", "2", "-o", str(start)], capsys)[0] == 0
    out = tmp_path / "steer.json"
    code, text = _run_cli(
        [
            "run",
            "can",
            "steer",
            CAN,
            "--style",
            "google",
            "--away",
            "--state",
            str(start),
            "--steps",
            "3",
            "-o",
            str(out),
        ],
        capsys,
    )
    assert code == 0, text
    data = json.loads(out.read_text())
    assert data["style"] == "google" and data["towards"] is False
    assert data["posterior_after"] < data["posterior_before"]
    assert data["start_state"]["seed"] == read_state(start)["seed"]
    code, text = _run_cli(["run", "can", "steer", CAN, "--style", "google", "-o", str(out)], capsys)
    assert code == 1 and "already exists" in text
    code, text = _run_cli(["run", "can", "steer", CAN, "--style", "nobody", "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "unknown style" in text and not (tmp_path / "x.png").exists()


def test_cli_can_jobs_need_a_can_model(tmp_path, capsys):
    code, text = _run_cli(["run", "can", "sort", TRANSLATOR, "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "CAN model" in text


# ------------------------------------------------------------------------------------------------ GADN
def test_encode_job_from_python_and_cli(picture, tmp_path, capsys):
    from studio.models.gadn.jobs import EncodeImageJob

    model = load_model(bundled_models_dir() / f"{GADN}.json", device="cpu")
    res = run_job(EncodeImageJob(model, picture))
    assert res.ok, res.message
    assert len(res.outputs["content"]) == model.cfg.content_dim
    assert res.outputs["input_pixels"].shape == (model.image_size, model.image_size, 3)

    out = tmp_path / "code.json"
    code, text = _run_cli(["run", "gadn", "encode", GADN, str(picture), "--artist", "twitter", "-o", str(out)], capsys)
    assert code == 0, text
    data = json.loads(out.read_text())
    assert np.allclose(data["content"], res.outputs["content"], atol=1e-4)
    assert data["state"]["labels"]["artist"] == "twitter" and data["state"]["content"] == data["content"]
    code, text = _run_cli(["run", "gadn", "encode", GADN, str(picture), "-o", str(out)], capsys)
    assert code == 1 and "--overwrite" in text

    png = tmp_path / "redrawn.png"
    code, text = _run_cli(
        ["run", "gadn", "encode", GADN, str(picture), "--artist", "google", "--artist", "twitter", "-o", str(png)],
        capsys,
    )
    assert code == 0, text
    assert Image.open(png).size == (3 * model.image_size + 8, model.image_size + 4)  # input + 2 artists
    assert read_state(png)["content"] == data["content"]


# ------------------------------------------------------------------------------------------------ translate
def test_translate_job_from_python_and_cli(picture, tmp_path, capsys):
    from studio.models.translate_jobs import ModelTranslateJob

    cache: dict = {}
    card = bundled_models_dir() / f"{TRANSLATOR}.json"
    res = run_job(ModelTranslateJob(card, Image.open(picture).convert("RGB"), "a2b", 0, device="cpu", cache=cache))
    assert res.ok, res.message
    assert res.outputs["image"].shape == (30, 41, 3) and res.outputs["model"] == TRANSLATOR
    assert len(cache) == 1  # loaded once; a second run reuses it
    model = next(iter(cache.values()))
    assert run_job(ModelTranslateJob(card, picture, "b2a", device="cpu", cache=cache)).ok
    assert next(iter(cache.values())) is model

    out = tmp_path / "translated.png"
    code, text = _run_cli(
        ["run", "cyclegan", "translate", TRANSLATOR, str(picture), "--side-by-side", "-o", str(out)], capsys
    )
    assert code == 0, text
    assert Image.open(out).size == (82, 30)
    assert read_state(out)["translate"]["direction"] == "a2b"
    code, text = _run_cli(["run", "cyclegan", "translate", TRANSLATOR, str(picture), "-o", str(out)], capsys)
    assert code == 1 and "--overwrite" in text
    code, text = _run_cli(["run", "ugatit", "translate", GADN, str(picture), "-o", str(tmp_path / "g.png")], capsys)
    assert code == 1 and "not an image translator" in text


# ------------------------------------------------------------------------------------------------ plugin
def test_example_plugin_render_job_through_the_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    assert main(["run", "cppn", "create", "--seed", "1", "--out", str(tmp_path / "home" / "models" / "pat")]) == 0
    out = tmp_path / "big.png"
    code, text = _run_cli(["run", "cppn", "render", "pat", "--size", "80", "--seed", "4", "-o", str(out)], capsys)
    assert code == 0, text
    assert Image.open(out).size == (80, 80) and read_state(out)["render_size"] == 80
    code, text = _run_cli(["run", "cppn", "render", "pat", "-o", str(out)], capsys)
    assert code == 1 and "--overwrite" in text
