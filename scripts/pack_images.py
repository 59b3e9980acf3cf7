#!/usr/bin/env python3
"""Pack a prepared image folder into one small ``.tar.xz`` and back, to carry a data set to a lent GPU machine.

Why: PNGs are already deflated, so an archive of them stays as large as the folder (40 MB for the 128 px
openclipart mix), while the raw pixels of line art on white compress ~18x under xz. ``pack`` stores every
PNG's pixels in one raw array (``pixels.u8``, RGB, row after row) with ``index.json`` (path, width, height)
and every other file (``dataset.json``, ``LICENCE.txt``) as it is; ``unpack`` writes the same tree back
(PNGs with identical pixels). No pickle: the archive is JSON and bytes, and member names are checked.

    python scripts/pack_images.py pack data/openclipart openclipart.tar.xz --exclude codifiedivining
    python scripts/pack_images.py unpack openclipart.tar.xz /tmp/data/openclipart
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

INDEX, PIXELS = "index.json", "pixels.u8"


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def pack(src: Path, archive: Path, exclude: set[str] = frozenset(), preset: int = 6) -> int:
    """Write ``archive`` from the tree under ``src``; folders named in ``exclude`` are left out. Returns images."""
    index, chunks = [], []
    others: list[Path] = []
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        rel = path.relative_to(src)
        if rel.parts[0] in exclude:
            continue
        if path.suffix.lower() == ".png":
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
            index.append({"path": rel.as_posix(), "width": rgb.shape[1], "height": rgb.shape[0]})
            chunks.append(rgb.tobytes())
        else:
            others.append(path)
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:xz", preset=preset) as tar:
        _add_bytes(tar, INDEX, json.dumps({"images": index, "excluded": sorted(exclude)}).encode())
        _add_bytes(tar, PIXELS, b"".join(chunks))
        for path in others:
            tar.add(path, arcname=f"files/{path.relative_to(src).as_posix()}", recursive=False)
    partial.replace(archive)
    return len(index)


def _safe_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise SystemExit(f"refusing archive member path {name!r}")
    return rel


def unpack(archive: Path, dest: Path) -> int:
    """Write the tree packed in ``archive`` under ``dest`` (which must not exist yet). Returns images."""
    if dest.exists():
        raise SystemExit(f"{dest} already exists; choose a new folder")
    partial = dest.with_name(f".{dest.name}.partial")
    with tarfile.open(archive, "r:xz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        if INDEX not in members or PIXELS not in members:
            raise SystemExit(f"{archive}: not a pack_images.py archive (no {INDEX} / {PIXELS})")
        index = json.loads(tar.extractfile(members[INDEX]).read())  # type: ignore[union-attr]
        pixels = tar.extractfile(members[PIXELS]).read()  # type: ignore[union-attr]
        offset = 0
        for item in index["images"]:
            w, h = int(item["width"]), int(item["height"])
            size = w * h * 3
            if offset + size > len(pixels):
                raise SystemExit(f"{archive}: pixel data ends early at {item['path']}")
            target = partial / _safe_relative(item["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            rgb = np.frombuffer(pixels, np.uint8, size, offset).reshape(h, w, 3)
            Image.fromarray(rgb).save(target)
            offset += size
        for name, member in members.items():
            if name.startswith("files/") and member.isfile():
                target = partial / _safe_relative(name.removeprefix("files/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    partial.rename(dest)
    return len(index["images"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("src", type=Path)
    p.add_argument("archive", type=Path)
    p.add_argument("--exclude", action="append", default=[], metavar="FOLDER", help="top-level folder to leave out")
    p.add_argument("--preset", type=int, default=6, help="xz preset 0-9")
    u = sub.add_parser("unpack")
    u.add_argument("archive", type=Path)
    u.add_argument("dest", type=Path)
    args = ap.parse_args(argv)
    if args.command == "pack":
        n = pack(args.src, args.archive, set(args.exclude), args.preset)
        print(f"{n} images -> {args.archive} ({args.archive.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    else:
        n = unpack(args.archive, args.dest)
        print(f"{n} images -> {args.dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
