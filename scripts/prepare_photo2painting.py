#!/usr/bin/env python3
"""Build a photo → painting translation set from Debian packages: ``data/photo2painting/``.

Sources (each fetched with ``apt-get download`` and unpacked with ``dpkg -x``, never at app start):

- ``gcompris-qt-data``: the ~22 public-domain paintings of ``rcc/paintings.rcc`` (reassembled from
  their puzzle pieces with ``prepare_paintings.py``'s helpers), the Van Gogh paintings of
  ``rcc/details.rcc``, and its photos: 33 animal photos of ``rcc/erase.rcc`` (1920×1080) and the 49
  monument photos of ``rcc/explore_monuments.rcc`` (~1024 px). Per-file licences (CC-BY, CC-BY-SA,
  public domain) are listed in the package's ``copyright`` file, which is copied next to the data.
- ``mate-backgrounds``: the ``nature/`` wallpapers, photographs (GPL-2+).
- ``palapeli-data``: the puzzle collection's photos (each ``.desktop`` file names its licence).
- ``gcompris-photos`` (opt-in, from ``gcompris-qt-data`` too): the ~40 photos of four more activities
  (world and farm animals, world music with its players, instruments and halls, everyday objects), more
  kinds of scene for the translator; their keys start ``gcphoto-``, and they are held out by a draw of
  their own, so adding them leaves the split of the other sources unchanged.

Domain A is photos, domain B paintings. Each *source image* goes wholly to train or to held-out
(``--holdout`` of each source, seeded), so no crop of a held-out image is ever trained on. Every image is
resized so its short side is ``--scale`` px, then cut into random ``--size`` px crops: ``--crops-a`` /
``--crops-b`` per training image, ``--test-crops-a`` / ``--test-crops-b`` per held-out image (more per
painting: there are few held-out paintings, and KID needs enough crops on each side). Output::

    data/photo2painting/{trainA,trainB,testA,testB}/<source>-<image>-<k>.png
    data/photo2painting/dataset.json     sources, licences, which image went where, counts, the command
    data/photo2painting/LICENCE.txt      one line per source image + the packages' copyright files

``trainA``/``trainB`` are what ``studio train cyclegan --a ... --b ...`` reads; ``testA``/``testB`` what
``studio eval --measure translation --a ... --b ...`` reads. ``--baseline-kid`` also stores the KID of the
untranslated held-out photos to the held-out painting crops (the number a translator must beat).

Usage: ``python scripts/prepare_photo2painting.py [--out data/photo2painting] [--cache /tmp/photo2painting]``

For a machine without the packages (a lent GPU, offline, 64 MiB of luggage): ``--export-sources DIR``
also writes the *training* images, already resized to ``--scale``, as JPEG with ``sources.json`` (their
keys, domains, split and licences, ~10 MB); there, ``--from-sources DIR`` makes the training crops
from them with the same split and crop seeds (JPEG re-encoding aside, the same crops).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prepare_paintings  # a sibling script: its board parser and piece assembler

REPO_ROOT = Path(__file__).resolve().parents[1]
GCOMPRIS = "gcompris-qt-data"
MATE = "mate-backgrounds"
PALAPELI = "palapeli-data"
RCC_DIR = "usr/share/gcompris-qt/rcc"
ACTIVITIES = ":/gcompris/src/activities"
GCOMPRIS_PHOTO_LICENCE = (
    "photo from Wikimedia Commons as shipped in Debian gcompris-qt-data; CC-BY / CC-BY-SA / public domain "
    "per file, see LICENCE-gcompris-qt-data.txt"
)
DETAILS_PAINTING = re.compile(r"gogh|tanguy|auvers", re.I)  # details.rcc: Van Gogh paintings among photos
GCOMPRIS_PHOTOS = "gcompris-photos"  # a second reader of gcompris-qt-data: the photos of more activities
PHOTO_ACTIVITIES = ("explore_world_animals", "explore_farm_animals", "explore_world_music", "categorization")
IMAGE_SUFFIXES = (".webp", ".jpg", ".jpeg", ".png")
GCOMPRIS_PHOTO_PREFIX = "gcphoto"  # the key prefix of those photos, which is also their split group
OWN_DRAW_GROUPS = frozenset({GCOMPRIS_PHOTO_PREFIX})  # sources added later: held out by their own seeded draw


@dataclass
class Source:
    """One source image: where it came from, its domain ('A' photo / 'B' painting) and its licence."""

    key: str  # unique, file-name safe: '<source>-<name>'
    domain: str
    origin: str  # package path or resource path
    licence: str
    image: Image.Image


def fetch_package(package: str, cache: Path) -> Path:
    """``cache/<package>/root``: the package unpacked (downloaded with ``apt-get download`` when needed)."""
    work = cache / package
    root = work / "root"
    if root.is_dir() and any(root.iterdir()):
        return root
    work.mkdir(parents=True, exist_ok=True)
    debs = sorted(work.glob(f"{package}_*.deb"))
    if not debs:
        if shutil.which("apt-get") is None:
            raise SystemExit(f"apt-get is not available; put a {package} .deb in {work}")
        subprocess.run(["apt-get", "download", package], cwd=work, check=True)
        debs = sorted(work.glob(f"{package}_*.deb"))
        if not debs:
            raise SystemExit(f"apt-get download {package} left no .deb in {work}")
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(root)], check=True)
    return root


def _resources(prefix: str) -> list[str]:
    from PySide6.QtCore import QDirIterator

    it = QDirIterator(prefix, QDirIterator.IteratorFlag.Subdirectories)
    out = []
    while it.hasNext():
        out.append(it.next())
    return sorted(out)


def _open_resource(path: str) -> Image.Image:
    with Image.open(io.BytesIO(prepare_paintings.read_resource(path))) as im:
        return im.convert("RGB")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60]


def _mount(root: Path, names: tuple[str, ...]) -> None:
    """Mount the package's ``<name>.rcc`` resource files (those present) so ``_resources`` can list them."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QResource

    rcc = root / RCC_DIR
    for name in names:
        if (rcc / f"{name}.rcc").exists() and not QResource.registerResource(str(rcc / f"{name}.rcc")):
            raise SystemExit(f"{rcc / name}.rcc: Qt could not mount this resource file")


