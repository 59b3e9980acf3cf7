"""``studio train FAMILY ...``: train any family that offers a 'train' job, with a progress bar."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path


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
        _add_preview_option(fp)
        fp.set_defaults(func=run, family_obj=family)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run(args) -> int:
    args.job_name = "train"
    return run_named(args)


def register_run(sub) -> None:
    """``studio run FAMILY JOB ...``: any job any family offers (train, create, ...), for plugins too."""
    from studio.core.registry import default_registry

    p = sub.add_parser("run", help="run any job a family offers (e.g. 'studio run cppn create')")
    fsub = p.add_subparsers(dest="family", metavar="FAMILY")
    for name, family in sorted(default_registry().families.items()):
        jobs = family.jobs()
        if not jobs:
            continue
        fp = fsub.add_parser(name, help=family.title)
        jsub = fp.add_subparsers(dest="job", metavar="JOB")
        for job_name, help_text in jobs.items():
            jp = jsub.add_parser(job_name, help=help_text)
            family.add_job_arguments(job_name, jp)
            _add_preview_option(jp)
            jp.set_defaults(func=run_named, family_obj=family, job_name=job_name)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _add_preview_option(parser) -> None:
    parser.add_argument(
        "--preview-png",
        dest="preview_png",
        default=None,
        metavar="PATH",
        help="keep the latest live preview image in this PNG (watch a headless run); an existing file is "
        "replaced only with --overwrite or --resume",
    )


def check_preview_target(args) -> None:
    """``--preview-png`` is a file the user names: an existing one (not this run's, which --resume
    continues) is replaced only with --overwrite; checked before the job starts."""
    from studio.core.errors import StudioError
    from studio.core.export import check_image_target

    path = getattr(args, "preview_png", None)
    if not path:
        return
    if Path(path).suffix.lower() != ".png":
        raise StudioError(f"--preview-png {path}: the live preview is a PNG; give a name ending in .png")
    has_flag = hasattr(args, "force")
    keep = bool(getattr(args, "force", False) or getattr(args, "resume", False))
    try:
        check_image_target(path, keep)
    except StudioError as exc:
        if not has_flag and Path(path).is_file():  # this job has no --overwrite to suggest
            raise StudioError(f"--preview-png: {path} already exists; choose another file or remove it") from None
        raise StudioError(f"--preview-png: {exc}") from None


def run_named(args) -> int:
    from studio.cli.progress import exit_code, run_quietly, run_with_progress
    from studio.train.distributed import launched_by_torchrun

    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    if int(os.environ.get("RANK", "0") or 0) == 0:  # before any work; only rank 0 writes the preview
        check_preview_target(args)
    nproc = getattr(args, "nproc", 1) or 1
    if nproc > 1 and not launched_by_torchrun():
        return relaunch_with_torchrun(nproc, argv)
    skip = ("func", "family_obj", "command", "family", "job", "job_name", "preview_png", "nproc", "argv")
    options = {k: v for k, v in vars(args).items() if k not in skip}
    options["command"] = "studio " + " ".join(shlex.quote(a) for a in argv)
    job = args.family_obj.make_job(args.job_name, **options)
    if int(os.environ.get("RANK", "0") or 0) > 0:  # DDP: rank 0 shows progress, the others stay quiet
        return exit_code(run_quietly(job))
    return exit_code(run_with_progress(job, preview_png=getattr(args, "preview_png", None)))


def relaunch_with_torchrun(nproc: int, args: list[str]) -> int:
    """``--nproc N``: run this same command under PyTorch's own launcher (torchrun), N processes on this
    machine. For several machines, call ``torchrun`` yourself with its rendezvous flags (see README)."""
    import subprocess

    argv = []
    skip_next = False
    for a in args:
        if skip_next:
            skip_next = False
            continue
        if a == "--nproc":
            skip_next = True
            continue
        if a.startswith("--nproc="):
            continue
        argv.append(a)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "studio",
        *argv,
    ]
    print(f"starting {nproc} training processes with torchrun…", file=sys.stderr)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:  # torchrun forwards the stop to its workers, which save and export
        return 130
