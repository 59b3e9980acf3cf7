"""``studio stylize CONTENT STYLE -o OUT.png``: Gatys style transfer of one photo, with a progress bar."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    from studio.stylize import StylizeConfig

    d = StylizeConfig()
    p = sub.add_parser("stylize", help="repaint a photo in the style of another image (Gatys et al.)")
    p.add_argument("content", type=Path, help="the photo to repaint")
    p.add_argument("style", type=Path, help="the style image (a painting)")
    p.add_argument(
        "--ratio",
        type=float,
        default=d.ratio,
        help="style emphasis as in the report's table: 1, 1e3 (default), 1e6, 1e9 (more style)",
    )
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=d.optimizer)
    p.add_argument("--init", choices=("content", "noise"), default=d.init)
    p.add_argument("--size", type=int, default=d.size, help=f"output's longer side in px (default {d.size})")
    p.add_argument("--steps", type=int, default=d.steps, help=f"optimiser steps (default {d.steps})")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    p.add_argument("--tv-weight", type=float, default=d.tv_weight)
    p.add_argument(
        "--style-scale",
        type=float,
        default=d.style_scale,
        help="style image size relative to the output (bigger = larger brush strokes)",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default="auto")
    p.add_argument("-o", "--out", type=Path, required=True, help="output PNG")
    p.set_defaults(func=run)


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress
    from studio.stylize import StylizeConfig, StylizeJob

    cfg = StylizeConfig(
        ratio=args.ratio,
        optimizer=args.optimizer,
        init=args.init,
        size=args.size,
        steps=args.steps,
        lr=args.lr,
        tv_weight=args.tv_weight,
        style_scale=args.style_scale,
        seed=args.seed,
    )
    return exit_code(run_with_progress(StylizeJob(args.content, args.style, args.out, cfg, device=args.device)))
