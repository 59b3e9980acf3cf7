"""scripts/prepare_fresh_photos.py on a fake package tree (no download): only the listed photos are cut,
as the held-out photos are, each with the licence its package's copyright file gives; a missing photo is
a clear error."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from script_loader import load_script

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2010 Ubuntu community contributors
License: CC-BY-SA-3.0

Files: 16.04/{a}
Copyright: Someone, 2018
License: CC-BY-4.0

Files: 16.04/{b}
Copyright: Other Person, 2018
License: CC0-1.0
"""


def _fake(cache, script, leave_out: str | None = None) -> None:
    a, b = script.PHOTOS[0], script.PHOTOS[1]
    for k, pkg in enumerate(script.PACKAGES):
        root = cache / pkg / "root"
        (root / "usr/share/doc" / pkg).mkdir(parents=True)
        (root / "usr/share/doc" / pkg / "copyright").write_text(COPYRIGHT.format(a=a, b=b))
        folder = root / "usr/share/backgrounds"
        folder.mkdir(parents=True)
        Image.new("RGB", (800, 500), (10, 20, 30)).save(folder / f"abstract-{k}.jpg")  # not a listed photo
        for i, name in enumerate(script.PHOTOS):
            if i % len(script.PACKAGES) == k and name != leave_out:
                Image.new("RGB", (600 + i, 450), (i * 15 % 255, 100, 200)).save(folder / name)


def test_cuts_the_listed_photos_with_their_licences(tmp_path):
    script = load_script("prepare_fresh_photos")
    _fake(tmp_path / "cache", script)
    out = tmp_path / "fresh"
    assert script.main(["--out", str(out), "--cache", str(tmp_path / "cache"), "--crops", "3", "--size", "64"]) == 0
    crops = sorted((out / "testA").glob("*.png"))
    assert len(crops) == 3 * len(script.PHOTOS)
    assert all(Image.open(c).size == (64, 64) for c in crops)
    assert not any("abstract" in c.name for c in crops)
    info = json.loads((out / "dataset.json").read_text())
    licences = {row["file"]: row["licence"] for row in info["photos"]}
    assert licences[script.PHOTOS[0]] == "CC-BY-4.0, © Someone, 2018"
    assert licences[script.PHOTOS[1]] == "CC0-1.0, © Other Person, 2018"
    assert "CC-BY-SA-3.0" in licences[script.PHOTOS[2]]
    assert len((out / "LICENCE.txt").read_text().splitlines()) == len(script.PHOTOS)
    # the same seed cuts the same crops
    again = tmp_path / "again"
    script.main(["--out", str(again), "--cache", str(tmp_path / "cache"), "--crops", "3", "--size", "64"])
    assert (again / "testA" / crops[0].name).read_bytes() == crops[0].read_bytes()


def test_a_missing_photo_is_a_clear_error(tmp_path):
    script = load_script("prepare_fresh_photos")
    _fake(tmp_path / "cache", script, leave_out=script.PHOTOS[3])
    with pytest.raises(SystemExit, match=script.PHOTOS[3]):
        script.main(["--out", str(tmp_path / "fresh"), "--cache", str(tmp_path / "cache")])
