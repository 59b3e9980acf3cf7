#!/usr/bin/env python3
"""Grid of held-out contents (emoji, icons) redrawn by GADN models, to look at what the identity numbers mean.

One row per content that ``--holdout-contents F`` leaves out of training: the source artist's drawing,
then each model's redrawing as every artist, then every artist's own drawing of it (grey where none)::

    python scripts/gadn_redraw_grid.py OUT.png MODEL.json [MODEL.json ...] [--data data/gadn_emoji]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from studio.core.grid import to_uint8
from studio.core.store import load_model
from studio.models.gadn.data import held_out_contents


def cell(image: Image.Image, size: int) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize((size, size), Image.LANCZOS))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--data", type=Path, default=Path("data/gadn_emoji"))
    ap.add_argument("--source", default="twitter", help="the vendor whose drawings are redrawn")
    ap.add_argument("--holdout-contents", type=float, default=0.2)
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    artists = sorted(p.name for p in args.data.iterdir() if p.is_dir())
    drawn = {a: {p.stem for p in (args.data / a).glob("*.png")} for a in artists}
    keys = [k for a in artists for k in drawn[a]]  # every artist's stems, as training saw them
    held = sorted(held_out_contents(keys, args.holdout_contents))
    random.Random(args.seed).shuffle(held)
    # rows the source draws; those every artist draws first (icon themes do not all draw every name)
    held = sorted((k for k in held if k in drawn[args.source]), key=lambda k: -sum(k in d for d in drawn.values()))
    models = [load_model(path, torch.device("cpu")) for path in args.models]
    size = models[0].image_size
    blank = np.full((size, size, 3), 128, np.uint8)  # grey: an artist who never drew the row's content
    rows = []
    for key in held[: args.rows]:
        source = args.data / args.source / f"{key}.png"
        row = [cell(Image.open(source), size)]
        for model in models:
            for artist in artists:
                row.append(to_uint8(model.transfer(source, artist))[0])
        row += [cell(Image.open(args.data / a / f"{key}.png"), size) if key in drawn[a] else blank for a in artists]
        rows.append(np.concatenate(row, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(args.out)
    print(
        f"{args.out}: rows {', '.join(held[: args.rows])}; columns: {args.source}, then per model {artists}, then real"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
