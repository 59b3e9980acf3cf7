"""The emoji data script (on a fake npm tarball, no network) and the CSGAN data loader."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from script_loader import load_script

from studio.core.errors import StudioError
from studio.models.csgan.data import load_folder, sample_batch


def _script():
    return load_script("prepare_emoji")


def _fake_tarball(path: Path, vendor: str) -> None:
    with tarfile.open(path, "w:gz") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for i in range(3):
            buf = io.BytesIO()
            Image.new("RGBA", (64, 64), (255, 200, 0, 128 * i)).save(buf, "PNG")
            add(f"package/img/{vendor}/64/{i:04x}.png", buf.getvalue())
        add(f"package/img/{vendor}/32/skip.png", b"x")
        add("package/../evil.png", b"x")
        add("package/package.json", json.dumps({"name": f"emoji-datasource-{vendor}", "version": "9.9.9"}).encode())
        add("package/emoji.json", b"[]")


@pytest.mark.parametrize("vendor,licence", [("google", "Apache-2.0"), ("twitter", "CC-BY-4.0")])
def test_prepare_emoji_extracts_one_vendor_and_writes_licence(tmp_path, vendor, licence):
    tgz = tmp_path / "pkg.tgz"
    _fake_tarball(tgz, vendor)
    out = tmp_path / "out"
    assert _script().main(["--vendor", vendor, "--tarball", str(tgz), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["0000.png", "0001.png", "0002.png"]
    text = (out / "LICENCE.txt").read_text()
    assert licence in text and "9.9.9" in text
    assert not (tmp_path / "evil.png").exists()
    images = load_folder(out, 64)
    assert images.shape == (3, 3, 64, 64) and images.dtype == torch.uint8
    assert images[0].float().mean() > 150  # transparent pixels composited on white


def test_prepare_emoji_rejects_wrong_tarball(tmp_path):
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(SystemExit, match="not a readable"):
        _script().main(["--tarball", str(bad), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match="no such file"):
        _script().main(["--tarball", str(tmp_path / "missing.tgz"), "--out", str(tmp_path / "o")])


def test_loader_caches_skips_bad_files_and_flips(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    arr = np.zeros((40, 80, 3), np.uint8)
    arr[:, :40] = 255  # left half white: a flip is visible
    Image.fromarray(arr).save(folder / "a.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    messages = []
    images = load_folder(folder, 32, "pad", cache_dir=tmp_path / "cache", progress=messages.append)
    assert images.shape == (1, 3, 32, 32)
    assert any("skipped 1" in m for m in messages)
    assert list((tmp_path / "cache").glob("data-*.npy"))
    again = load_folder(folder, 32, "pad", cache_dir=tmp_path / "cache")
    assert torch.equal(images, again)
    gen = torch.Generator().manual_seed(0)
    batch = sample_batch(images, 16, gen)
    assert batch.min() >= -1 and batch.max() <= 1
    brighter_left = batch[..., :8].mean(dim=(1, 2, 3)) > batch[..., -8:].mean(dim=(1, 2, 3))
    assert brighter_left.any() and (~brighter_left).any()  # some images flipped, some not
    with pytest.raises(StudioError, match="none of the 1 files"):
        bad = tmp_path / "onlybad"
        bad.mkdir()
        (bad / "x.png").write_bytes(b"junk")
        load_folder(bad, 32)
