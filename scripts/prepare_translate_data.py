"""Fetch two emoji vendors' drawings and lay them out as an unpaired translation data set.

Why: the bundled starter translator (Google emoji -> Twitter emoji) must be reproducible from
public, licensed data fetched with the registry's own client (``npm pack``), never at app start.

    python scripts/prepare_translate_data.py --a google --b twitter --out data/translate/google2twitter

Layout written (64x64 RGBA PNGs, alpha is composited over white by studio.core.images.load_image)::

    OUT/train/<a>  OUT/train/<b>  OUT/test/<a>  OUT/test/<b>  OUT/SOURCE.txt

(the folder names become the translator's domain names).

Only emoji drawn by BOTH vendors are used, and every ``--test-every``-th of them (sorted by code
point) is held out in test/ for measuring the trained translator. Training never sees a test emoji
in either domain. The raw vendor folders go to data/emoji/<vendor>/ (the layout scripts/prepare_emoji.py
uses too, so either script can reuse the other's download).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

LICENCES = {"google": "Apache-2.0", "twitter": "CC-BY-4.0"}
PACKAGE = "emoji-datasource-{vendor}"


def fetch_vendor(vendor: str, raw_root: Path, size: int = 64) -> tuple[Path, list[dict]]:
    """``npm pack`` the vendor's package and extract img/<vendor>/<size>/*.png plus emoji.json."""
    dest = raw_root / vendor
    meta_path = raw_root / f"{vendor}-emoji.json"
    if dest.is_dir() and any(dest.glob("*.png")) and meta_path.exists():
        return dest, json.loads(meta_path.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        pkg = PACKAGE.format(vendor=vendor)
        print(f"npm pack {pkg} ...", file=sys.stderr)
        out = subprocess.run(["npm", "pack", pkg, "--silent"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()
        tgz = Path(tmp) / out[-1]
        prefix = f"package/img/{vendor}/{size}/"
        staging = Path(tmp) / "x"
        staging.mkdir()
        meta = None
        with tarfile.open(tgz) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if member.name == "package/emoji.json":
                    meta = json.load(tar.extractfile(member))
                elif member.name.startswith(prefix) and member.name.endswith(".png"):
                    name = Path(member.name).name
                    if "/" in name or name.startswith("."):
                        continue
                    (staging / name).write_bytes(tar.extractfile(member).read())
        if meta is None:
            raise SystemExit(f"{pkg}: emoji.json not found in the package")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp_dest = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp_dest, ignore_errors=True)
        shutil.copytree(staging, tmp_dest)
        if dest.exists():
            shutil.rmtree(dest)
        tmp_dest.rename(dest)
        meta_path.write_text(json.dumps(meta))
    return dest, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", default="google", choices=sorted(LICENCES))
    ap.add_argument("--b", default="twitter", choices=sorted(LICENCES))
    ap.add_argument("--raw", type=Path, default=Path("data/emoji"))
    ap.add_argument("--out", type=Path, default=Path("data/translate/google2twitter"))
    ap.add_argument("--test-every", type=int, default=10)
    args = ap.parse_args(argv)

    dir_a, meta = fetch_vendor(args.a, args.raw)
    dir_b, _ = fetch_vendor(args.b, args.raw)
    shared = sorted(e["image"] for e in meta
                    if e.get(f"has_img_{args.a}") and e.get(f"has_img_{args.b}")
                    and (dir_a / e["image"]).exists() and (dir_b / e["image"]).exists())
    if not shared:
        raise SystemExit("no emoji are drawn by both vendors (download damaged?)")
    if args.out.exists():
        shutil.rmtree(args.out)
    for split in ("train", "test"):
        for vendor in (args.a, args.b):
            (args.out / split / vendor).mkdir(parents=True)
    n_test = 0
    for i, name in enumerate(shared):
        split = "test" if i % args.test_every == 0 else "train"
        n_test += split == "test"
        shutil.copy2(dir_a / name, args.out / split / args.a / name)
        shutil.copy2(dir_b / name, args.out / split / args.b / name)
    (args.out / "SOURCE.txt").write_text(
        f"A: npm {PACKAGE.format(vendor=args.a)} img/{args.a}/64 ({LICENCES[args.a]})\n"
        f"B: npm {PACKAGE.format(vendor=args.b)} img/{args.b}/64 ({LICENCES[args.b]})\n"
        f"{len(shared)} emoji drawn by both; every {args.test_every}th held out: "
        f"{len(shared) - n_test} train, {n_test} test per domain\n")
    print((args.out / "SOURCE.txt").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
