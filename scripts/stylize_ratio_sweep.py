"""Which stylize ratio visibly stylizes? Run the Gatys job at several ratios on one photo and one painting,
print the final content and style losses, and write a strip (photo, style, one result per ratio).

The measurement behind the default ratio of ``studio stylize`` and the Stylize tool (issue 17): the style
loss is relative (~1 for unrelated images, 0 for the painting's own statistics), so "stylized" is read as
"most of the style distance closed" while the content loss stays below the style-only extreme.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/stylize_ratio_sweep.py \\
        data/paintings/leonardo-da-vinci-mona-lisa.png data/paintings/vincent-van-gogh-village-street-in-auvers.png \\
        --size 128 --steps 30 --out docs/images/stylize-ratio-sweep.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from studio.core.grid import to_uint8
from studio.losses.perceptual import build_loss_network
from studio.stylize.gatys import StylizeConfig, _load, stylize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("content")
    ap.add_argument("style")
    ap.add_argument("--ratios", default="1e3,1e4,1e5,1e6,1e7")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    torch.set_num_threads(1)
    content = _load(args.content, args.size)
    style = _load(args.style, args.size)
    net = build_loss_network(StylizeConfig().loss, "cpu")
    tiles = [to_uint8(content)[0], to_uint8(style)[0]]
    labels = ["photo", "style"]
    print(f"{'ratio':>8} {'content':>9} {'style':>9} {'seconds':>8}")
    for text in args.ratios.split(","):
        cfg = StylizeConfig(ratio=float(text), size=args.size, steps=args.steps)
        t0 = time.perf_counter()
        image, losses = stylize(content, style, cfg, net)
        print(f"{text:>8} {losses['content']:9.4f} {losses['style']:9.4f} {time.perf_counter() - t0:8.1f}", flush=True)
        tiles.append(to_uint8(image)[0])
        labels.append(f"ratio {text}")
    if args.out:
        h = max(t.shape[0] for t in tiles)
        w = sum(t.shape[1] for t in tiles) + 4 * (len(tiles) - 1)
        canvas = Image.new("RGB", (w, h + 16), "white")
        x = 0
        draw = ImageDraw.Draw(canvas)
        for tile, label in zip(tiles, labels, strict=True):
            canvas.paste(Image.fromarray(np.ascontiguousarray(tile)), (x, 16))
            draw.text((x + 2, 2), label, fill="black")
            x += tile.shape[1] + 4
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        canvas.save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
