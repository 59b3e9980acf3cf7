#!/usr/bin/env python3
"""Extract the public-domain paintings of Debian's ``gcompris-qt-data`` into ``data/paintings/``.

GCompris' "paintings" puzzle ships ~22 famous public-domain paintings (Hokusai's Great Wave, Van Gogh,
Bruegel, Dürer, Kandinsky, Renoir, ...) cut into pieces inside a Qt resource file,
``rcc/paintings.rcc``. Each board file (``resource/board/boardN_0.qml``) names the painting and places
every piece by its centre as a fraction of the board. This script:

1. fetches the package with Debian's own client (``apt-get download gcompris-qt-data``) unless
   ``--deb`` points at an already downloaded ``.deb``,
2. unpacks it with ``dpkg -x``,
3. mounts ``paintings.rcc`` with ``QResource.registerResource`` (no Qt window needed),
4. reassembles each board's pieces into one image and writes ``data/paintings/<name>.png`` plus
   ``data/paintings/paintings.json`` (file -> title, artist line, licence note).

Usage: ``python scripts/prepare_paintings.py [--out data/paintings] [--work /tmp/gcompris] [--deb FILE]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

PREFIX = ":/gcompris/src/activities/paintings/resource"
LICENCE = (
    "public-domain painting (artist died more than 100 years ago), as shipped in Debian's "
    "gcompris-qt-data (GPL-3.0-or-later packaging); the pieces are GCompris' scans"
)


def fetch(work: Path, deb: Path | None) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    if deb is None:
        found = sorted(work.glob("gcompris-qt-data_*.deb"))
        if not found:
            subprocess.run(["apt-get", "download", "gcompris-qt-data"], cwd=work, check=True)
            found = sorted(work.glob("gcompris-qt-data_*.deb"))
        deb = found[-1]
    root = work / "root"
    rcc = root / "usr/share/gcompris-qt/rcc/paintings.rcc"
    if not rcc.exists():
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    if not rcc.exists():
        sys.exit(f"{deb.name}: it holds no usr/share/gcompris-qt/rcc/paintings.rcc")
    return rcc


def read_resource(path: str) -> bytes:
    from PySide6.QtCore import QFile

    f = QFile(path)
    if not f.open(QFile.ReadOnly):
        raise FileNotFoundError(path)
    try:
        return bytes(f.readAll())
    finally:
        f.close()


def parse_board(text: str) -> tuple[str, int, int, list[tuple[str, float, float]]]:
    """(title, board width, board height, [(piece file, centre x, centre y)]) of one board file."""
    title = re.search(r'instruction:\s*qsTr\("(.*?)"\)', text)
    width = re.search(r'"width"\s*:\s*(\d+)', text)
    height = re.search(r'"height"\s*:\s*(\d+)', text)
    pieces = re.findall(
        r'"pixmapfile"\s*:\s*"(image/[^"]+\.(?:webp|png|jpg))"\s*,\s*"x"\s*:\s*"?([\d.]+)"?\s*,'
        r'\s*"y"\s*:\s*"?([\d.]+)"?',
        text,
    )
    return (
        title.group(1) if title else "",
        int(width.group(1)) if width else 0,
        int(height.group(1)) if height else 0,
        [(p, float(x), float(y)) for p, x, y in pieces],
    )


def assemble(pieces: list[tuple[str, float, float]], width: int, height: int):
    """Paste every piece centred at its (x, y) fraction of the board; crop to the painted area."""
    from PIL import Image

    images = [
        (Image.open(io.BytesIO(read_resource(f"{PREFIX}/{name}"))).convert("RGBA"), x, y) for name, x, y in pieces
    ]
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    for img, x, y in images:
        left, top = round(x * width - img.width / 2), round(y * height - img.height / 2)
        canvas.alpha_composite(img, (max(0, left), max(0, top)))
    box = canvas.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    return canvas.crop(box) if box else canvas


def slug(title: str, fallback: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", title.split(" - ")[0]).strip("-").lower()
    return (name or fallback)[:60]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "paintings")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gcompris-qt-data"))
    ap.add_argument("--deb", type=Path, default=None, help="an already downloaded gcompris-qt-data .deb")
    args = ap.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QDirIterator, QResource

    rcc = fetch(args.work, args.deb)
    if not QResource.registerResource(str(rcc)):
        sys.exit(f"{rcc}: Qt could not mount this resource file")
    args.out.mkdir(parents=True, exist_ok=True)
    it = QDirIterator(f"{PREFIX}/board")
    boards = []
    while it.hasNext():
        boards.append(it.next())
    index = {}
    for board in sorted(boards, key=lambda p: int(re.search(r"board(\d+)", p).group(1))):
        title, w, h, pieces = parse_board(read_resource(board).decode("utf-8"))
        if not pieces or not w or not h:
            print(f"skip {board}: no pieces", file=sys.stderr)
            continue
        painting = assemble(pieces, w, h)
        name = slug(title, Path(board).stem)
        from PIL import Image

        rgb = Image.new("RGB", painting.size, (255, 255, 255))
        rgb.paste(painting, mask=painting.getchannel("A"))
        target = args.out / f"{name}.png"
        tmp = target.with_suffix(".png.tmp")
        rgb.save(tmp, format="PNG")
        tmp.replace(target)
        index[target.name] = {
            "title": title,
            "board": Path(board).name,
            "size": list(rgb.size),
            "pieces": len(pieces),
            "licence": LICENCE,
        }
        print(f"{target.name:<40} {rgb.size[0]}x{rgb.size[1]}  {title}")
    (args.out / "paintings.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(index)} paintings in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
