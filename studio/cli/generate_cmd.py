"""``studio generate MODEL``: render a grid of samples to PNG, headless (the studio's main job)."""

from __future__ import annotations

import json
from pathlib import Path


def parse_seeds(text: str) -> list[int]:
    """'0-15' -> 0..15; '1,5,9' -> [1,5,9]; '3' -> [3]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            a, b = part.split("-", 1) if not part.startswith("-") else part[1:].split("-", 1)
            lo, hi = int(a), int(b)
            seeds.extend(range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1))
        elif part:
            seeds.append(int(part))
    return seeds


def _pairs(items: list[str] | None, kind: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--{kind} expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def register(sub) -> None:
    p = sub.add_parser("generate", help="render a grid of samples from a model to a PNG")
    p.add_argument("model", nargs="?", default=None, help="model id or card path (default: the bundled starter)")
    p.add_argument("--seeds", default="0-15", help="seeds, e.g. 0-15 or 1,5,9 (default 0-15)")
    p.add_argument("--cols", type=int, default=0, help="grid columns (default: square-ish)")
    p.add_argument("--cell", type=int, default=0, help="cell size in px (default: the model's size)")
    p.add_argument("--truncation", type=float, default=1.0)
    p.add_argument("--label", action="append", metavar="NAME=VALUE", help="pick a label, e.g. artist=google")
    p.add_argument("--scalar", action="append", metavar="NAME=VALUE", help="set a scalar control")
    p.add_argument("--state", type=Path, help="start from the state stored in an exported PNG or JSON file")
    p.add_argument("-o", "--out", type=Path, default=Path("samples.png"))
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def default_model_id(store) -> str:
    from studio.core.errors import StudioError

    mid = store.default_id()
    if mid is None:
        raise StudioError("no models installed: train one with 'studio train' or restore resources/models")
    return mid


def run(args) -> int:
    import math

    from studio.core.export import read_state, save_png
    from studio.core.family import normalise_state
    from studio.core.grid import resize_cells, tile, to_uint8
    from studio.core.store import ModelStore, load_model

    store = ModelStore()
    model_id = args.model or default_model_id(store)
    path = store.resolve(model_id)
    model = load_model(path, device=args.device, registry=store.registry)
    seeds = parse_seeds(args.seeds)
    if not seeds:
        raise SystemExit("--seeds selected no seeds")
    if args.state:
        base = json.loads(args.state.read_text()) if args.state.suffix == ".json" else read_state(args.state)
    else:
        base = model.default_state(Path(path).stem)
    base = normalise_state(base)
    base["truncation"] = args.truncation if args.state is None else base["truncation"]
    base["labels"].update(_pairs(args.label, "label"))
    base["scalars"].update({k: float(v) for k, v in _pairs(args.scalar, "scalar").items()})
    states = []
    for s in seeds:
        st = normalise_state(base)
        st["seed"] = s
        states.append(st)
    images = []
    for i in range(0, len(states), 64):
        images.append(to_uint8(model.render(states[i : i + 64])))
    import numpy as np

    pixels = np.concatenate(images)
    if args.cell:
        pixels = resize_cells(pixels, args.cell)
    cols = args.cols or math.ceil(math.sqrt(len(seeds)))
    rows = math.ceil(len(seeds) / cols)
    grid = tile(pixels, rows, cols)
    meta = dict(states[0])
    meta["grid"] = {"seeds": seeds, "rows": rows, "cols": cols}
    save_png(args.out, grid, meta)
    print(f"wrote {args.out} ({rows}×{cols} grid of {len(seeds)} samples from '{model_id}')")
    return 0
