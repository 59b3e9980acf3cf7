"""scripts/prepare_translate_data.py --from: split two vendors of a GADN-style folder into the
unpaired train/test layout, holding out the same emoji in both domains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from script_loader import load_script


def _script():
    return load_script("prepare_translate_data")


def _vendor_folder(root: Path) -> Path:
    for vendor, names in (
        ("flat", [f"{i:04x}.png" for i in range(12)]),
        ("shaded", [f"{i:04x}.png" for i in range(2, 14)]),
    ):
        (root / vendor).mkdir(parents=True)
        for name in names:
            Image.new("RGB", (8, 8), (10, 20, 30)).save(root / vendor / name)
    (root / "dataset.json").write_text(json.dumps({"licence": "flat: CC0; shaded: MIT"}))
    return root


def test_from_folder_splits_shared_emoji_the_same_way_in_both_domains(tmp_path):
    src = _vendor_folder(tmp_path / "src")
    out = tmp_path / "out"
    assert (
        _script().main(["--from", str(src), "--a", "flat", "--b", "shaded", "--out", str(out), "--test-every", "5"])
        == 0
    )
    for split in ("train", "test"):
        a = sorted(p.name for p in (out / split / "flat").iterdir())
        b = sorted(p.name for p in (out / split / "shaded").iterdir())
        assert a == b  # the same emoji on the same side in both domains
    test = sorted(p.name for p in (out / "test" / "flat").iterdir())
    train = sorted(p.name for p in (out / "train" / "flat").iterdir())
    assert len(test) == 2 and len(train) == 8 and not set(test) & set(train)  # 10 shared emoji
    source = (out / "SOURCE.txt").read_text()
    assert "(CC0)" in source and "(MIT)" in source and "10 emoji drawn by both" in source


def test_missing_vendor_or_unknown_npm_vendor_is_a_clear_error(tmp_path):
    src = _vendor_folder(tmp_path / "src")
    with pytest.raises(SystemExit, match="prepare_gadn_data"):
        _script().main(["--from", str(src), "--a", "flat", "--b", "nobody", "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match="--from"):
        _script().main(["--a", "fluent", "--b", "twitter", "--out", str(tmp_path / "o2")])
