"""scripts/pack_images.py: a packed image tree unpacks to identical pixels and files; bad archives are refused."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
from PIL import Image
from script_loader import load_script


def _script():
    return load_script("pack_images")


def test_round_trip_keeps_pixels_and_files_and_excludes(tmp_path):
    mod = _script()
    src = tmp_path / "src"
    rng = np.random.default_rng(0)
    for folder, n in (("ann", 2), ("bob", 1), ("skip", 1)):
        (src / folder).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (8 + i, 6, 3), dtype=np.uint8)).save(src / folder / f"{i}.png")
    (src / "dataset.json").write_text('{"a": 1}')
    archive = tmp_path / "d.tar.xz"
    assert mod.pack(src, archive, {"skip"}) == 3
    dest = tmp_path / "dest"
    assert mod.unpack(archive, dest) == 3
    assert (dest / "dataset.json").read_text() == '{"a": 1}'
    assert not (dest / "skip").exists()
    for png in src.glob("[ab]*/*.png"):
        with Image.open(png) as a, Image.open(dest / png.relative_to(src)) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(SystemExit, match="already exists"):
        mod.unpack(archive, dest)


def test_refuses_foreign_archives_and_escaping_paths(tmp_path):
    mod = _script()
    foreign = tmp_path / "f.tar.xz"
    with tarfile.open(foreign, "w:xz") as tar:
        info = tarfile.TarInfo("x.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(SystemExit, match="not a pack_images"):
        mod.unpack(foreign, tmp_path / "out1")
    evil = tmp_path / "e.tar.xz"
    with tarfile.open(evil, "w:xz") as tar:
        for name, data in (
            ("index.json", b'{"images": [{"path": "../x.png", "width": 1, "height": 1}]}'),
            ("pixels.u8", b"abc"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(SystemExit, match="refusing"):
        mod.unpack(evil, tmp_path / "out2")
    assert not (tmp_path / "x.png").exists()
