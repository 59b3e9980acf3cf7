#!/usr/bin/env python3
"""Make the README's before/after grids: fine-tune a model on several paintings and render each child.

For every painting it runs the same job as ``studio finetune MODEL PAINTING`` (the exact command is
printed and stored in the child's card) and writes ``docs/images/finetune-<name>.png``: the painting on
the left, then rows of the same seeds at style strength 0 (the parent), 0.5 and 1 (fully fine-tuned).

Usage: python scripts/finetune_figures.py [--model emoji-dcgan] [--steps 100] [--batch 8] PAINTING...
       python scripts/finetune_figures.py --compare DIR [--variants old,new] PAINTING...
  (--compare: rows parent / old default / new default from the children scripts/eval_finetune_style.py
  cached in DIR, the painting and native-resolution crops of it on the left; docs/images/finetune-compare-*.png)
(paintings come from scripts/prepare_paintings.py: data/paintings/*.png)
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def figure(child_card: Path, painting: Path, seeds: int, cell: int):
    import numpy as np
    from PIL import Image

    from studio.core.grid import resize_cells, tile, to_uint8
    from studio.core.store import load_model

    model = load_model(child_card, "cpu")
    rows = []
    for s in (0.0, 0.5, 1.0):
        states = [
            dict(model.default_state(child_card.stem, seed), scalars={"style_strength": s}) for seed in range(seeds)
        ]
        rows.append(resize_cells(to_uint8(model.render(states)), cell))
    grid = tile(np.concatenate(rows), 3, seeds)
    from studio.core.images import load_image

    art = load_image(painting)
    art.thumbnail((10_000, grid.shape[0]))
    art = art.resize((max(1, round(art.width * grid.shape[0] / art.height)), grid.shape[0]))
    out = Image.new("RGB", (art.width + 8 + grid.shape[1], grid.shape[0]), "white")
    out.paste(art, (0, 0))
    out.paste(Image.fromarray(grid), (art.width + 8, 0))
    return out


def compare_figure(children: list[Path], painting: Path, seeds: int, cell: int, crops: int = 4):
    """Rows: the parent (the first child at style strength 0), then each child at strength 1; on the left the
    painting and, under it, ``crops`` crops at native resolution (one painting pixel per generated pixel —
    the scale the new style target sees)."""
    import numpy as np
    import torch
    from PIL import Image

    from studio.core.grid import resize_cells, tile, to_uint8
    from studio.core.store import load_model
    from studio.losses.style_targets import load_native, random_crops

    rows = []
    for i, card in enumerate(children):
        model = load_model(card, "cpu")
        strengths = (0.0, 1.0) if i == 0 else (1.0,)
        for s in strengths:
            states = [
                dict(model.default_state(card.stem, seed), scalars={"style_strength": s}) for seed in range(seeds)
            ]
            rows.append(resize_cells(to_uint8(model.render(states)), cell))
    nrows = len(rows)
    grid = tile(np.concatenate(rows), nrows, seeds)
    native = load_native(painting)
    size = int(model.card.image_size)
    side = min(size, *native.shape[-2:])
    patches, _ = random_crops(native, side, crops, size, torch.Generator().manual_seed(0))
    strip = tile(resize_cells(to_uint8(patches), cell), 1, crops)
    from studio.core.images import load_image

    art = load_image(painting)
    width = strip.shape[1]
    art_h = grid.shape[0] - strip.shape[0] - 8
    art.thumbnail((width, max(1, art_h)))
    out = Image.new("RGB", (width + 8 + grid.shape[1], grid.shape[0]), "white")
    out.paste(art, ((width - art.width) // 2, 0))
    out.paste(Image.fromarray(strip), (0, grid.shape[0] - strip.shape[0]))
    out.paste(Image.fromarray(grid), (width + 8, 0))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paintings", nargs="+", type=Path)
    ap.add_argument("--model", default="emoji-dcgan")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--style-weight", type=float, default=None, help="default: the fine-tune's default")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--cell", type=int, default=96)
    ap.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "images")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--compare",
        type=Path,
        default=None,
        metavar="DIR",
        help="no training: for each painting take the children DIR/<painting>-<variant>-*.json that "
        "scripts/eval_finetune_style.py made (--variants) and draw parent / each variant as rows",
    )
    ap.add_argument("--variants", default="old,new", help="with --compare: the variant names, one row each")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from studio.cli import main as studio

    if args.compare is not None:
        for painting in args.paintings:
            children = []
            for variant in args.variants.split(","):
                found = sorted(args.compare.glob(f"{painting.stem}-{variant}-*.json"))
                if not found:
                    sys.exit(f"no child {painting.stem}-{variant}-*.json in {args.compare}")
                children.append(found[-1])
            out = args.out_dir / f"finetune-compare-{painting.stem}.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            compare_figure(children, painting, args.seeds, args.cell).save(out)
            print(f"wrote {out} (rows: parent, {args.variants})", flush=True)
        return 0
    for painting in args.paintings:
        short = {"great-wave": "great-wave", "van-gogh": "van-gogh", "kandinsky": "kandinsky"}
        name = next((v for k, v in short.items() if k in painting.stem), painting.stem)
        child = f"{Path(args.model).stem}-{name}"
        argv = [
            "finetune",
            args.model,
            str(painting),
            "--steps",
            str(args.steps),
            "--batch",
            str(args.batch),
            "--layers",
            str(args.layers),
            "--out",
            child,
            "--device",
            "cpu",
        ]
        if args.style_weight is not None:
            argv += ["--style-weight", str(args.style_weight)]
            child += f"-sw{args.style_weight:g}"
            argv[argv.index("--out") + 1] = child
        print("studio " + " ".join(shlex.quote(a) for a in argv), flush=True)
        from studio.core.paths import user_models_dir

        card = user_models_dir() / f"{child}.json"
        if not card.exists() and studio(argv) != 0:
            return 1
        out = args.out_dir / f"finetune-{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        figure(card, painting, args.seeds, args.cell).save(out)
        print(f"wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
