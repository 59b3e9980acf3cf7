"""Fetch two emoji vendors' drawings and lay them out as an unpaired translation data set.

Why: the bundled starter translator (Google emoji -> Twitter emoji) must be reproducible from
public, licensed data fetched with the registry's own client (``npm pack``), never at app start.

    python scripts/prepare_translate_data.py --a google --b twitter --out data/translate/google2twitter

Vendors that are not in the emoji-datasource packages (Fluent 3D) come from a folder laid out by
scripts/prepare_gadn_data.py (one sub-folder per vendor, the same file name for the same emoji)::

    python scripts/prepare_gadn_data.py --out data/gadn_emoji --vendors google twitter fluent
    python scripts/prepare_translate_data.py --from data/gadn_emoji --a twitter --b fluent \
        --out data/translate/twitter2fluent

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
        out = (
            subprocess.run(["npm", "pack", pkg, "--silent"], cwd=tmp, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()
        )
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


def from_vendor_folder(root: Path, a: str, b: str) -> tuple[Path, Path, list[str], dict[str, str]]:
    """Two vendors out of a prepare_gadn_data.py folder: their dirs, the shared file names, licences."""
    info = json.loads((root / "dataset.json").read_text()) if (root / "dataset.json").exists() else {}
    licences = dict(part.split(": ", 1) for part in info.get("licence", "").split("; ") if ": " in part)
    dir_a, dir_b = root / a, root / b
    for d in (dir_a, dir_b):
        if not d.is_dir():
            raise SystemExit(f"{d} does not exist (run scripts/prepare_gadn_data.py first)")
    shared = sorted(p.name for p in dir_a.glob("*.png") if (dir_b / p.name).exists())
    sources = {v: f"{root / v} ({licences.get(v, 'licence: see ' + str(root / 'dataset.json'))})" for v in (a, b)}
    return dir_a, dir_b, shared, sources


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--a",
        default="google",
        help=f"vendor of domain A ({', '.join(sorted(LICENCES))}, or any vendor folder under --from)",
    )
    ap.add_argument("--b", default="twitter", help="vendor of domain B")
    ap.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="take both vendors from this prepare_gadn_data.py folder instead of npm",
    )
    ap.add_argument("--raw", type=Path, default=Path("data/emoji"))
    ap.add_argument("--out", type=Path, default=Path("data/translate/google2twitter"))
    ap.add_argument("--test-every", type=int, default=10)
    args = ap.parse_args(argv)

    if args.source:
        dir_a, dir_b, shared, sources = from_vendor_folder(args.source, args.a, args.b)
    else:
        for v in (args.a, args.b):
            if v not in LICENCES:
                raise SystemExit(
                    f"vendor '{v}' is not fetched by this script; use --from with a folder "
                    "made by scripts/prepare_gadn_data.py"
                )
        dir_a, meta = fetch_vendor(args.a, args.raw)
        dir_b, _ = fetch_vendor(args.b, args.raw)
        shared = sorted(
            e["image"]
            for e in meta
            if e.get(f"has_img_{args.a}")
            and e.get(f"has_img_{args.b}")
            and (dir_a / e["image"]).exists()
            and (dir_b / e["image"]).exists()
        )
        sources = {v: f"npm {PACKAGE.format(vendor=v)} img/{v}/64 ({LICENCES[v]})" for v in (args.a, args.b)}
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
        f"A: {sources[args.a]}\n"
        f"B: {sources[args.b]}\n"
        f"{len(shared)} emoji drawn by both; every {args.test_every}th held out: "
        f"{len(shared) - n_test} train, {n_test} test per domain\n"
    )
    print((args.out / "SOURCE.txt").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
