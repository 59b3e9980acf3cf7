"""scripts/prepare_wesnoth_portraits.py on a fake package tree (no download): one folder per race, each
portrait trimmed to its painted area, bottom-aligned on the background; byte-identical copies once; a
fully transparent file is skipped and counted; bad options are clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from script_loader import load_script


def _portrait(path, box, colour) -> None:
    """A 400x410 transparent portrait with an opaque rectangle at ``box``."""
    img = Image.new("RGBA", (400, 410), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (box[2] - box[0], box[3] - box[1]), (*colour, 255)), box[:2])
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def _fake(cache, script) -> None:
    folder = cache / script.PACKAGE / "root" / script.PORTRAITS
    _portrait(folder / "elves" / "druid.png", (100, 210, 300, 410), (0, 160, 0))  # 200x200, at the bottom
    _portrait(folder / "humans" / "knight.png", (0, 10, 400, 410), (200, 0, 0))  # fills the frame
    _portrait(folder / "humans" / "tall.png", (150, 10, 250, 410), (0, 0, 200))  # 100 wide, 400 tall
    (folder / "humans" / "paladin.png").write_bytes((folder / "humans" / "knight.png").read_bytes())
    (folder / "undead").mkdir()
    Image.new("RGBA", (400, 410), (0, 0, 0, 0)).save(folder / "undead" / "ghost.png")  # nothing painted


def test_portraits_are_trimmed_bottom_aligned_and_sorted_by_race(tmp_path):
    script = load_script("prepare_wesnoth_portraits")
    _fake(tmp_path / "cache", script)
    out = tmp_path / "portraits"
    assert script.main(["--out", str(out), "--cache", str(tmp_path / "cache"), "--size", "64"]) == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.png"))
    assert files == ["elves/druid.png", "humans/knight.png", "humans/tall.png"]  # the copy once, the blank skipped
    druid = np.asarray(Image.open(out / "elves" / "druid.png"))
    assert druid.shape == (64, 64, 3) and (druid[32, 32] == [0, 160, 0]).all()  # trimmed: green fills it
    tall = np.asarray(Image.open(out / "humans" / "tall.png"))
    assert (tall[32, 2] == 255).all() and (tall[32, 32] == [0, 0, 200]).all()  # centred across, white beside
    info = json.loads((out / "dataset.json").read_text())
    assert info["count"] == 3 and info["races"] == {"elves": 1, "humans": 2}
    assert len(info["skipped"]) == 1 and "ghost" in info["skipped"][0]
    assert "GPL-2+" in (out / "LICENCE.txt").read_text()


def test_a_short_figure_stands_on_the_bottom_edge_and_the_background_is_chosen(tmp_path):
    script = load_script("prepare_wesnoth_portraits")
    img = Image.new("RGBA", (400, 410), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (200, 100), (0, 0, 0, 255)), (100, 310))  # wide and short
    square = np.asarray(script.square_portrait(img, 64, (10, 20, 30)))
    assert (square[-1, 32] == 0).all() and (square[0, 32] == [10, 20, 30]).all()


@pytest.mark.parametrize("option", [["--background", "1,2"], ["--background", "a,b,c"], ["--size", "8"]])
def test_bad_options_are_clear_errors(tmp_path, option):
    script = load_script("prepare_wesnoth_portraits")
    with pytest.raises(SystemExit, match="--background|--size"):
        script.main(["--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), *option])
