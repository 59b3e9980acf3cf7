#!/usr/bin/env python
"""Icon themes as GADN artists: the same freedesktop icon names drawn by different design teams, at 128 px.

Why icon themes: issue 14 asks for a GADN whose artists are real. Every theme draws the same named icons
(``folder``, ``user-trash``, ``media-optical``...), so -- as with the emoji vendors -- the theme is a clean
style label and the icon name is a content label shared across themes: Tango's folder redrawn in Oxygen's
style can be compared with Oxygen's real folder. The themes are drawn at 128 px or more (SVG, or PNG at
128/256 px), so nothing is upscaled.

Sources (``apt-get download``, unpacked with ``dpkg -x``; nothing is fetched at run time by the studio):
  tango       tango-icon-theme            public domain          scalable SVG
  oxygen      oxygen-icon-theme           LGPL-3+                PNG 128/256 px
  elementary  elementary-xfce-icon-theme  GPL-2+ (some LGPL-2+ / CC-BY-SA-2.0)  PNG 128 px
  gnome       gnome-icon-theme (3.12)     GPL-2+ / GPL-3+        PNG 256 px
  papirus     papirus-icon-theme          GPL-3                  SVG
Symbolic (monochrome) icons and sizes under 128 px are left out; aliases (symlinks to one drawing) count
once per theme. Each theme keeps at most ``--per-theme`` icons, those that the most other themes also
draw first, so the content pairs are as many as the themes allow.

Output: DATA/<theme>/<icon-name>.png (RGB, drawn area centred on white) and DATA/dataset.json with the
sources, licences, counts, each icon's freedesktop context as its category, and the command.

    python scripts/prepare_icon_themes.py --out data/icon_themes
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prepare_openclipart as oc  # sibling script: SVG rendering and centring on white
import prepare_photo2painting as p2p  # sibling script: fetching a Debian package with apt-get download

REPO_ROOT = Path(__file__).resolve().parents[1]
THEMES = {  # name: (Debian package, folder under the unpacked package, licence)
    "tango": ("tango-icon-theme", "usr/share/icons/Tango", "public domain"),
    "oxygen": ("oxygen-icon-theme", "usr/share/icons/oxygen/base", "LGPL-3+"),
    "elementary": (
        "elementary-xfce-icon-theme",
        "usr/share/icons/elementary-xfce",
        "GPL-2+ (some files LGPL-2+ or CC-BY-SA-2.0; see the package's copyright file)",
    ),
    "gnome": ("gnome-icon-theme", "usr/share/icons/gnome", "GPL-2+ / GPL-3+ (see the package's copyright file)"),
    "papirus": ("papirus-icon-theme", "usr/share/icons/Papirus", "GPL-3"),
    "breeze": ("breeze-icon-theme", "usr/share/icons/breeze", "LGPL-3+ (see the package's copyright file)"),
}
DEFAULT_THEMES = ["tango", "oxygen", "elementary", "gnome", "papirus"]
CONTEXTS = {"actions", "apps", "categories", "devices", "emblems", "mimetypes", "places", "status", "emotes"}
_SIZE_DIR = re.compile(r"(\d+)(?:x\1)?(@2x)?")


def pixel_size(rel: Path) -> int:
    """The icon's drawn size from its folder names (``128x128``, ``256``, ``scalable``); 0 when unknown."""
    for part in rel.parts[:-1]:
        if part == "scalable":
            return 1 << 16
        m = _SIZE_DIR.fullmatch(part)
        if m:
            return int(m.group(1)) * (2 if m.group(2) else 1)
    return 0


def context_of(rel: Path) -> str:
    """The freedesktop context folder (apps, places, devices...) the icon lives in; '' when none."""
    return next((part for part in rel.parts[:-1] if part in CONTEXTS), "")


def best_icons(root: Path, min_size: int) -> dict[str, tuple[int, Path, str]]:
    """name -> (drawn size, file, context) of the largest full-colour drawing of each icon in one theme.

    SVGs count as scalable wherever they sit, except those in folders under 32 px (pixel-hinted tiny
    variants). Dangling links and symbolic icons are skipped."""
    best: dict[str, tuple[int, Path, str]] = {}
    for path in root.rglob("*"):
        if path.suffix not in (".png", ".svg") or "symbolic" in str(path) or not path.is_file():
            continue
        rel = path.relative_to(root)
        size = pixel_size(rel)
        if path.suffix == ".svg":
            if 0 < size < 32:
                continue
            size = 1 << 16
        if size < min_size:
            continue
        name = path.stem
        if name not in best or size > best[name][0]:
            best[name] = (size, path, context_of(rel))
    return best


