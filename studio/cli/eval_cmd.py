"""``studio eval MODEL... --data DIR``: FID/KID/MiFID/IS-style scores, card metrics, HTML model report."""

from __future__ import annotations

from pathlib import Path

from studio.core import argtypes


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument

    p = sub.add_parser("eval", help="score models against a folder of reference images (FID, KID, MiFID, IS)")
    p.add_argument("models", nargs="+", help="model ids or card paths (several: compare side by side)")
    p.add_argument("--data", required=True, help="folder of reference images (usually the training data)")
    p.add_argument("--n", type=argtypes.positive_int, default=1000, help="samples per model (default 1000)")
    p.add_argument(
        "--features",
        default="mobilenet_v2",
        help="feature network: mobilenet_v2 (default), efficientnet_lite0, or the path of the "
        "standard FID weights pt_inception-2015-12-05-*.pth",
    )
    p.add_argument("--report", help="write the HTML model report into this folder (or to this .html file)")
    add_overwrite_argument(p, "an existing report")
    p.add_argument("--write-card", action="store_true", help="store the scores in each model card's metrics")
    p.add_argument("--train", help="training folder for the memorisation test (default: --data)")
    p.add_argument("--compare", action="store_true", help="side-by-side table (implied by several models)")
    p.add_argument(
        "--reference-limit",
        type=argtypes.nonneg_int,
        default=0,
        help="use at most this many reference images (0 = all)",
    )
    p.add_argument("--kid-subsets", type=argtypes.positive_int, default=100)
    p.add_argument("--batch-size", type=argtypes.positive_int, default=32)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress
    from studio.core.store import ModelStore
    from studio.metrics.evaluate import EvaluationJob

    if args.report:
        check_report_target(args.report, args.overwrite)  # before the long work
    store = ModelStore()
    paths = [store.resolve(m) for m in args.models]
    job = EvaluationJob(
        paths,
        args.data,
        n=args.n,
        features=args.features,
        report=args.report,
        write_card=args.write_card,
        train=args.train,
        device=args.device,
        batch_size=args.batch_size,
        reference_limit=args.reference_limit,
        kid_subsets=args.kid_subsets,
        compare=args.compare,
        registry=store.registry,
    )
    return exit_code(run_with_progress(job))


def check_report_target(report: str, overwrite: bool) -> Path:
    """Where ``--report`` writes (``studio.metrics.report.write_report``'s rule: a .html path, or
    report.html inside a folder); an existing report is refused unless ``overwrite``."""
    from studio.core.errors import StudioError

    target = Path(report).expanduser()
    path = target if target.suffix.lower() in (".html", ".htm") else target / "report.html"
    if path.is_dir():
        raise StudioError(f"--report {report}: {path} is a folder; give a folder or a .html file name")
    if target.exists() and not target.is_dir() and path != target:
        raise StudioError(f"--report {report}: this is a file, not a folder; give a folder or a .html file name")
    if path.exists() and not overwrite:
        raise StudioError(f"--report {report}: {path} already exists; pass --overwrite to replace it")
    return path
