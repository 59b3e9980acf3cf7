#!/usr/bin/env python3
"""Build the style-labelled data set the bundled CAN is trained on: one folder per emoji *vendor style*.

Why emoji vendors: the same ~3k emoji exist in every set, so the only thing that tells the sets apart is
the drawing style; a CAN trained on them learns "what makes an image Google-like / Twemoji-like / ...",
and its style-ambiguity term pushes samples between those styles. Four styles make the ambiguity
meaningful (with two, "ambiguous" only means "half way").

Styles (all fetched with npm's own client, ``npm pack``; licences of the artwork):

    google      emoji-datasource-google   img/google/64/*.png       Apache-2.0 (Noto Emoji)
    twitter     emoji-datasource-twitter  img/twitter/64/*.png      CC-BY-4.0 (Twemoji)
    fluent3d    @lobehub/fluent-emoji-3d  assets/*.webp (256 px)    MIT (Microsoft Fluent Emoji)
    fluentflat  @lobehub/fluent-emoji-flat assets/*.svg             MIT (Microsoft Fluent Emoji)

Apple and Facebook sets are not licensed for reuse and are never offered.

Every image is composited on white, resized to ``--size`` px and written as an RGB PNG to
``data/can/<style>/<codepoints>.png``. By default only emoji present in *all* styles are kept, so every
style folder holds the same content. SVGs are rasterised with Qt's SVG renderer (PySide6, already a
dependency); this script is a data tool, not part of the Qt-free core.

Usage::

    python scripts/prepare_can_data.py                 # all four styles into data/can/
    python scripts/prepare_can_data.py --styles google twitter fluent3d --size 64
    python scripts/prepare_can_data.py --cache data/can_src   # reuse already downloaded tarballs
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]

STYLES = {
    "google": {
        "package": "emoji-datasource-google",
        "version": "16.0.0",
        "prefix": "package/img/google/64/",
        "suffix": ".png",
        "licence": "Apache-2.0",
        "source": "Noto Emoji (Google), npm emoji-datasource-google",
    },
    "twitter": {
        "package": "emoji-datasource-twitter",
        "version": "16.0.0",
        "prefix": "package/img/twitter/64/",
        "suffix": ".png",
        "licence": "CC-BY-4.0",
        "source": "Twemoji (Twitter), npm emoji-datasource-twitter",
    },
    "fluent3d": {
        "package": "@lobehub/fluent-emoji-3d",
        "version": "1.1.0",
        "prefix": "package/assets/",
        "suffix": ".webp",
        "licence": "MIT",
        "source": "Microsoft Fluent Emoji 3D, npm @lobehub/fluent-emoji-3d",
    },
    "fluentflat": {
        "package": "@lobehub/fluent-emoji-flat",
        "version": "1.1.0",
        "prefix": "package/assets/",
        "suffix": ".svg",
        "licence": "MIT",
        "source": "Microsoft Fluent Emoji Flat, npm @lobehub/fluent-emoji-flat",
    },
}


def tarball_name(package: str, version: str) -> str:
    return package.lstrip("@").replace("/", "-") + f"-{version}.tgz"


def fetch(style: str, cache: Path) -> Path:
    """The style's npm tarball, downloaded with ``npm pack`` into ``cache`` unless already there."""
    info = STYLES[style]
    target = cache / tarball_name(info["package"], info["version"])
    if target.exists():
        return target
    if shutil.which("npm") is None:
        raise SystemExit("npm is not installed (apt-get install npm), or put the tarballs in --cache")
    cache.mkdir(parents=True, exist_ok=True)
    spec = f"{info['package']}@{info['version']}"
    out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=cache, capture_output=True, text=True)
    if out.returncode != 0 or not target.exists():
        raise SystemExit(f"npm pack {spec} failed:\n{out.stderr.strip()}")
    return target


def content_key(filename: str) -> str:
    """'1F600-FE0F.png' -> '1f600': the emoji's code points without variation selectors."""
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    return "-".join(p for p in stem.split("-") if p not in ("fe0f", "fe0e"))