def gcompris_sources(root: Path, min_side: int) -> list[Source]:
    """Paintings (paintings.rcc boards, details.rcc Van Goghs) and photos (erase, explore_monuments)."""
    _mount(root, ("paintings", "details", "erase", "explore_monuments"))
    out: list[Source] = []
    for board in _resources(f"{prepare_paintings.PREFIX}/board"):
        title, w, h, pieces = prepare_paintings.parse_board(prepare_paintings.read_resource(board).decode("utf-8"))
        if not pieces or not w or not h:
            continue
        rgba = prepare_paintings.assemble(pieces, w, h)
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
        name = prepare_paintings.slug(title, Path(board).stem)
        out.append(Source(f"gcompris-{name}", "B", board, f"{title}: {prepare_paintings.LICENCE}", rgb))
    for path in _resources(f"{ACTIVITIES}/details/resource/image"):
        stem = Path(path).stem.removesuffix("_background")
        if path.endswith("_background.webp") and DETAILS_PAINTING.search(stem):
            out.append(Source(f"gcompris-{_slug(stem)}", "B", path, prepare_paintings.LICENCE, _open_resource(path)))
    out += _activity_photos(("erase", "explore_monuments"), "gcompris", min_side)
    return out


def _activity_photos(activities: tuple[str, ...], prefix: str, min_side: int) -> list[Source]:
    """The photos (short side >= ``min_side``; smaller ones are icons and buttons) of mounted activities."""
    out = []
    for activity in activities:
        for path in _resources(f"{ACTIVITIES}/{activity}/resource"):
            if not path.lower().endswith(IMAGE_SUFFIXES):
                continue
            img = _open_resource(path)
            if min(img.size) < min_side:
                continue
            out.append(Source(f"{prefix}-{_slug(Path(path).stem)}", "A", path, GCOMPRIS_PHOTO_LICENCE, img))
    return out


def gcompris_photo_sources(root: Path, min_side: int) -> list[Source]:
    """The photos of four more gcompris activities (animals, music, objects): opt-in, keys ``gcphoto-``."""
    _mount(root, PHOTO_ACTIVITIES)
    return _activity_photos(PHOTO_ACTIVITIES, GCOMPRIS_PHOTO_PREFIX, min_side)


