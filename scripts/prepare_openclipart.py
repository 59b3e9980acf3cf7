#!/usr/bin/env python3
"""Render Debian's public-domain ``openclipart-svg`` drawings into one folder per artist: ``data/openclipart/``.

The package holds 8,121 SVG files (7,458 distinct drawings once symlinks and byte-identical copies are
dropped). Its folders are *topics* (``science/medicine``, ``recreation/holiday``...), not artists; the
artist is in each file's metadata, ``<dc:creator><cc:Agent><dc:title>NAME</dc:title>``, which every
file has (61 with an empty name, which are left out). This script:

1. fetches the package with Debian's own client (``apt-get download openclipart-svg``, after
   ``apt-get update`` when apt knows no candidate) into ``--cache`` unless a ``.deb`` is already there,
2. unpacks it with ``dpkg -x``,
3. groups the distinct drawings by artist and keeps the artists with at least ``--min-per-artist``,
4. renders each drawing with Debian's ``rsvg-convert`` (package ``librsvg2-bin``; ``cairosvg`` when that
   is importable and rsvg-convert is not), crops it to its drawn area, scales it to fit the square inside
   a ``--pad`` margin and centres it on white: ``data/openclipart/<artist>/<name>.png``, ``--size`` px RGB.
   Files that fail or run past ``--timeout`` seconds are skipped and counted. ``--jobs`` files at once.
5. writes ``dataset.json`` (source, licence, artists with counts, skipped files, the command) and
   ``LICENCE.txt``.

The layout is the one ``studio train can --data`` and ``studio train gadn --data`` read (one subfolder of
images per style / artist; GADN also reads ``dataset.json``).

Usage::

    python scripts/prepare_openclipart.py --size 128                    # artists with >= 50 drawings
    python scripts/prepare_openclipart.py --min-per-artist 200 --out data/openclipart-top
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "openclipart-svg"
SVG_ROOT = "usr/share/openclipart/svg"
LICENCE = "public domain (openclipart, via Debian openclipart-svg)"

_CREATOR = re.compile(r"<dc:creator>\s*<cc:Agent[^>]*>\s*<dc:title>(.*?)</dc:title>", re.S)


def fetch(cache: Path) -> Path:
    """The folder of unpacked SVGs; downloads (``apt-get download``) and unpacks (``dpkg -x``) when needed."""
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / "root"
    svg_root = root / SVG_ROOT
    if svg_root.is_dir():
        return svg_root
    debs = sorted(cache.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        if shutil.which("apt-get") is None:
            raise SystemExit(f"apt-get is not available; put a {PACKAGE} .deb in {cache}")
        policy = subprocess.run(["apt-cache", "policy", PACKAGE], capture_output=True, text=True)
        if "Candidate:" not in policy.stdout or "Candidate: (none)" in policy.stdout:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "download", PACKAGE], cwd=cache, check=True)
        debs = sorted(cache.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            raise SystemExit(f"apt-get download {PACKAGE} left no .deb in {cache}")
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(root)], check=True)
    if not svg_root.is_dir():
        raise SystemExit(f"{debs[-1].name}: it holds no {SVG_ROOT}")
    return svg_root


def artist_of(svg: bytes) -> str:
    """The drawing's artist from ``<dc:creator><cc:Agent><dc:title>``; '' when there is none."""
    m = _CREATOR.search(svg.decode("utf-8", "replace"))
    return " ".join(html.unescape(m.group(1)).split()) if m else ""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def group_by_artist(svg_root: Path) -> dict[str, list[Path]]:
    """Distinct drawings (symlinks and byte-identical copies dropped, first path kept) by artist name."""
    seen: set[str] = set()
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(svg_root.rglob("*.svg")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        name = artist_of(data)
        if name:
            groups[name].append(path)
    return dict(groups)


def renderer() -> str:
    """'rsvg-convert' or 'cairosvg', whichever is available (rsvg first)."""
    if shutil.which("rsvg-convert"):
        return "rsvg-convert"
    try:
        import cairosvg  # noqa: F401
    except ImportError:
        raise SystemExit(
            "no SVG renderer: apt-get install librsvg2-bin (scripts/install.sh does), or pip install cairosvg"
        ) from None
    return "cairosvg"


def rasterise(path: Path, box: int, timeout: float, tool: str) -> Image.Image:
    """The SVG rendered to fit a ``box``×``box`` square (aspect kept), RGBA."""
    if tool == "rsvg-convert":
        out = subprocess.run(
            ["rsvg-convert", "--keep-aspect-ratio", "-w", str(box), "-h", str(box), "-f", "png", str(path)],
            capture_output=True,
            timeout=timeout,
        )
        if out.returncode != 0 or not out.stdout:
            raise ValueError(out.stderr.decode("utf-8", "replace").strip()[:200] or "rsvg-convert failed")
        data = out.stdout
    else:
        import cairosvg

        data = cairosvg.svg2png(url=str(path), output_width=box, output_height=box)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.convert("RGBA")


def square_on_white(rgba: Image.Image, size: int, pad: float) -> Image.Image:
    """Crop to the drawn area, scale to fit the square less ``pad`` on each side, centre it on white."""
    base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(base, rgba).convert("RGB")
    alpha_box = rgba.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    ink = Image.eval(flat.convert("L"), lambda v: 255 if v < 250 else 0).getbbox()
    box = ink or alpha_box
    if box is None:
        raise ValueError("nothing is drawn")
    drawing = flat.crop(box)
    inner = max(1, round(size * (1 - 2 * pad)))
    scale = inner / max(drawing.size)
    w, h = max(1, round(drawing.width * scale)), max(1, round(drawing.height * scale))
    drawing = drawing.resize((w, h), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    canvas.paste(drawing, ((size - w) // 2, (size - h) // 2))
    return canvas


def render_one(path: Path, target: Path, size: int, pad: float, timeout: float, tool: str) -> str | None:
    """Write one PNG; the reason when it could not be rendered, else None."""
    try:
        img = square_on_white(rasterise(path, size * 2, timeout, tool), size, pad)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:g} s"
    except Exception as exc:  # one broken drawing must not stop the set
        return str(exc) or type(exc).__name__
    tmp = target.with_name(f".{target.name}.tmp")
    img.save(tmp, format="PNG")
    tmp.replace(target)
    return None


def render_artists(
    groups: dict[str, list[Path]],
    out: Path,
    size: int,
    pad: float = 0.06,
    timeout: float = 20.0,
    jobs: int = 2,
    tool: str | None = None,
    svg_root: Path | None = None,
) -> tuple[dict[str, int], dict[str, str]]:
    """Render every group into ``out/<slug(artist)>/<name>.png``; (images per folder, {file: why skipped})."""
    tool = tool or renderer()
    tasks = []
    for artist, paths in sorted(groups.items()):
        folder = out / slug(artist)
        folder.mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        for path in paths:
            stem = slug(path.stem) or "drawing"
            name, k = stem, 2
            while name in used:
                name, k = f"{stem}-{k}", k + 1
            used.add(name)
            tasks.append((folder.name, path, folder / f"{name}.png"))
    counts: dict[str, int] = defaultdict(int)
    skipped: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = pool.map(lambda t: render_one(t[1], t[2], size, pad, timeout, tool), tasks)
        for (folder_name, path, _), why in zip(tasks, results, strict=True):
            if why is None:
                counts[folder_name] += 1
            else:
                skipped[str(path.relative_to(svg_root)) if svg_root else str(path)] = why
    return dict(counts), skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "openclipart")
    ap.add_argument("--cache", type=Path, default=REPO_ROOT / "data" / "openclipart_src")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--min-per-artist", type=int, default=50)
    ap.add_argument("--pad", type=float, default=0.06, help="white margin on each side, fraction of --size")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per file before it is skipped")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="ARTIST",
        help="leave out this artist (folder name, e.g. codifiedivining, whose 1,375 drawings are generated star "
        "polygons that swamp a mix); repeatable",
    )
    args = ap.parse_args(argv)

    start = time.monotonic()
    tool = renderer()
    svg_root = fetch(args.cache)
    groups = group_by_artist(svg_root)
    excluded = set(args.exclude)
    kept = {a: p for a, p in groups.items() if len(p) >= args.min_per_artist and slug(a) not in excluded}
    print(
        f"{sum(len(p) for p in groups.values())} distinct drawings by {len(groups)} named artists; "
        f"{len(kept)} with >= {args.min_per_artist}: rendering with {tool}",
        file=sys.stderr,
    )
    partial = args.out.with_name(f".{args.out.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    counts, skipped = render_artists(kept, partial, args.size, args.pad, args.timeout, args.jobs, tool, svg_root)
    artists = {
        slug(a): {"name": a, "drawings": len(p), "images": counts.get(slug(a), 0)} for a, p in sorted(kept.items())
    }
    info = {
        "source": f"Debian {PACKAGE} ({svg_root.relative_to(args.cache)}), fetched by scripts/prepare_openclipart.py",
        "licence": LICENCE,
        "renderer": tool,
        "size": args.size,
        "min_per_artist": args.min_per_artist,
        "excluded": sorted(excluded),
        "artists": artists,
        "images": sum(counts.values()),
        "skipped": skipped,
        "command": "python scripts/prepare_openclipart.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    (partial / "dataset.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (partial / "LICENCE.txt").write_text(
        f"Drawings from the Open Clip Art Library, {LICENCE}; each SVG's metadata carries "
        "cc:license PublicDomain. Artists (folder: name, images):\n"
        + "".join(f"- {s}: {v['name']}, {v['images']}\n" for s, v in artists.items()),
        encoding="utf-8",
    )
    if args.out.exists():
        shutil.rmtree(args.out)
    partial.rename(args.out)  # the folder appears complete or not at all
    for s, v in artists.items():
        print(f"{s:<36} {v['images']:>5} images  ({v['name']})", file=sys.stderr)
    print(
        f"{info['images']} images in {args.out}, {len(skipped)} skipped, {time.monotonic() - start:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
