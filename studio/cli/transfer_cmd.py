"""``studio transfer MODEL IMAGE --artist NAME``: redraw an image's content in an artist's style (GADN).

Writes the input next to the output (or next to every artist's version when --artist is left out).
Without IMAGE, ``--seeds`` picks sampled contents instead: the "this content × all artists" grid.
The PNG carries the state (including the encoded content code), so dropping it on the canvas restores it.
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("transfer", help="redraw an image in an artist's style (GADN models)")
    p.add_argument("model", help="model id or card path of a GADN model")
    p.add_argument("image", nargs="?", type=Path, help="image to redraw (any format the loader reads)")
    p.add_argument(
        "--artist",
        action="append",
        metavar="NAME",
        help="target artist (repeatable; default: every artist of the model)",
    )
    p.add_argument("--seeds", help="without IMAGE: sampled contents, e.g. 0-3 (one row each)")
    p.add_argument("--cell", type=int, default=0, help="cell size in px (default: the model's size)")
    p.add_argument("-o", "--out", type=Path, default=Path("transfer.png"))
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from studio.cli.generate_cmd import parse_seeds
    from studio.core.errors import StudioError
    from studio.core.export import save_png
    from studio.core.grid import resize_cells, tile, to_uint8
    from studio.core.store import ModelStore, load_model
    from studio.models.gadn.model import GADNModel

    store = ModelStore()
    path = store.resolve(args.model)
    model = load_model(path, device=args.device, registry=store.registry)
    if not isinstance(model, GADNModel):
        raise StudioError(f"'{args.model}' is a {model.card.family} model; style transfer needs a GADN model")
    artists = args.artist or list(model.artists)
    for name in artists:
        model.artist_index(name)  # clear error for unknown names before any work
    rows: list[torch.Tensor] = []
    if args.image is not None:
        source = (model.image_tensor(args.image)[0] + 1) / 2
        state = model.transfer_state(args.image, artists[0])
        styled = model.content_grid(state, artists)
        rows.append(torch.cat([source.unsqueeze(0), styled]))
        what = f"{args.image.name} redrawn by {', '.join(artists)}"
        state["source_image"] = args.image.name
    else:
        seeds = parse_seeds(args.seeds or "0")
        if not seeds:
            raise SystemExit("--seeds selected no seeds")
        for s in seeds:
            rows.append(model.content_grid(model.default_state(Path(path).stem, s), artists))
        state = model.default_state(Path(path).stem, seeds[0])
        state["labels"]["artist"] = artists[0]
        state["grid"] = {"seeds": seeds, "artists": artists}
        what = f"{len(seeds)} content(s) × {len(artists)} artist(s)"
    cells = to_uint8(torch.cat(rows))
    if args.cell:
        cells = resize_cells(cells, args.cell)
    grid = tile(cells, len(rows), rows[0].shape[0])
    save_png(args.out, grid, state)
    print(f"wrote {args.out} ({what})")
    return 0