def mate_sources(root: Path, min_side: int) -> list[Source]:
    """The photographs of mate-backgrounds (``nature/``; the other folders are drawn abstracts)."""
    out = []
    for path in sorted((root / "usr/share/backgrounds/mate/nature").glob("*.jp*g")):
        with Image.open(path) as im:
            img = im.convert("RGB")
        if min(img.size) >= min_side:
            out.append(
                Source(f"mate-{_slug(path.stem)}", "A", str(path.relative_to(root)), "GPL-2+ (mate-backgrounds)", img)
            )
    return out


def palapeli_sources(root: Path, min_side: int) -> list[Source]:
    """The photos of palapeli's puzzle collection, with the licence each ``.desktop`` file states."""
    out = []
    for path in sorted((root / "usr/share/palapeli/collection").glob("*.jpg")):
        desktop = path.with_suffix(".desktop")
        text = desktop.read_text(encoding="utf-8", errors="replace") if desktop.exists() else ""
        lic = re.search(r"^X-KDE-PluginInfo-License=(.+)$", text, re.M)
        author = re.search(r"^X-KDE-PluginInfo-Author=(.+)$", text, re.M)
        licence = (lic.group(1).strip() if lic else "GPL-2+ (palapeli-data)") + (
            f", by {author.group(1).strip()}" if author else ""
        )
        with Image.open(path) as im:
            img = im.convert("RGB")
        if min(img.size) >= min_side:
            out.append(Source(f"palapeli-{_slug(path.stem)}", "A", str(path.relative_to(root)), licence, img))
    return out


def split_by_image(sources: list[Source], holdout: float, seed: int) -> dict[str, str]:
    """{key: 'train' | 'test'}: per domain and package, a seeded ``holdout`` share of whole images.

    The first sources share one draw (the split the bundled translators were trained on); a group of
    ``OWN_DRAW_GROUPS`` draws from its own generator, so adding it moves no other image."""
    groups: dict[tuple[str, str], list[str]] = {}
    for s in sources:
        groups.setdefault((s.domain, s.key.split("-")[0]), []).append(s.key)
    rng = random.Random(seed)
    split = {}
    for (domain, group), keys in sorted(groups.items()):
        keys = sorted(keys)
        (random.Random(f"{seed}-{domain}-{group}") if group in OWN_DRAW_GROUPS else rng).shuffle(keys)
        n_test = round(len(keys) * holdout) if len(keys) > 1 else 0
        for i, k in enumerate(keys):
            split[k] = "test" if i < n_test else "train"
    return split


def rescaled(img: Image.Image, scale: int, size: int = 0) -> Image.Image:
    """The image resized to a ``scale`` px short side (each side at least ``size``)."""
    f = scale / min(img.size)
    w, h = max(size, round(img.width * f)), max(size, round(img.height * f))
    return img.resize((w, h), Image.Resampling.LANCZOS)


def random_crops(img: Image.Image, scale: int, size: int, count: int, rng: random.Random) -> list[Image.Image]:
    """``count`` random ``size`` px squares of the image resized to a ``scale`` px short side."""
    small = rescaled(img, scale, size)
    w, h = small.size
    out = []
    for _ in range(count):
        x, y = rng.randint(0, w - size), rng.randint(0, h - size)
        out.append(small.crop((x, y, x + size, y + size)))
    return out


def write_crops(
    sources: list[Source],
    split: dict[str, str],
    out: Path,
    scale: int,
    size: int,
    crops: dict[str, int],
    seed: int,
    png_level: int = 6,
) -> dict[str, int]:
    """The four folders of crops; the count in each. ``png_level`` 1 writes ~5x faster (same pixels)."""
    counts = {f: 0 for f in ("trainA", "trainB", "testA", "testB")}
    for f in counts:
        (out / f).mkdir(parents=True, exist_ok=True)
    for s in sources:
        part = split[s.key]
        folder = f"{part}{s.domain}"
        n = crops[f"test{s.domain}"] if part == "test" else crops[s.domain]
        rng = random.Random(f"{seed}-{s.key}")
        for k, crop in enumerate(random_crops(s.image, scale, size, n, rng)):
            crop.save(out / folder / f"{s.key}-{k:03d}.png", format="PNG", compress_level=png_level)
        counts[folder] += n
    return counts


