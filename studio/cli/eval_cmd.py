"""``studio eval MODEL... --data DIR``: FID/KID/MiFID/IS-style scores, card metrics, HTML model report.

``--measure gadn`` runs the GADN paper's measures (``studio.models.gadn.evaluate``) and
``--measure translation`` a translator's before/after KID (``studio.models.translate_eval``), through
the jobs of ``studio.models.paper_eval``."""

from __future__ import annotations

from pathlib import Path

from studio.core import argtypes


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument

    p = sub.add_parser("eval", help="score models against a folder of reference images (FID, KID, MiFID, IS)")
    p.add_argument("models", nargs="+", help="model ids or card paths (several: compare side by side)")
    p.add_argument(
        "--measure",
        choices=("scores", "gadn", "translation"),
        default="scores",
        help="scores (default): FID/KID/MiFID/IS of samples against --data; gadn: the GADN paper's "
        "disentanglement and transfer measures on its training folder --data; translation: a translator's KID "
        "to the target domain before/after translation on --a/--b test folders",
    )
    p.add_argument(
        "--data", help="folder of reference images (usually the training data); for gadn, the training folder"
    )
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
    g = p.add_argument_group("--measure gadn")
    g.add_argument("--generated", type=argtypes.nonneg_int, default=0, help="generated samples (0: as many as images)")
    g.add_argument("--per-pair", type=argtypes.nonneg_int, default=200, help="images per artist pair, transfer check")
    g.add_argument(
        "--classifier-steps",
        type=argtypes.nonneg_int,
        default=1500,
        help="steps of the independent (real-images-only) classifier; 0 = skip it",
    )
    g.add_argument("--max-per-artist", type=argtypes.nonneg_int, default=0, help="at most N images per artist")
    g.add_argument(
        "--holdout-contents",
        type=argtypes.float_range(0.0, 0.5),
        default=None,
        help="also judge the transfer on the contents a run with this --holdout-contents left out of training "
        "(default: the model card's own), e.g. to score another model on the same contents",
    )
    t = p.add_argument_group("--measure translation")
    t.add_argument("--a", dest="dir_a", help="test images of domain A")
    t.add_argument("--b", dest="dir_b", help="test images of domain B")
    t.add_argument("--limit", type=argtypes.nonneg_int, default=0, help="at most N test images per domain")
    t.add_argument("--grid", help="save an A | A→B | B example grid to this .png")
    t.add_argument("--cell", type=argtypes.nonneg_int, default=0, help="grid cell size in px (0: the model's)")
    t.add_argument(
        "--translate-size",
        type=argtypes.nonneg_int,
        default=0,
        help="translate the test images at this size in px (0: the model's crop size; give the training scale)",
    )
    t.add_argument(
        "--other-a",
        help="other real images of domain A (e.g. its training folder): their KID to the A test images is the "
        "floor a B→A translation can reach (the content gap)",
    )
    t.add_argument("--other-b", help="the same for domain B: the floor of A→B")
    p.add_argument("--json", help="(gadn, translation) also write the full results to this .json file")
    p.set_defaults(func=run)


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress
    from studio.core.errors import StudioError
    from studio.core.store import ModelStore
    from studio.metrics.evaluate import EvaluationJob

    if args.measure != "scores":
        return run_paper_measure(args)
    if not args.data:
        raise StudioError("studio eval needs --data DIR (the reference images)")
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


def run_paper_measure(args) -> int:
    """``--measure gadn`` / ``--measure translation``: one model, its paper's measures, a summary on stdout."""
    from studio.cli.progress import exit_code, run_with_progress
    from studio.core.errors import StudioError
    from studio.models.paper_eval import GADNEvaluationJob, TranslatorEvaluationJob

    if len(args.models) != 1:
        raise StudioError(f"--measure {args.measure} evaluates one model at a time (got {len(args.models)})")
    shared = dict(
        features=args.features,
        device=args.device,
        write_card=args.write_card,
        json_path=args.json,
        overwrite=args.overwrite,
    )
    job: GADNEvaluationJob | TranslatorEvaluationJob
    if args.measure == "gadn":
        job = GADNEvaluationJob(
            args.models[0],
            args.data or "",
            generated=args.generated,
            per_pair=args.per_pair,
            classifier_steps=args.classifier_steps,
            max_per_artist=args.max_per_artist,
            holdout_contents=args.holdout_contents,
            **shared,
        )
    else:
        job = TranslatorEvaluationJob(
            args.models[0],
            args.dir_a or "",
            args.dir_b or "",
            limit=args.limit,
            grid=args.grid,
            cell=args.cell,
            size=args.translate_size,
            other_a=args.other_a,
            other_b=args.other_b,
            **shared,
        )
    res = run_with_progress(job)
    if res.ok and job.summary:
        print(job.summary)
    return exit_code(res)


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
