"""``studio stylize CONTENT STYLE -o OUT.png``: Gatys style transfer of one photo, with a progress bar.

An existing OUT is replaced only with ``--overwrite``; a result that cannot be written is kept in
``$STUDIO_HOME/recovered`` (the message says where).
"""

from __future__ import annotations

from pathlib import Path

from studio.core import argtypes


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument
    from studio.stylize import StylizeConfig
    from studio.stylize.gatys import _MAX_SIDE, AUTO_SIZE_LIMIT, TILE_ABOVE

    d = StylizeConfig()
    p = sub.add_parser("stylize", help="repaint a photo in the style of another image (Gatys et al.)")
    p.add_argument("content", type=Path, help="the photo to repaint")
    p.add_argument("style", type=Path, help="the style image (a painting)")
    p.add_argument(
        "--ratio",
        type=argtypes.positive_float,
        default=d.ratio,
        help=f"style emphasis as in the report's table: 1, 1e3, 1e6, 1e9 (more style; default {d.ratio:g}, "
        "which paints the photo visibly and keeps its subject)",
    )
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=d.optimizer)
    p.add_argument("--init", choices=("content", "noise"), default=d.init)
    p.add_argument(
        "--size",
        type=argtypes.int_range(16, _MAX_SIDE),
        default=None,
        help=f"output's longer side in px, 16–{_MAX_SIDE} (default: the photo's own, up to {AUTO_SIZE_LIMIT}; "
        f"above {TILE_ABOVE} px it is stylised in tiles)",
    )
    p.add_argument("--steps", type=argtypes.positive_int, default=d.steps, help=f"optimiser steps (default {d.steps})")
    p.add_argument("--lr", type=argtypes.positive_float, default=d.lr, help="Adam learning rate")
    p.add_argument("--tv-weight", type=argtypes.nonneg_float, default=d.tv_weight)
    p.add_argument(
        "--style-scale",
        type=argtypes.float_range(0.1, 4.0),
        default=d.style_scale,
        help="style image size relative to the output, 0.1–4 (bigger = larger brush strokes)",
    )
    p.add_argument("--seed", type=argtypes.seed, default=d.seed)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "-o", "--out", type=argtypes.image_out, required=True, help="output image: .png, .jpg or .webp (with settings)"
    )
    add_overwrite_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from studio.cli.outputs import image_target
    from studio.cli.progress import exit_code, run_with_progress
    from studio.stylize import StylizeConfig, StylizeJob

    out = image_target(args.out, "", args.overwrite, inputs=(args.content, args.style))  # before the work
    cfg = StylizeConfig(
        ratio=args.ratio,
        optimizer=args.optimizer,
        init=args.init,
        size=args.size or 0,
        steps=args.steps,
        lr=args.lr,
        tv_weight=args.tv_weight,
        style_scale=args.style_scale,
        seed=args.seed,
    )
    return exit_code(run_with_progress(StylizeJob(args.content, args.style, out, cfg, device=args.device)))
