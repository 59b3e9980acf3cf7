"""``studio gui``: open the window."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the GAN Studio window (the default)")
    p.add_argument("--model", help="model id or card path to open first")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps (default: remembered setting)")
    p.set_defaults(func=run)


def run(args) -> int:
    from studio.ui.app import run_app

    return run_app(model=args.model, device=args.device)
