"""scripts/prepare_photo2painting.py on a tiny fake package tree (no download): photos and paintings found
in each package, whole source images held out, random crops in the translator's four folders, licences."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from script_loader import load_script


def _script():
    return load_script("prepare_photo2painting")


def _rcc_tool() -> Path | None:
    import PySide6

    for candidate in (Path(sys.executable).parent / "pyside6-rcc", Path(PySide6.__file__).parent / "Qt/libexec/rcc"):
        if candidate.exists():
            return candidate
    return None


def _image(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, colour)
    img.paste((255 - colour[0], colour[1], 255 - colour[2]), (0, 0, size[0] // 3, size[1] // 2))
    img.save(path)


def _rcc(tool: Path, src: Path, prefix: str, files: list[str], target: Path) -> None:
    entries = "".join(f"<file>{f}</file>" for f in files)
    (src / "res.qrc").write_text(f'<RCC><qresource prefix="{prefix}">{entries}</qresource></RCC>')
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(tool), "--binary", "-o", str(target), str(src / "res.qrc")], check=True, cwd=src)


def _board(title: str, pieces: list[tuple[str, float, float]]) -> str:
    items = "".join(f'{{"pixmapfile" : "{p}", "x" : "{x}", "y" : "{y}"}},' for p, x, y in pieces)
    return (
        f'QtObject {{ property string instruction: qsTr("{title}")\n property var levels : ['
        f'{{"pixmapfile" : "image/bg.svg", "type" : "SHAPE_BACKGROUND_IMAGE", "width": 200, "height": 160}},'
        f"{items}]}}"
    )


def _fake_packages(cache: Path, tool: Path) -> None:
    rcc = cache / "gcompris-qt-data/root/usr/share/gcompris-qt/rcc"
    work = cache / "build"
    # paintings.rcc: two boards of two pieces each
    p = work / "paintings"
    for b, colour in ((1, (200, 40, 40)), (2, (40, 40, 200))):
        for k in (1, 2):
            _image(p / f"image/b{b}-{k}.png", (100, 160), colour)
        (p / f"board/board{b}_0.qml").parent.mkdir(parents=True, exist_ok=True)
        (p / f"board/board{b}_0.qml").write_text(
            _board(
                f"Painter {b}, Painting {b} - 1880",
                [(f"image/b{b}-1.png", 0.25, 0.5), (f"image/b{b}-2.png", 0.75, 0.5)],
            )
        )
    files = [str(f.relative_to(p)) for f in sorted(p.rglob("*")) if f.is_file()]
    _rcc(tool, p, "/gcompris/src/activities/paintings/resource", files, rcc / "paintings.rcc")
    # details.rcc: a Van Gogh (painting) and a monument (not taken from details)
    d = work / "details"
    _image(d / "image/VincentVanGogh0012_background.webp", (160, 200), (220, 180, 30))
    _image(d / "image/TourEiffel_background.webp", (160, 200), (90, 90, 90))
    _rcc(
        tool,
        d,
        "/gcompris/src/activities/details/resource",
        ["image/VincentVanGogh0012_background.webp", "image/TourEiffel_background.webp"],
        rcc / "details.rcc",
    )
    # erase.rcc: four photos and one small icon (skipped)
    e = work / "erase"
    names = []
    for k in range(4):
        _image(e / f"photo{k}.webp", (192, 108), (30 + 50 * k, 160, 90))
        names.append(f"photo{k}.webp")
    _image(e / "icon.png", (40, 40), (0, 0, 0))
    _rcc(tool, e, "/gcompris/src/activities/erase/resource", [*names, "icon.png"], rcc / "erase.rcc")
    # explore_farm_animals.rcc: two more photos, read only by the opt-in gcompris-photos source
    f = work / "farm"
    for k in range(2):
        _image(f / f"animal{k}.webp", (200, 150), (120, 60 + 40 * k, 30))
    _rcc(
        tool,
        f,
        "/gcompris/src/activities/explore_farm_animals/resource",
        ["animal0.webp", "animal1.webp"],
        rcc / "explore_farm_animals.rcc",
    )
    (cache / "gcompris-qt-data/root/usr/share/doc/gcompris-qt-data").mkdir(parents=True)
    (cache / "gcompris-qt-data/root/usr/share/doc/gcompris-qt-data/copyright").write_text("Files: *\nLicense: GPL-3+\n")
    # mate-backgrounds: photos in nature/, a drawn abstract elsewhere (not taken)
    mate = cache / "mate-backgrounds/root/usr/share/backgrounds/mate"
    _image(mate / "nature/Dune.jpg", (200, 120), (210, 190, 120))
    _image(mate / "nature/Aqua.jpg", (200, 120), (20, 120, 200))
    _image(mate / "abstract/Flow.png", (200, 120), (250, 0, 250))
    # palapeli-data: one photo whose .desktop names its licence
    pal = cache / "palapeli-data/root/usr/share/palapeli/collection"
    _image(pal / "citrus-fruits.jpg", (180, 120), (250, 160, 0))
    (pal / "citrus-fruits.desktop").write_text(
        "[Desktop Entry]\nName=Citrus\nX-KDE-PluginInfo-Author=USDA\nX-KDE-PluginInfo-License=Public Domain\n"
    )


@pytest.fixture(scope="module")
def fake_cache(tmp_path_factory):
    tool = _rcc_tool()
    if tool is None:
        pytest.skip("PySide6's rcc tool is not installed")
    root = tmp_path_factory.mktemp("p2p")
    _fake_packages(root / "cache", tool)
    return root


def _prepare(root: Path, out: Path, *extra: str) -> dict:
    args = [
        "--cache",
        str(root / "cache"),
        "--out",
        str(out),
        "--size",
        "32",
        "--scale",
        "48",
        "--crops-a",
        "3",
        "--crops-b",
        "5",
        "--test-crops-a",
        "2",
        "--test-crops-b",
        "4",
        "--holdout",
        "0.5",
        "--min-side",
        "90",
        *extra,
    ]
    assert _script().main(args) == 0
    return json.loads((out / "dataset.json").read_text())


@pytest.fixture(scope="module")
def prepared(fake_cache):
    out = fake_cache / "out"
    return out, _prepare(fake_cache, out)


def test_more_photos_join_without_moving_the_split(fake_cache, prepared):
    _, info = prepared
    out = fake_cache / "out-more"
    more = _prepare(fake_cache, out, "--sources", "gcompris-qt-data,mate-backgrounds,palapeli-data,gcompris-photos")
    added = {k: v for k, v in more["images"].items() if k not in info["images"]}
    assert set(added) == {"gcphoto-animal0", "gcphoto-animal1"}
    assert all(v["domain"] == "A" and "CC-BY" in v["licence"] for v in added.values())
    assert sorted(v["split"] for v in added.values()) == ["test", "train"]  # holdout 0.5 of the two
    for key, v in info["images"].items():  # every earlier image kept its side of the split
        assert more["images"][key]["split"] == v["split"]
    assert more["packages"]["gcompris-photos"]["images"] == 2
    assert any(p.name.startswith("gcphoto-") for p in (out / "trainA").glob("*.png"))


def test_finds_photos_and_paintings_with_their_licences(prepared):
    out, info = prepared
    images = info["images"]
    paintings = {k for k, v in images.items() if v["domain"] == "B"}
    photos = {k for k, v in images.items() if v["domain"] == "A"}
    assert paintings == {
        "gcompris-painter-1-painting-1",
        "gcompris-painter-2-painting-2",
        "gcompris-vincentvangogh0012",
    }
    assert photos == {f"gcompris-photo{k}" for k in range(4)} | {"mate-dune", "mate-aqua", "palapeli-citrus-fruits"}
    assert images["palapeli-citrus-fruits"]["licence"] == "Public Domain, by USDA"
    assert "GPL-2+" in images["mate-dune"]["licence"]
    assert "Painting 1" in images["gcompris-painter-1-painting-1"]["licence"]
    assert (out / "LICENCE-gcompris-qt-data.txt").read_text().startswith("Files: *")
    assert "palapeli-citrus-fruits" in (out / "LICENCE.txt").read_text()


def test_held_out_images_never_appear_in_training(prepared):
    out, info = prepared
    for domain in "AB":
        train = {p.name.rsplit("-", 1)[0] for p in (out / f"train{domain}").glob("*.png")}
        test = {p.name.rsplit("-", 1)[0] for p in (out / f"test{domain}").glob("*.png")}
        assert train and test and not train & test
        assert test == {k for k, v in info["images"].items() if v["domain"] == domain and v["split"] == "test"}


def test_crop_counts_and_sizes(prepared):
    out, info = prepared
    images = info["images"]
    for folder, per in (("trainA", 3), ("trainB", 5), ("testA", 2), ("testB", 4)):
        split, domain = folder[:-1], folder[-1]
        n = sum(1 for v in images.values() if v["domain"] == domain and v["split"] == split)
        files = sorted((out / folder).glob("*.png"))
        assert len(files) == n * per == info["counts"][folder]
        with Image.open(files[0]) as im:
            assert im.size == (32, 32)
    assert not out.with_name(".out.partial").exists()


def test_split_is_seeded_and_per_source():
    m = _script()
    sources = [m.Source(f"mate-{i}", "A", "", "", Image.new("RGB", (8, 8))) for i in range(10)]
    sources += [m.Source(f"gcompris-{i}", "A", "", "", Image.new("RGB", (8, 8))) for i in range(5)]
    a, b = m.split_by_image(sources, 0.2, 3), m.split_by_image(sources, 0.2, 3)
    assert a == b
    assert sum(a[f"mate-{i}"] == "test" for i in range(10)) == 2
    assert sum(a[f"gcompris-{i}"] == "test" for i in range(5)) == 1
    assert m.split_by_image(sources, 0.2, 4) != a
