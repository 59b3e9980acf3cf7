"""The ``studio`` command. ``studio`` alone opens the window; subcommands run the same core jobs headless.

Each subcommand lives in its own module exposing ``register(subparsers)``; add new ones to COMMANDS.
A bad argument is one ``PROG: error: ...`` line and exit code 2 (the argparse types in
``studio.core.argtypes`` check ranges before any work); a user-facing failure is one ``error: ...`` line
and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from studio.core.threads import apply_thread_policy

apply_thread_policy()  # before anything imports torch: OMP reads it once (see studio.core.threads)

COMMANDS = [
    "gui",
    "generate",
    "train",
    "run",
    "models",
    "transfer",
    "translate",
    "eval",
    "finetune",
    "stylize",
    "plugins",
    "invert",
    "animate",
]


class StudioArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _VersionAction(argparse.Action):
    """``studio --version``: the version, torch's, and the threading policy read back in force."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        import torch

        from studio import __version__
        from studio.core.threads import describe

        print(f"gan-studio {__version__}; torch {torch.__version__}; {describe()}")
        sys.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = StudioArgumentParser(prog="studio", description="GAN Studio: play with trained image generators.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and the threading policy")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"studio.cli.{name}_cmd").register(sub)
    return parser


def _silence_stdout() -> None:
    """After a closed pipe (``studio models inspect X | head``): send what is left to /dev/null, so the
    interpreter's final flush does not print a BrokenPipeError either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to flush
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``studio`` command; Ctrl+C at any moment (even while the families load, in the first
    second) ends it with a one-line message and exit code 130, never a traceback. While a job runs,
    ``studio.cli.progress`` handles Ctrl+C itself (stop and save, then a second one stops at once)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        try:
            print("\ninterrupted", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return 130


def console_main() -> None:
    """The ``studio`` console script and ``python -m studio``: :func:`main`, then the exit. A torchrun
    rank (``RANK`` set) ends through :func:`studio.train.distributed.exit_process`, which flushes and
    skips the interpreter's finalisation, where gloo could abort a finished, saved rank."""
    code = main()
    if "RANK" in os.environ:
        from studio.train.distributed import exit_process

        exit_process(code)
    sys.exit(code)


def _warn_about_plugins(args) -> None:
    """One stderr line when a plugin failed to load (``studio plugins`` lists them all)."""
    from studio.core.registry import discovered_registry

    reg = discovered_registry()  # discovered while the parser was built (train / run list the families)
    if reg is not None and reg.errors and args.command != "plugins":
        from studio.cli.plugins_cmd import problems_line

        print(problems_line(reg.errors), file=sys.stderr)


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv or ["gui"])
    except SystemExit as exc:  # --help, --version or a bad argument (already printed): its exit code
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    args.argv = argv  # the command as typed, for model cards (not sys.argv: main() is called from Python too)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _warn_about_plugins(args)
    from studio.core.errors import StudioError

    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): stop quietly, like any Unix tool
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
