"""The ``studio`` command. ``studio`` alone opens the window; subcommands run the same core jobs headless.

Each subcommand lives in its own module exposing ``register(subparsers)``; add new ones to COMMANDS.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["gui", "generate", "train", "run", "models", "transfer", "translate", "eval", "finetune", "stylize"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="GAN Studio: play with trained image generators.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"studio.cli.{name}_cmd").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv or ["gui"])
    args.argv = argv  # the command as typed, for model cards (not sys.argv: main() is called from Python too)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from studio.core.errors import StudioError

    try:
        return int(args.func(args) or 0)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