SOURCES_JSON = "sources.json"


def export_sources(sources: list[Source], split: dict[str, str], folder: Path, scale: int, quality: int = 92) -> int:
    """The training images at a ``scale`` px short side as JPEG, with their manifest; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for s in sources:
        if split[s.key] != "train":
            continue
        rescaled(s.image, scale).save(folder / f"{s.key}.jpg", format="JPEG", quality=quality)
        manifest.append({"key": s.key, "domain": s.domain, "split": "train", "origin": s.origin, "licence": s.licence})
    (folder / SOURCES_JSON).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(manifest)


def imported_sources(folder: Path) -> tuple[list[Source], dict[str, str]]:
    """Sources and their split from an ``--export-sources`` folder (keys are checked: file-name safe only)."""
    try:
        manifest = json.loads((folder / SOURCES_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{folder}: no readable {SOURCES_JSON} ({exc})") from exc
    sources, split = [], {}
    for row in manifest:
        key = str(row.get("key", ""))
        if not re.fullmatch(r"[a-z0-9-]+", key) or row.get("domain") not in ("A", "B"):
            raise SystemExit(f"{folder / SOURCES_JSON}: bad entry {row!r}")
        with Image.open(folder / f"{key}.jpg") as im:
            img = im.convert("RGB")
        sources.append(Source(key, row["domain"], str(row.get("origin", "")), str(row.get("licence", "")), img))
        split[key] = str(row.get("split", "train"))
    return sources, split


def baseline_kid(test_a: Path, test_b: Path, size: int, feature_net: str = "mobilenet_v2", subsets: int = 100) -> dict:
    """KID of the untranslated held-out photos to the held-out paintings, as studio.models.translate_eval
    measures a translator's 'before' (same loader, feature network and subset size)."""
    from studio.metrics.features import batched, extract, load_feature_net
    from studio.metrics.kid import kid
    from studio.models.translate_eval import load_images

    _, a = load_images(test_a, size)
    _, b = load_images(test_b, size)
    net = load_feature_net(feature_net, "cpu")
    fa, fb = extract(net, batched(a, 32))[0], extract(net, batched(b, 32))[0]
    half = max(2, min(1000, min(len(fa), len(fb)) // 2))
    value, sd = kid(fa, fb, subsets=subsets, subset_size=half)
    return {"feature_net": net.name, "size": size, "kid": round(value, 5), "kid_std": round(sd, 5), "subset_size": half}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "photo2painting")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/photo2painting-src"))
    ap.add_argument(
        "--sources",
        default=f"{GCOMPRIS},{MATE},{PALAPELI}",
        help=f"comma-separated packages to use; add {GCOMPRIS_PHOTOS} for more kinds of photo",
    )
    ap.add_argument("--size", type=int, default=256, help="crop size in px")
    ap.add_argument("--scale", type=int, default=384, help="short side the images are resized to before cropping")
    ap.add_argument("--crops-a", type=int, default=40, help="random crops per training photo")
    ap.add_argument("--crops-b", type=int, default=120, help="random crops per training painting")
    ap.add_argument("--test-crops-a", type=int, default=10, help="random crops per held-out photo")
    ap.add_argument("--test-crops-b", type=int, default=40, help="random crops per held-out painting")
    ap.add_argument("--holdout", type=float, default=0.2, help="share of each source's images held out")
    ap.add_argument("--min-side", type=int, default=300, help="skip images whose short side is smaller")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline-kid", type=int, default=0, metavar="PX", help="also measure the baseline KID at PX")
    ap.add_argument("--export-sources", type=Path, default=None, metavar="DIR", help="also write the training images")
    ap.add_argument("--from-sources", type=Path, default=None, metavar="DIR", help="read an --export-sources folder")
    args = ap.parse_args(argv)
    if args.scale < args.size:
        ap.error("--scale must be at least --size")

    start = time.monotonic()
    wanted = [s.strip() for s in args.sources.split(",") if s.strip()]
    readers = {
        GCOMPRIS: gcompris_sources,
        MATE: mate_sources,
        PALAPELI: palapeli_sources,
        GCOMPRIS_PHOTOS: gcompris_photo_sources,
    }
    package_of = {GCOMPRIS_PHOTOS: GCOMPRIS}  # a source that reads another source's package
    unknown = [w for w in wanted if w not in readers]
    if unknown:
        ap.error(f"unknown source(s) {unknown}; known: {sorted(readers)}")
    roots: dict[str, Path] = {}
    sources: list[Source] = []
    if args.from_sources is not None:
        sources, split = imported_sources(args.from_sources)
        wanted = []
    else:
        roots = {p: fetch_package(package_of.get(p, p), args.cache) for p in wanted}
        for p in wanted:
            sources += readers[p](roots[p], args.min_side)
        split = split_by_image(sources, args.holdout, args.seed)
    if not any(s.domain == "A" for s in sources) or not any(s.domain == "B" for s in sources):
        raise SystemExit("need both photos (A) and paintings (B); check --sources")
    if args.export_sources is not None:
        n = export_sources(sources, split, args.export_sources, args.scale)
        print(f"{n} training images written to {args.export_sources}", file=sys.stderr)

    partial = args.out.with_name(f".{args.out.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    crops = {"A": args.crops_a, "B": args.crops_b, "testA": args.test_crops_a, "testB": args.test_crops_b}
    # rebuilt crops on a lent machine are scratch data: fast PNG (the same pixels) saves a minute of its time
    png_level = 1 if args.from_sources is not None else 6
    counts = write_crops(sources, split, partial, args.scale, args.size, crops, args.seed, png_level)
    packages = {}
    prefix_of = {GCOMPRIS_PHOTOS: GCOMPRIS_PHOTO_PREFIX}
    for p in wanted:
        package = package_of.get(p, p)
        copyright_file = roots[p] / "usr/share/doc" / package / "copyright"
        if copyright_file.exists():
            shutil.copyfile(copyright_file, partial / f"LICENCE-{package}.txt")
        debs = sorted((args.cache / package).glob(f"{package}_*.deb"))
        prefix = prefix_of.get(p, p.split("-")[0])
        packages[p] = {
            "deb": debs[-1].name if debs else None,
            "images": sum(s.key.split("-")[0] == prefix for s in sources),
        }
    origin = "Debian packages, fetched by scripts/prepare_photo2painting.py (apt-get download + dpkg -x)"
    if args.from_sources is not None:
        origin += f"; here rebuilt from the exported training images in {args.from_sources}"
    info = {
        "source": origin,
        "domains": {"A": "photos", "B": "paintings"},
        "packages": packages,
        "size": args.size,
        "scale": args.scale,
        "crops": crops,
        "holdout": args.holdout,
        "seed": args.seed,
        "counts": counts,
        "images": {
            s.key: {
                "domain": s.domain,
                "split": split[s.key],
                "origin": s.origin,
                "size": list(s.image.size),
                "licence": s.licence,
            }
            for s in sources
        },
        "command": "python scripts/prepare_photo2painting.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    (partial / "LICENCE.txt").write_text(
        "Photos (A) and paintings (B) from Debian packages; each image's source and licence below; the "
        "packages' copyright files are LICENCE-<package>.txt. Do not ship a model trained on this set without "
        "honouring the CC-BY / CC-BY-SA attributions of the photos.\n"
        + "".join(f"- {s.key} [{s.domain}, {split[s.key]}] {s.origin}: {s.licence}\n" for s in sources),
        encoding="utf-8",
    )
    if args.baseline_kid:
        print("measuring the baseline KID (untranslated held-out photos vs held-out paintings)…", file=sys.stderr)
        info["baseline_kid"] = baseline_kid(partial / "testA", partial / "testB", args.baseline_kid)
    (partial / "dataset.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.out.exists():
        shutil.rmtree(args.out)
    partial.rename(args.out)  # the folder appears complete or not at all
    n_img = {
        (d, p): sum(1 for s in sources if s.domain == d and split[s.key] == p) for d in "AB" for p in ("train", "test")
    }
    print(
        f"photos: {n_img['A', 'train']} train / {n_img['A', 'test']} held-out images; paintings: "
        f"{n_img['B', 'train']} / {n_img['B', 'test']}; crops: {counts}; {time.monotonic() - start:.0f} s",
        file=sys.stderr,
    )
    if "baseline_kid" in info:
        print(f"baseline KID (untranslated): {info['baseline_kid']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
