"""scripts/prepare_openclipart.py without the download: artists from SVG metadata, duplicates dropped,
drawings rendered to centred squares on white in one folder per artist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from script_loader import load_script


def _script():
    return load_script("prepare_openclipart")


def _svg(artist: str, shape: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:cc="http://web.resource.org/cc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'width="200" height="100" viewBox="0 0 200 100"><metadata><rdf:RDF><cc:Work rdf:about="">'
        "<dc:title>x</dc:title><dc:publisher><cc:Agent><dc:title>Open Clip Art Library</dc:title></cc:Agent>"
        f"</dc:publisher><dc:creator><cc:Agent><dc:title>{artist}</dc:title></cc:Agent></dc:creator>"
        f"</cc:Work></rdf:RDF></metadata>{shape}</svg>"
    )


def _tree(root: Path) -> Path:
    svg = root / "usr/share/openclipart/svg"
    (svg / "animals").mkdir(parents=True)
    (svg / "shapes").mkdir(parents=True)
    (svg / "animals/cat.svg").write_text(_svg("Ann  Smith", '<rect x="10" y="10" width="60" height="30" fill="red"/>'))
    (svg / "shapes/dog.svg").write_text(_svg("Ann Smith", '<circle cx="100" cy="50" r="40" fill="blue"/>'))
    (svg / "shapes/star.svg").write_text(_svg("Bob &amp; Co", '<rect width="200" height="100" fill="#00aa00"/>'))
    (svg / "shapes/zz-copy.svg").write_bytes((svg / "shapes/dog.svg").read_bytes())  # byte-identical copy
    (svg / "shapes/anon.svg").write_text(_svg("", '<rect width="5" height="5"/>'))
    return svg


def test_groups_by_creator_and_drops_copies(tmp_path):
    mod = _script()
    groups = mod.group_by_artist(_tree(tmp_path))
    assert sorted(groups) == ["Ann Smith", "Bob & Co"]
    assert sorted(p.name for p in groups["Ann Smith"]) == ["cat.svg", "dog.svg"]
    assert mod.slug("Bob & Co") == "bob-co"


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin, scripts/install.sh)")
def test_renders_square_pngs_per_artist(tmp_path):
    mod = _script()
    svg = _tree(tmp_path / "src")
    out = tmp_path / "out"
    counts, skipped = mod.render_artists(mod.group_by_artist(svg), out, size=32, jobs=2, tool="rsvg-convert")
    assert counts == {"ann-smith": 2, "bob-co": 1}
    assert skipped == {}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "ann-smith/cat.png",
        "ann-smith/dog.png",
        "bob-co/star.png",
    ]
    for png in out.rglob("*.png"):
        with Image.open(png) as im:
            assert im.size == (32, 32) and im.mode == "RGB"
    with Image.open(out / "ann-smith/cat.png") as im:  # a 2:1 red bar: centred, white above and below
        assert im.getpixel((16, 16))[0] > 200 and im.getpixel((16, 16))[2] < 60
        assert im.getpixel((16, 1)) == (255, 255, 255) and im.getpixel((0, 16)) == (255, 255, 255)


def test_broken_svg_is_skipped_not_fatal(tmp_path):
    mod = _script()
    bad = tmp_path / "bad.svg"
    bad.write_text("<svg")
    target = tmp_path / "bad.png"
    tool = "rsvg-convert" if shutil.which("rsvg-convert") else "cairosvg"
    if tool == "cairosvg":
        pytest.importorskip("cairosvg")
    assert mod.render_one(bad, target, 32, 0.06, 10.0, tool) is not None
    assert not target.exists()


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin, scripts/install.sh)")
def test_exclude_leaves_an_artist_out_and_says_so(tmp_path):
    mod = _script()
    cache = tmp_path / "cache"
    _tree(cache / "root")  # an unpacked package in the cache: nothing is downloaded
    out = tmp_path / "out"
    rc = mod.main(
        ["--cache", str(cache), "--out", str(out), "--size", "32", "--min-per-artist", "1", "--exclude", "bob-co"]
    )
    assert rc in (0, None)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["ann-smith"]
    info = json.loads((out / "dataset.json").read_text())
    assert info["excluded"] == ["bob-co"] and list(info["artists"]) == ["ann-smith"]
