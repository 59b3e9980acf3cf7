#!/usr/bin/env python3
"""Photos that no photo → painting model here has seen: ``data/photo2painting-fresh/testA/``.

Why: the bundled ``photo2painting`` was chosen among several runs by its KID on the held-out photos of
``data/photo2painting/testA``, so that number is slightly optimistic. These photos come from packages that
``prepare_photo2painting.py`` never reads (Debian ``lomiri-wallpapers``, ``-16.04`` and ``-20.04``: the
Ubuntu community wallpapers, CC-BY / CC-BY-SA / CC0 per file), so a translator's KID on them, against the
same held-out painting crops, is a check that no choice was fitted to.

The packages also hold drawn abstracts and gradients; only the files in :data:`PHOTOS` (looked at: a
bridge, leaves, a nuthatch on bark, a fig in a bowl, paint brushes, a living room, hills, a toy bird, a dog
at a window, a clock, a forest stream, mountains, dandelions, a sunset) are used. Crops are cut exactly as
the held-out photos of ``prepare_photo2painting.py`` are (short side 384 px, 10 random 256 px crops each).

    python scripts/prepare_fresh_photos.py            # data/photo2painting-fresh/{testA,LICENCE.txt,dataset.json}
    studio eval photo2painting --measure translation --a data/photo2painting-fresh/testA \\
        --b data/photo2painting/testB --translate-size 256 \\
        --other-a data/photo2painting/trainA --other-b data/photo2painting/trainB
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prepare_photo2painting as p2p  # a sibling script: package fetching and the crop rule

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lomiri-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04")
PHOTOS = (
    "Bridge_by_Sander_Klootwijk.jpg",
    "Dragonfly_by_Bolly.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg",
    "Picture_0B_by_freespace.jpg",
    "Picture_1A_by_freespace.jpg",
    "Wine_by_Jakkub_Mede.jpg",
    "aitzgorri_by_Aitzol_Berasategi.jpg",
    "free_by_Peter_Nerlich.jpg",
    "friends_by_Aitzol_Berasategi.jpg",
    "greentock_by_Peter_Nerlich.jpg",
    "life_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg",
    "seeding_by_Clements_Engelhardt.jpg",
    "sunset_by_Aitzol_Berasategi.jpg",
)


def licences(roots: list[Path]) -> dict[str, str]:
    """{file name: 'LICENCE, Copyright HOLDER'} from the packages' machine-readable copyright files."""
    out: dict[str, str] = {}
    for root in roots:
        for path in root.glob("usr/share/doc/*/copyright"):
            for para in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
                files = re.search(r"^Files:\s*(.+)$", para, re.M)
                lic = re.search(r"^License:\s*(.+)$", para, re.M)
                holder = re.search(r"^Copyright:\s*(.+)$", para, re.M)
                if files and lic:
                    for name in files.group(1).split():
                        text = lic.group(1).strip() + (f", © {holder.group(1).strip()}" if holder else "")
                        out[Path(name).name] = text
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "photo2painting-fresh")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/photo2painting-src"))
    ap.add_argument("--size", type=int, default=256, help="crop size in px (as the held-out photos)")
    ap.add_argument("--scale", type=int, default=384, help="short side before cropping (as the held-out photos)")
    ap.add_argument("--crops", type=int, default=10, help="random crops per photo (as the held-out photos)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    roots = [p2p.fetch_package(pkg, args.cache) for pkg in PACKAGES]
    found = {f.name: f for root in roots for f in root.glob("usr/share/backgrounds/**/*.jpg")}
    missing = [name for name in PHOTOS if name not in found]
    if missing:
        raise SystemExit(f"not in {', '.join(PACKAGES)}: {', '.join(missing)}")
    lic = licences(roots)
    test_a = args.out / "testA"
    if test_a.exists():
        for old in test_a.glob("*.png"):
            old.unlink()
    test_a.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in PHOTOS:
        key = f"lomiri-{p2p._slug(Path(name).stem)}"
        with Image.open(found[name]) as im:
            img = im.convert("RGB")
        rng = random.Random(f"{args.seed}-{key}")
        for k, crop in enumerate(p2p.random_crops(img, args.scale, args.size, args.crops, rng)):
            crop.save(test_a / f"{key}-{k:03d}.png", format="PNG")
        rows.append({"key": key, "file": name, "licence": lic.get(name, "CC-BY-SA-3.0 (lomiri-wallpapers)")})
    (args.out / "LICENCE.txt").write_text(
        "".join(f"{r['key']}: {r['file']} from Debian lomiri-wallpapers; {r['licence']}\n" for r in rows),
        encoding="utf-8",
    )
    info = {
        "purpose": "photos no translator here was trained on or chosen by (an independent check)",
        "packages": list(PACKAGES),
        "size": args.size,
        "scale": args.scale,
        "crops": args.crops,
        "seed": args.seed,
        "photos": rows,
        "count": len(rows) * args.crops,
        "command": "python scripts/prepare_fresh_photos.py" + ("" if argv is None else " " + " ".join(argv)),
    }
    (args.out / "dataset.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {info['count']} crops of {len(rows)} photos")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