def choose(per_theme: dict[str, dict[str, tuple[int, Path, str]]], cap: int) -> dict[str, list[str]]:
    """The icon names each theme keeps: one name per drawing (aliases once), names drawn by the most
    themes first (then alphabetical), at most ``cap`` per theme."""
    coverage = Counter(name for icons in per_theme.values() for name in icons)
    order = sorted(coverage, key=lambda n: (-coverage[n], n))
    chosen: dict[str, list[str]] = {}
    for theme, icons in per_theme.items():
        seen: set[str] = set()
        keep = []
        for name in order:
            if name not in icons:
                continue
            real = os.path.realpath(icons[name][1])
            if real in seen:
                continue
            seen.add(real)
            keep.append(name)
            if len(keep) == cap:
                break
        chosen[theme] = keep
    return chosen


def render_icon(path: Path, size: int, pad: float) -> Image.Image:
    """One icon as an RGB square: SVGs rasterised at twice the size, PNGs read; drawn area centred on white."""
    if path.suffix == ".svg":
        rgba = oc.rasterise(path, size * 2, 30.0, oc.renderer())
    else:
        with Image.open(path) as im:
            rgba = im.convert("RGBA")
    return oc.square_on_white(rgba, size, pad)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "icon_themes")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/icon-theme-debs"))
    ap.add_argument("--themes", nargs="+", default=DEFAULT_THEMES, choices=sorted(THEMES))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--per-theme", type=int, default=700, help="at most this many icons per theme")
    ap.add_argument("--pad", type=float, default=0.06, help="white margin on each side, as a fraction")
    args = ap.parse_args(argv)
    if len(set(args.themes)) < 2:
        raise SystemExit("--themes: give at least two different themes")
    if args.size < 16:
        raise SystemExit(f"--size {args.size}: too small (at least 16)")

    per_theme = {}
    for theme in args.themes:
        package, folder, _ = THEMES[theme]
        root = p2p.fetch_package(package, args.cache) / folder
        if not root.is_dir():
            raise SystemExit(f"{package}: it holds no {folder}")
        per_theme[theme] = best_icons(root, args.size)
    chosen = choose(per_theme, args.per_theme)

    partial = args.out.with_name(f".{args.out.name}.partial")  # written whole, then moved into place
    if partial.exists():
        shutil.rmtree(partial)  # a stopped earlier run's, perhaps with other themes
    counts: dict[str, int] = {}
    skipped: list[str] = []
    categories: dict[str, str] = {}
    for theme, names in chosen.items():
        (partial / theme).mkdir(parents=True, exist_ok=True)
        n = 0
        for name in names:
            _, path, context = per_theme[theme][name]
            try:
                img = render_icon(path, args.size, args.pad)
            except SystemExit:  # no SVG renderer: nothing else can be drawn either
                raise
            except Exception as exc:  # one broken icon must not stop the set
                skipped.append(f"{theme}/{name}: {exc}")
                continue
            img.save(partial / theme / f"{name}.png", format="PNG")
            categories.setdefault(name, context or "other")
            n += 1
        counts[theme] = n
        print(f"{theme}: {n} icons", flush=True)
    shared = Counter(name for names in chosen.values() for name in names)
    info = {
        "source": "Debian icon themes: " + ", ".join(THEMES[t][0] for t in args.themes),
        "licences": {t: THEMES[t][2] for t in args.themes},
        "licence": "; ".join(f"{t}: {THEMES[t][2]}" for t in args.themes),
        "size": args.size,
        "counts": counts,
        "contents": len(shared),
        "contents_in_every_theme": sum(1 for c in shared.values() if c == len(args.themes)),
        "contents_in_two_or_more": sum(1 for c in shared.values() if c >= 2),
        "categories": categories,
        "skipped": skipped,
        "command": "python scripts/prepare_icon_themes.py" + ("" if argv is None else " " + " ".join(argv)),
    }
    (partial / "dataset.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    if args.out.exists():
        shutil.rmtree(args.out)
    partial.rename(args.out)  # the folder appears complete or not at all
    print(
        f"{args.out}: {sum(counts.values())} icons by {len(counts)} themes, {info['contents']} contents "
        f"({info['contents_in_every_theme']} in every theme, {info['contents_in_two_or_more']} in two or more)"
        + (f", {len(skipped)} skipped" if skipped else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
