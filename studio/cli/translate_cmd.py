"""``studio translate MODEL IMAGE``: apply a trained translator (CycleGAN, Bayesian CycleGAN, U-GAT-IT) to
any image at its own resolution, optionally in overlapping tiles, and save an image with the translation in
its metadata.

An existing output (the input image included) is replaced only with ``--overwrite``; without ``-o`` the
default name is made free (``IMAGE-MODEL-a2b-2.png``…) and the command says so. A result that cannot be
written is kept in ``$STUDIO_HOME/recovered``."""

from __future__ import annotations

from pathlib import Path

from studio.core import argtypes

AUTO_TILE_ABOVE = 1024
AUTO_TILE = 512


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument

    p = sub.add_parser("translate", help="translate an image with a CycleGAN / Bayesian CycleGAN / U-GAT-IT model")
    p.add_argument("model", help="translator model id or card path")
    p.add_argument("image", type=Path, help="any image (PNG, JPEG, WebP, ...)")
    p.add_argument(
        "--direction", default="a2b", choices=["a2b", "b2a"], help="a2b: domain A → B (default); b2a: the reverse"
    )
    p.add_argument(
        "-o",
        "--out",
        type=argtypes.image_out,
        default=None,
        help="output image, .png, .jpg or .webp (default IMAGE-MODEL-DIRECTION.png, or a free name next to it)",
    )
    add_overwrite_argument(p)
    p.add_argument(
        "--tile",
        type=argtypes.nonneg_int,
        default=None,
        help="process in tiles of N px with overlap (bounds memory on large images); 0 = whole image; "
        f"default: whole image up to {AUTO_TILE_ABOVE} px, else {AUTO_TILE} px tiles",
    )
    p.add_argument(
        "--overlap", type=argtypes.nonneg_int, default=None, help="tile overlap in px (default: from the model)"
    )
    p.add_argument("--side-by-side", action="store_true", help="save input | output next to each other")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from studio.cli.outputs import image_target
    from studio.cli.progress import TextProgress, exit_code
    from studio.core.errors import StudioError
    from studio.core.export import save_result
    from studio.core.images import load_image
    from studio.core.jobs import run_job
    from studio.core.store import ModelStore, load_model
    from studio.models.translate_common import TranslateImageJob, TranslatorModel

    store = ModelStore()
    path = store.resolve(args.model)
    model_id = Path(path).stem
    default = f"{args.image.stem}-{model_id}-{args.direction}.png"
    out = image_target(args.out, default, args.overwrite, inputs=[args.image])  # before any work
    model = load_model(path, device=args.device, registry=store.registry)
    if not isinstance(model, TranslatorModel):
        raise StudioError(
            f"'{args.model}' is a {model.card.family} model, not an image translator "
            "(use a CycleGAN, Bayesian CycleGAN or U-GAT-IT model)"
        )
    image = load_image(args.image)
    if args.tile is None:
        args.tile = AUTO_TILE if max(image.size) > AUTO_TILE_ABOVE else 0
    job = TranslateImageJob(model, image, args.direction, args.tile, args.overlap)
    result = run_job(job, TextProgress() if args.tile else None)  # outputs hold pixels: not printed
    if not result.ok:
        import sys

        print(("error: " if result.status == "failed" else "") + result.message, file=sys.stderr)
        return exit_code(result)
    pixels = result.outputs["image"]
    if args.side_by_side:
        pixels = np.concatenate([np.asarray(image, dtype=np.uint8), pixels], axis=1)
    state = model.default_state(model_id)
    state["labels"]["direction"] = args.direction
    state["translate"] = {
        "source": args.image.name,
        "direction": args.direction,
        "tile": args.tile,
        "size": [image.width, image.height],
        "side_by_side": bool(args.side_by_side),
    }
    written = save_result(out, pixels, state)
    print(f"wrote {written} ({image.width}×{image.height}, {args.direction} with '{model_id}')")
    return 0