def members(tarball: Path, style: str) -> dict[str, tarfile.TarInfo]:
    info = STYLES[style]
    out = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for m in tar:
            if (
                m.isfile()
                and m.name.startswith(info["prefix"])
                and m.name.endswith(info["suffix"])
                and ".." not in m.name
                and "/" not in m.name[len(info["prefix"]) :]
            ):
                out.setdefault(content_key(m.name), m)
    return out


_qt_app = None


def _svg_to_image(data: bytes, size: int) -> Image.Image:
    global _qt_app
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if _qt_app is None:
        _qt_app = QGuiApplication.instance() or QGuiApplication([])
    render_size = size * 4  # supersample, then downscale with Lanczos like the raster sets
    renderer = QSvgRenderer(QByteArray(data))
    if not renderer.isValid():
        raise ValueError("invalid SVG")
    img = QImage(render_size, render_size, QImage.Format_RGBA8888)
    img.fill(QColor(255, 255, 255, 255))
    painter = QPainter(img)
    painter.setRenderHint(QPainter.Antialiasing)
    renderer.render(painter, QRectF(0, 0, render_size, render_size))
    painter.end()
    buf = bytes(img.constBits())
    pil = Image.frombytes("RGBA", (render_size, render_size), buf, "raw", "RGBA", img.bytesPerLine())
    return pil.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)


def to_rgb(data: bytes, suffix: str, size: int) -> Image.Image:
    if suffix == ".svg":
        return _svg_to_image(data, size)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        rgba = im.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(base, rgba).convert("RGB")
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.LANCZOS)
    return rgb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--styles", nargs="+", default=list(STYLES), choices=list(STYLES))
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "can")
    ap.add_argument(
        "--cache",
        type=Path,
        default=REPO_ROOT / "data" / "can_src",
        help="where npm tarballs are downloaded to / reused from",
    )
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--all", action="store_true", help="keep emoji missing from some styles too")
    args = ap.parse_args(argv)

    found = {}
    for style in args.styles:
        tb = fetch(style, args.cache)
        found[style] = (tb, members(tb, style))
        print(f"{style}: {len(found[style][1])} images in {tb.name}", file=sys.stderr)
    keys = set.intersection(*(set(m) for _, m in found.values())) if not args.all else None
    if keys is not None:
        print(f"{len(keys)} emoji are present in all {len(args.styles)} styles", file=sys.stderr)

    summary = {}
    for style, (tb, mem) in found.items():
        dest = args.out / style
        tmp_dest = args.out / f".{style}.partial"
        if tmp_dest.exists():
            shutil.rmtree(tmp_dest)
        tmp_dest.mkdir(parents=True)
        wanted = {k: m for k, m in mem.items() if keys is None or k in keys}
        count = 0
        with tarfile.open(tb, "r:gz") as tar:
            for key, m in sorted(wanted.items()):
                try:
                    img = to_rgb(tar.extractfile(m).read(), STYLES[style]["suffix"], args.size)
                except Exception as exc:  # one broken file must not stop the set
                    print(f"  skipped {m.name}: {exc}", file=sys.stderr)
                    continue
                img.save(tmp_dest / f"{key}.png", optimize=False)
                count += 1
        if dest.exists():
            shutil.rmtree(dest)
        tmp_dest.rename(dest)  # the style folder appears complete or not at all
        summary[style] = {
            "images": count,
            "licence": STYLES[style]["licence"],
            "source": STYLES[style]["source"],
            "package": f"{STYLES[style]['package']}@{STYLES[style]['version']}",
        }
        print(f"{style}: wrote {count} images to {dest}", file=sys.stderr)

    (args.out / "SOURCE.json").write_text(json.dumps(summary, indent=2) + "\n")
    licences = sorted({v["licence"] for v in summary.values()})
    text = (
        "Emoji vendor styles, fetched with `npm pack` by scripts/prepare_can_data.py.\n"
        + "".join(f"- {s}: {v['source']} ({v['package']}), licence {v['licence']}\n" for s, v in summary.items())
        + f"Licences: {', '.join(licences)}. CC-BY-4.0 requires attribution (Twemoji by Twitter, Inc. and "
        "other contributors).\n"
    )
    (args.out / "LICENCE.txt").write_text(text)
    print(text, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
