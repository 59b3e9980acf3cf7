"""Measure a translator: are translated images closer to the target domain than the inputs were?

    python -m studio.models.translate_eval MODEL --a TEST_A --b TEST_B [--write-card] [--grid OUT.png]

For each direction it extracts features (the studio's feature network, MobileNetV2 by default, see
studio.metrics.features) of the source test images, their translations and the target test images, and
reports KID(source, target) next to KID(translated, target) — the translation should lower it — and
their ratio, and the same for the trivial baseline, a colour-statistics transfer of the source images
(each image's per-channel mean and spread matched to the target domain's): a translator that does no
better than that has learned a colour filter. ``mean_change`` is the mean absolute pixel change the
translation makes (0-1 scale), next to the colour transfer's. ``--size`` sets the scale the test images
are translated at (default: the model's training crop size); give the scale the model was trained at,
e.g. the folders' native size for a model trained on random crops of full-size images. When the two
folders hold the same file names (content pairs, as the emoji vendors do) it also reports the mean
absolute pixel distance to the paired target before and after. ``--write-card``
stores the numbers in the model card's ``metrics["translation"]``; ``--grid`` saves an input | output
example grid.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.checkpoint import read_card, update_card
from studio.core.errors import StudioError
from studio.core.export import save_png
from studio.core.grid import tile, to_uint8
from studio.core.images import fit_square, list_images, load_image, pil_to_tensor
from studio.models.translate_common import TranslatorModel


def load_images(folder: str | Path, size: int, limit: int = 0, spread: bool = False) -> tuple[list[str], torch.Tensor]:
    """The folder's images at ``size`` px; at most ``limit``: the first ones, or with ``spread`` ones spread
    evenly over the sorted folder (crops of one picture sit together)."""
    paths = list_images(folder)
    if limit and spread:
        paths = [paths[i] for i in _spread(len(paths), limit)]
    paths = paths[: limit or None]
    if not paths:
        raise StudioError(f"{folder}: no images to evaluate on")
    return [p.name for p in paths], torch.stack([pil_to_tensor(fit_square(load_image(p), size)) for p in paths])


def translate_all(model: TranslatorModel, images: torch.Tensor, direction: str, batch: int = 32) -> torch.Tensor:
    outs = []
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            x = images[i : i + batch].to(model.device) * 2 - 1
            outs.append(((model.forward(x, direction).float().cpu() + 1) / 2).clamp(0, 1))
    return torch.cat(outs)


def evaluate_translator(
    model: TranslatorModel,
    dir_a: str | Path,
    dir_b: str | Path,
    feature_net: str = "mobilenet_v2",
    limit: int = 0,
    subsets: int = 100,
    progress: Callable[[str], None] | None = None,
    size: int = 0,
    other_a: str | Path | None = None,
    other_b: str | Path | None = None,
) -> dict[str, Any]:
    """KID of source→target before/after translation and after a colour-statistics transfer, both
    directions, at ``size`` px (0: the model's crop size); paired L1 when names match.

    ``other_a`` / ``other_b``: other real images of each domain (e.g. the training folders), as many as
    the source test images, spread over the folder. Their KID to the target test images is what a
    translator could reach at best if its outputs were real images of the target domain with other
    subjects than the test set's (the content gap that no style translation closes): the right floor
    for a ratio target, as a data set's own split-half FID is for a generator."""
    from studio.metrics.baselines import channel_statistics, colour_transfer
    from studio.metrics.features import batched, extract, load_feature_net
    from studio.metrics.frechet import fid
    from studio.metrics.kid import kid
    from studio.metrics.memorisation import memorisation, mifid

    say = progress or (lambda s: None)
    size = size or model.image_size
    names_a, imgs_a = load_images(dir_a, size, limit)
    names_b, imgs_b = load_images(dir_b, size, limit)
    net = load_feature_net(feature_net, "cpu")
    feats = lambda x: extract(net, batched(x, 32))[0]  # noqa: E731
    say("features of the test images…")
    f_a, f_b = feats(imgs_a), feats(imgs_b)
    result: dict[str, Any] = {
        "feature_net": net.name,
        "test_a": str(dir_a),
        "test_b": str(dir_b),
        "n_a": len(names_a),
        "n_b": len(names_b),
        "size": size,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    for direction, src, f_src, f_tgt, names_src, names_tgt, tgt, other in (
        ("a2b", imgs_a, f_a, f_b, names_a, names_b, imgs_b, other_b),
        ("b2a", imgs_b, f_b, f_a, names_b, names_a, imgs_a, other_a),
    ):
        say(f"translating {direction}…")
        out = translate_all(model, src, direction)
        f_out = feats(out)
        half = max(2, min(1000, min(len(f_src), len(f_tgt)) // 2))  # subsets of half: a meaningful spread
        before, before_sd = kid(f_src, f_tgt, subsets=subsets, subset_size=half)
        after, after_sd = kid(f_out, f_tgt, subsets=subsets, subset_size=half)
        recoloured = colour_transfer(src, *channel_statistics(tgt))
        f_colour = feats(recoloured)
        colour, colour_sd = kid(f_colour, f_tgt, subsets=subsets, subset_size=half)
        fid_after, memo = fid(f_out, f_tgt), memorisation(f_out, f_tgt)
        entry: dict[str, Any] = {
            "kid_subset_size": half,
            "kid_source_to_target": round(before, 5),
            "kid_source_to_target_std": round(before_sd, 5),
            "kid_translated_to_target": round(after, 5),
            "kid_translated_to_target_std": round(after_sd, 5),
            "kid_ratio": round(after / before, 3) if before > 0 else None,
            "kid_colour_transfer_to_target": round(colour, 5),
            "kid_colour_transfer_to_target_std": round(colour_sd, 5),
            "kid_colour_transfer_ratio": round(colour / before, 3) if before > 0 else None,
            # FID and MiFID (Kaggle's measure, papers/002) on the same features; MiFID's memorisation term is
            # taken against the target test images, so it is FID unless translations copy them
            "fid_source_to_target": round(fid(f_src, f_tgt), 3),
            "fid_translated_to_target": round(fid_after, 3),
            "fid_colour_transfer_to_target": round(fid(f_colour, f_tgt), 3),
            "mifid_translated_to_target": round(mifid(fid_after, memo), 3),
            "memorisation_distance": round(memo.distance, 4),
            "mean_change": round(float((out - src).abs().mean()), 4),
            "mean_change_colour_transfer": round(float((recoloured - src).abs().mean()), 4),
        }
        if other:
            say(f"features of other real images of the target domain ({other})…")
            f_other = feats(load_images(other, size, len(names_src), spread=True)[1])
            floor, floor_sd = kid(f_other, f_tgt, subsets=subsets, subset_size=min(half, len(f_other)))
            entry["other_target"] = str(other)
            entry["kid_other_target_to_target"] = round(floor, 5)
            entry["kid_other_target_to_target_std"] = round(floor_sd, 5)
            entry["kid_other_target_ratio"] = round(floor / before, 3) if before > 0 else None
        index = {n: i for i, n in enumerate(names_tgt)}
        pairs = [(i, index[n]) for i, n in enumerate(names_src) if n in index]
        if pairs:
            si, ti = (torch.tensor(column) for column in zip(*pairs))
            entry["paired_l1_before"] = round(float((src[si] - tgt[ti]).abs().mean()), 4)
            entry["paired_l1_after"] = round(float((out[si] - tgt[ti]).abs().mean()), 4)
            entry["pairs"] = len(pairs)
        result[direction] = entry
    return result


def example_grid(
    model: TranslatorModel, dir_a: str | Path, dir_b: str | Path, count: int = 8, cell: int = 0, size: int = 0
) -> np.ndarray:
    """Rows of A | A→B | B (the same content drawn by B when names match), then B | B→A | A, translated at
    ``size`` px (0: the model's crop size)."""
    size = size or model.image_size
    names_a, imgs_a = load_images(dir_a, size)
    names_b, imgs_b = load_images(dir_b, size)
    common = sorted(set(names_a) & set(names_b))
    step = max(1, len(common) // count)
    chosen = common[::step][:count] if common else []
    ia = [names_a.index(n) for n in chosen] or _spread(len(names_a), count)
    ib = [names_b.index(n) for n in chosen] or _spread(len(names_b), count)
    a, b = imgs_a[ia], imgs_b[ib]
    rows = [a, translate_all(model, a, "a2b"), b, b, translate_all(model, b, "b2a"), a]
    cells = to_uint8(torch.cat(rows))
    if cell and cell != size:
        from studio.core.grid import resize_cells

        cells = resize_cells(cells, cell)
    return tile(cells, len(rows), a.shape[0])


def _spread(total: int, count: int) -> list[int]:
    """``count`` indices spread evenly over ``total`` files: crops cut from one picture sit next to each
    other in a folder, and the first ``count`` would all show the same picture."""
    count = min(count, total)
    return [int(i * total / count) for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="translator card path")
    ap.add_argument("--a", required=True, help="test images of domain A")
    ap.add_argument("--b", required=True, help="test images of domain B")
    ap.add_argument("--features", default="mobilenet_v2")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--write-card", action="store_true")
    ap.add_argument("--grid", type=Path, help="save an example grid PNG")
    ap.add_argument("--cell", type=int, default=0, help="grid cell size in px")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--size", type=int, default=0, help="translate at this size in px (default: the model's crop size)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from studio.core.store import load_model

    try:
        model = load_model(args.model, "cpu")
        if not isinstance(model, TranslatorModel):
            raise StudioError(f"{args.model}: not a translator model")
        res = evaluate_translator(
            model,
            args.a,
            args.b,
            args.features,
            args.limit,
            progress=lambda s: print(s, file=sys.stderr),
            size=args.size,
        )
        import json

        print(json.dumps(res, indent=2))
        if args.write_card:
            card = read_card(args.model)
            metrics = dict(card.metrics)
            metrics["translation"] = res
            update_card(args.model, metrics=metrics)
            print(f"wrote metrics to {args.model}", file=sys.stderr)
        if args.grid:
            grid = example_grid(model, args.a, args.b, cell=args.cell, size=args.size)
            save_png(args.grid, grid, {"model": Path(args.model).stem, "grid": "A | A→B | B / B | B→A | A"})
            print(f"wrote {args.grid}", file=sys.stderr)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
