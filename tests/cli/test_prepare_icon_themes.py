"""scripts/prepare_icon_themes.py on fake theme packages (no download): one folder per theme, the largest
full-colour drawing of each icon, aliases once, symbolic and small icons left out, the icons most themes
share first; the output folder is replaced whole."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from script_loader import load_script


def _icon(path: Path, size: int, colour) -> None:
    """A transparent square icon with an opaque disc-ish block in the middle."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (size // 2, size // 2), (*colour, 255)), (size // 4, size // 4))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def _fake(cache: Path, script) -> None:
    ox = cache / "oxygen-icon-theme" / "root" / script.THEMES["oxygen"][1]
    _icon(ox / "128x128" / "places" / "folder.png", 128, (200, 150, 0))
    _icon(ox / "256x256" / "places" / "folder.png", 256, (250, 150, 0))  # the larger drawing wins
    _icon(ox / "128x128" / "apps" / "accessories-calculator.png", 128, (90, 90, 90))
    (ox / "128x128" / "apps" / "calc.png").symlink_to("accessories-calculator.png")  # an alias: counted once
    _icon(ox / "48x48" / "devices" / "printer.png", 48, (0, 0, 0))  # smaller than --size: left out
    _icon(ox / "128x128" / "status" / "dialog-warning-symbolic.png", 128, (0, 0, 0))  # symbolic: left out
    el = cache / "elementary-xfce-icon-theme" / "root" / script.THEMES["elementary"][1]
    _icon(el / "places" / "128" / "folder.png", 128, (0, 90, 200))
    _icon(el / "apps" / "128" / "calc.png", 128, (10, 200, 10))
    _icon(el / "devices" / "128" / "camera.png", 128, (200, 0, 0))
    Image.new("RGBA", (128, 128), (0, 0, 0, 0)).save(el / "devices" / "128" / "blank.png")  # nothing drawn


def test_themes_become_artists_with_shared_icon_names(tmp_path):
    script = load_script("prepare_icon_themes")
    _fake(tmp_path / "cache", script)
    out = tmp_path / "icons"
    args = ["--out", str(out), "--cache", str(tmp_path / "cache"), "--themes", "oxygen", "elementary"]
    assert script.main([*args, "--size", "64"]) == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.png"))
    # calc is the name both themes draw, so it is the one oxygen's alias pair keeps; printer/symbolic are out
    assert files == [
        "elementary/calc.png",
        "elementary/camera.png",
        "elementary/folder.png",
        "oxygen/calc.png",
        "oxygen/folder.png",
    ]
    folder = np.asarray(Image.open(out / "oxygen" / "folder.png"))
    assert folder.shape == (64, 64, 3) and (folder[32, 32] == [250, 150, 0]).all()  # the 256 px one
    assert (folder[0, 0] == 255).all()  # transparent margins on white
    info = json.loads((out / "dataset.json").read_text())
    assert info["counts"] == {"oxygen": 2, "elementary": 3}
    assert info["contents"] == 4 and info["contents_in_every_theme"] == 2
    assert info["categories"]["folder"] == "places" and info["categories"]["camera"] == "devices"
    assert len(info["skipped"]) == 1 and "blank" in info["skipped"][0]
    assert "LGPL-3+" in info["licences"]["oxygen"]

    (out / "stale").mkdir()  # a second preparation replaces the folder whole
    assert script.main([*args, "--size", "64", "--per-theme", "1"]) == 0
    assert not (out / "stale").exists() and not list(tmp_path.glob(".icons.*"))
    assert json.loads((out / "dataset.json").read_text())["counts"] == {"oxygen": 1, "elementary": 1}


def test_the_drawn_size_comes_from_the_folder_names():
    script = load_script("prepare_icon_themes")
    assert script.pixel_size(Path("128x128/apps/a.png")) == 128
    assert script.pixel_size(Path("apps/256/a.png")) == 256
    assert script.pixel_size(Path("64x64@2x/apps/a.png")) == 128
    assert script.pixel_size(Path("scalable/apps/a.svg")) > 10_000
    assert script.pixel_size(Path("apps/a.png")) == 0
    assert script.context_of(Path("256x256/mimetypes/text-x-generic.png")) == "mimetypes"


@pytest.mark.parametrize("option", [["--themes", "tango", "tango"], ["--size", "8"], ["--themes", "nope", "tango"]])
def test_bad_options_are_clear_errors(tmp_path, option):
    script = load_script("prepare_icon_themes")
    with pytest.raises(SystemExit) as info:
        script.main(["--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), *option])
    assert info.value.code != 0 and not (tmp_path / "o").exists()
