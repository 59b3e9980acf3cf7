"""States from outside (dropped images, --state files) are checked at the door and cleaned for models."""

from __future__ import annotations

import json
import math
import os
import threading

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from studio.core.export import save_png
from studio.core.family import normalise_state
from studio.core.states import (
    StateError,
    check_state,
    clean_state,
    fit_state_to_controls,
    read_state_file,
    state_model_id,
)

GOOD = {
    "model": "tiny",
    "seed": 3,
    "z_edits": {"1": 0.5},
    "directions": {"pc0": -1},
    "truncation": 0.7,
    "labels": {"colour": "red"},
    "scalars": {"brightness": 1.2},
    "grid": {"rows": 2},
}


def _png_with_text(path, text):
    info = PngImagePlugin.PngInfo()
    info.add_text("gan-studio-state", text)
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    return path


def test_a_sound_state_passes_unchanged(tmp_path):
    assert check_state(GOOD) == GOOD
    out = save_png(tmp_path / "s.png", np.zeros((4, 4, 3), np.uint8), GOOD)
    assert read_state_file(out) == GOOD
    (tmp_path / "s.json").write_text(json.dumps({"state": GOOD}))
    assert read_state_file(tmp_path / "s.json") == GOOD


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ({"z_edits": {"1": "x"}}, "z_edits.1"),
        ({"z_edits": {"one": 1.0}}, "z_edits"),
        ({"z_edits": [1, 2]}, "z_edits"),
        ({"directions": {"pc0": None}}, "directions.pc0"),
        ({"directions": {"pc0": 1e308}}, "outside"),
        ({"directions": {"pc0": 10**400}}, "directions.pc0"),
        ({"seed": "abc"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": [1]}, "seed"),
        ({"truncation": -1}, "truncation"),
        ({"labels": {"colour": 5}}, "labels"),
        ({"scalars": {"brightness": "bright"}}, "scalars.brightness"),
        ({"content": ["x"]}, "content"),
        ({"variation": {"seed": "x"}}, "variation"),
        ({"model": 7}, "model"),
    ],
)
def test_a_hostile_state_is_refused_naming_the_key(bad, key):
    with pytest.raises(StateError, match=key.replace(".", r"\.")) as info:
        check_state({**GOOD, **bad}, "drop.png")
    assert info.value.path.name == "drop.png"


def test_nan_and_infinity_in_a_state_file_are_refused(tmp_path):
    path = _png_with_text(tmp_path / "nan.png", '{"model": "tiny", "z_edits": {"0": NaN}}')
    with pytest.raises(StateError, match="not valid JSON"):
        read_state_file(path)


def test_deep_nesting_and_non_objects_are_refused(tmp_path):
    with pytest.raises(StateError, match="nests deeper"):
        read_state_file(_png_with_text(tmp_path / "deep.png", "[" * 5000))
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(StateError, match="not a JSON object"):
        read_state_file(tmp_path / "list.json")
    (tmp_path / "big.json").write_text(" " * (5 * 1024 * 1024))
    with pytest.raises(StateError, match="limit"):
        read_state_file(tmp_path / "big.json")


def test_an_image_without_a_state_and_a_broken_image_are_clear_errors(tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    with pytest.raises(StateError, match="no GAN Studio state"):
        read_state_file(plain)
    (tmp_path / "cut.png").write_bytes(plain.read_bytes()[:20])
    with pytest.raises(StateError, match="could not read the image"):
        read_state_file(tmp_path / "cut.png")


def test_a_decompression_bomb_is_refused_without_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(bomb)  # 900 MP of zeros: a few hundred KB on disk
    with pytest.raises(StateError, match="decompression bomb"):
        read_state_file(bomb)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.png"
    zero.symlink_to("/dev/zero")
    for path, words in ((fifo, "named pipe"), (zero, "a device")):
        box = {}
        t = threading.Thread(target=lambda p=path, b=box: b.setdefault("e", _error(p)), daemon=True)
        t.start()
        t.join(10)
        assert not t.is_alive(), f"{path} blocked"
        assert words in box["e"]


def _error(path):
    try:
        read_state_file(path)
    except StateError as exc:
        return str(exc)
    return ""


def test_clean_state_makes_any_state_safe_to_render():
    dirty = {
        "model": ["x"],
        "seed": "zz",
        "z_edits": {"0": "x", "1": float("nan"), "2": 1e9, "3": 0.5, "k": 1},
        "directions": {"pc0": float("inf"), "pc1": True, "pc2": -2},
        "truncation": float("nan"),
        "labels": {"a": 1, "b": "ok"},
        "scalars": {"s": "x", "t": 2},
        "content": [float("nan")],
        "variation": {"seed": 1, "spread": "x"},
        "custom": {"kept": 1},
    }
    s = clean_state(dirty)
    assert s["model"] == "" and s["seed"] == 0 and s["truncation"] == 1.0
    assert s["z_edits"] == {"2": 100.0, "3": 0.5}
    assert s["directions"] == {"pc2": -2}
    assert s["labels"] == {"b": "ok"} and s["scalars"] == {"t": 2}
    assert "content" not in s and "variation" not in s and s["custom"] == {"kept": 1}
    assert all(math.isfinite(v) for v in [*s["z_edits"].values(), *s["directions"].values()])
    assert normalise_state(dirty) == s  # every model sees states through this
    assert clean_state("not a dict")["z_edits"] == {}


def test_a_state_names_its_model_by_id_only():
    installed = ["tiny", "tiny-child"]
    assert state_model_id({"model": "tiny"}, "x.png", installed) == "tiny"
    for path in ("/etc/models/evil.json", "../m", "m.safetensors", "sub/m", "C:\\m"):
        with pytest.raises(StateError, match="file path"):
            state_model_id({"model": path}, "x.png", installed)
    # a model the user opened from a file this session may be named by its path
    assert state_model_id({"model": "/x/m"}, "x.png", installed, opened=["/x/m"]) == "/x/m"
    with pytest.raises(StateError, match="not installed"):
        state_model_id({"model": "other"}, "x.png", installed)
    with pytest.raises(StateError, match="names no model"):
        state_model_id({"seed": 1}, "x.png", installed)


def test_choices_a_model_does_not_offer_are_replaced():
    from studio.core.family import Control

    controls = [Control("choice", "artist", "Artist", default="b", options=("a", "b"))]
    state = normalise_state({"labels": {"artist": "nobody", "other": "x"}})
    assert fit_state_to_controls(state, controls)["labels"] == {"artist": "b", "other": "x"}
