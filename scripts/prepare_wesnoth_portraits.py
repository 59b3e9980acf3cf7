#!/usr/bin/env python3
"""Battle for Wesnoth's painted unit portraits as a training set: ``data/wesnoth-portraits/<race>/<unit>.png``.

Why: issue 14 asks for generators trained on real artwork, judged by FID against their data's own
split-half floor. Debian ``wesnoth-1.16-data`` (GPL-2+) holds 238 hand-painted portraits at about 400 px
(``data/core/images/portraits/<race>/``: humans, undead, monsters, elves, orcs, dwarves...), one painted
style, each a figure cut off at the chest or waist on a transparent background. A small, coherent set of
paintings is what a generator can learn on a CPU in hours; the openclipart drawings are too varied for that.

Each portrait is trimmed to its painted area, scaled to fit ``--size`` px (its cut edge kept at the bottom,
centred across) and put on ``--background`` (white by default, as the game's dialogs show them on a
light page). One subfolder per race, so the folder is also a labelled set (``studio train can`` reads
subfolders as styles). Portraits listed twice (``-2`` variants are different paintings, kept) are not
duplicated; the tutorial campaign's own copies are left out.

    python scripts/prepare_wesnoth_portraits.py                   # 128 px, data/wesnoth-portraits
    python scripts/prepare_wesnoth_portraits.py --size 256 --out data/wesnoth-portraits-256
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prepare_photo2painting as p2p  # a sibling script: fetching a Debian package with apt-get download

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "wesnoth-1.16-data"
PORTRAITS = "usr/share/games/wesnoth/1.16/data/core/images/portraits"
LICENCE = "GPL-2+ (Battle for Wesnoth, Debian wesnoth-1.16-data; the Wesnoth artists, see its copyright file)"


def portrait_files(root: Path) -> list[Path]:
    """Every portrait PNG under the package's core portraits folder, by race and name, byte-identical copies once."""
    folder = root / PORTRAITS
    if not folder.is_dir():
        raise SystemExit(f"{folder}: not found; is {PACKAGE} unpacked there?")
    seen: set[str] = set()
    out = []
    for path in sorted(folder.glob("*/*.png")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append(path)
    return out


def square_portrait(img: Image.Image, size: int, background: tuple[int, int, int]) -> Image.Image:
    """The painted area scaled to fit a ``size`` square, bottom-aligned and centred across, on ``background``."""
    rgba = img.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    if box is None:
        raise ValueError("fully transparent")
    rgba = rgba.crop(box)
    scale = size / max(rgba.size)
    w, h = max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale))
    rgba = rgba.resize((w, h), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (size, size), (*background, 255))
    canvas.alpha_composite(rgba, ((size - w) // 2, size - h))
    return canvas.convert("RGB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "wesnoth-portraits")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/wesnoth-src"))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--background", default="255,255,255", help="R,G,B behind the figures (default white)")
    args = ap.parse_args(argv)
    try:
        background = tuple(int(v) for v in args.background.split(","))
        if len(background) != 3 or not all(0 <= v <= 255 for v in background):
            raise ValueError
    except ValueError:
        raise SystemExit(f"--background {args.background!r}: give three numbers 0-255, e.g. 255,255,255") from None
    if args.size < 16:
        raise SystemExit(f"--size {args.size}: too small (at least 16)")

    root = p2p.fetch_package(PACKAGE, args.cache)
    files = portrait_files(root)
    if args.out.exists():
        for old in args.out.glob("*/*.png"):
            old.unlink()
    counts: dict[str, int] = {}
    skipped = []
    for path in files:
        race = path.parent.name
        try:
            with Image.open(path) as im:
                square = square_portrait(im, args.size, background)  # type: ignore[arg-type]
        except (OSError, ValueError) as exc:
            skipped.append(f"{race}/{path.name}: {exc}")
            continue
        (args.out / race).mkdir(parents=True, exist_ok=True)
        square.save(args.out / race / path.name, format="PNG")
        counts[race] = counts.get(race, 0) + 1
    total = sum(counts.values())
    (args.out / "LICENCE.txt").write_text(
        f"{total} portraits from Debian {PACKAGE}, {PORTRAITS}: {LICENCE}.\n"
        "The full licence text is /usr/share/common-licenses/GPL-2 on a Debian system.\n",
        encoding="utf-8",
    )
    info = {
        "source": f"Debian {PACKAGE}, {PORTRAITS}",
        "licence": LICENCE,
        "size": args.size,
        "background": list(background),
        "count": total,
        "races": counts,
        "skipped": skipped,
        "command": "python scripts/prepare_wesnoth_portraits.py" + ("" if argv is None else " " + " ".join(argv)),
    }
    (args.out / "dataset.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"{args.out}: {total} portraits in {len(counts)} races" + (f", {len(skipped)} skipped" if skipped else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
