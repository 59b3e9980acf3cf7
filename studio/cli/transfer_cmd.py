"""``studio transfer MODEL IMAGE --artist NAME``: redraw an image's content in an artist's style (GADN).

Writes the input next to the output (or next to every artist's version when --artist is left out).
Without IMAGE, ``--seeds`` picks sampled contents instead: the "this content × all artists" grid.
The image carries the state (including the encoded content code), so dropping it on the canvas restores it.
An existing output is replaced only with ``--overwrite``.
"""

from __future__ import annotations

from pathlib import Path

from studio.core import argtypes


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument

    p = sub.add_parser("transfer", help="redraw an image in an artist's style (GADN models)")
    p.add_argument("model", help="model id or card path of a GADN model")
    p.add_argument("image", nargs="?", type=Path, help="image to redraw (any format the loader reads)")
    p.add_argument(
        "--artist",
        action="append",
        metavar="NAME",
        help="target artist (repeatable; default: every artist of the model)",
    )
    p.add_argument("--seeds", type=argtypes.seeds, help="without IMAGE: sampled contents, e.g. 0-3 (one row each)")
    p.add_argument(
        "--cell",
        type=argtypes.cell_size,
        default=0,
        help=f"cell size in px, up to {argtypes.MAX_CELL} (default 0: the model's size)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=argtypes.image_out,
        default=None,
        help="output image, .png, .jpg or .webp (default transfer.png, or a free name next to it)",
    )
    add_overwrite_argument(p)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from studio.cli.outputs import grid_pixels, image_target
    from studio.core.errors import StudioError
    from studio.core.export import save_result
    from studio.core.grid import resize_cells, tile, to_uint8
    from studio.core.store import ModelStore, load_model
    from studio.models.gadn.model import GADNModel

    if args.image is not None and args.seeds is not None:
        raise StudioError("give IMAGE or --seeds, not both (--seeds samples contents when there is no image)")
    out = image_target(args.out, "transfer.png", args.overwrite, inputs=[args.image] if args.image else [])
    store = ModelStore()
    path = store.resolve(args.model)
    model = load_model(path, device=args.device, registry=store.registry)
    if not isinstance(model, GADNModel):
        raise StudioError(f"'{args.model}' is a {model.card.family} model; style transfer needs a GADN model")
    artists = args.artist or list(model.artists)
    for name in artists:
        model.artist_index(name)  # clear error for unknown names before any work
    seeds = args.seeds or [0]
    if args.image is not None:
        grid_pixels(1, 1 + len(artists), args.cell or model.image_size)
    else:
        grid_pixels(len(seeds), len(artists), args.cell or model.image_size)
    rows: list[torch.Tensor] = []
    if args.image is not None:
        source = (model.image_tensor(args.image)[0] + 1) / 2
        state = model.transfer_state(args.image, artists[0])
        styled = model.content_grid(state, artists)
        rows.append(torch.cat([source.unsqueeze(0), styled]))
        what = f"{args.image.name} redrawn by {', '.join(artists)}"
        state["source_image"] = args.image.name
    else:
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
    written = save_result(out, grid, state)
    print(f"wrote {written} ({what})")
    return 0
