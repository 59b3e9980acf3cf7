"""``studio train FAMILY ...``: train any family that offers a 'train' job, with a progress bar."""
from __future__ import annotations

import shlex
import sys


def register(sub) -> None:
    from studio.core.registry import default_registry

    p = sub.add_parser("train", help="train a model of a family on a folder of images")
    fsub = p.add_subparsers(dest="family", metavar="FAMILY")
    reg = default_registry()
    for name, family in sorted(reg.families.items()):
        jobs = family.jobs()
        if "train" not in jobs:
            continue
        fp = fsub.add_parser(name, help=jobs["train"])
        family.add_job_arguments("train", fp)
        fp.set_defaults(func=run, family_obj=family)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress

    options = {k: v for k, v in vars(args).items() if k not in ("func", "family_obj", "command", "family")}
    options["command"] = "studio " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    job = args.family_obj.make_job("train", **options)
    return exit_code(run_with_progress(job))
