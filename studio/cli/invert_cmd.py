"""``studio invert MODEL IMAGE -o state.json``: find an image in a model's latent space, headless.

Runs :class:`studio.models.invert.InvertJob` (the job the window runs when an image is dropped on the
canvas) with a progress bar. ``-o`` ends in ``.json`` (``{"state": …, "quality": …}``) or ``.png`` (the
reconstruction, with the state in its text chunk); either restores the canvas when given to
``studio generate --state`` or dropped on the window. The quality (LPIPS-style VGG distance, PSNR) of the
start and of the result is printed.
"""

from __future__ import annotations

from pathlib import Path

from studio.core import argtypes


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument

    p = sub.add_parser("invert", help="find an image in a model's latent space (GAN inversion) and save its state")
    p.add_argument("model", help="model id or card path (CSGAN, CAN, GADN, or a plugin that supports inversion)")
    p.add_argument("image", type=Path, help="the picture to find (PNG, JPEG, WebP, …)")
    p.add_argument(
        "-o", "--out", type=Path, required=True, help="where to save the state: .json, or .png (the reconstruction)"
    )
    add_overwrite_argument(p)
    p.add_argument("--steps", type=argtypes.int_range(0, 100_000), default=150, help="optimisation steps (default 150)")
    p.add_argument(
        "--starts",
        type=argtypes.int_range(1, 4096),
        default=64,
        help="random codes scored to pick the start (default 64; an encoder's guess is added where the family has one)",
    )
    p.add_argument("--first-seed", type=argtypes.seed, default=0, help="seed of the first random start")
    p.add_argument("--lr", type=argtypes.float_range(1e-6, 10.0), default=0.05, help="Adam learning rate")
    p.add_argument(
        "--pixel-weight",
        type=argtypes.float_range(0.0, 1e4),
        default=1.0,
        help="weight of the pixel MSE next to the VGG distance (default 1)",
    )
    p.add_argument("--fit", choices=("crop", "pad"), default="crop", help="how the picture is made square")
    p.add_argument(
        "--state", type=Path, default=None, help="start from this state's labels (e.g. a GADN artist): image or JSON"
    )
    p.add_argument("--preview-png", default=None, help="keep the live reconstruction in this PNG while it runs")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress
    from studio.core.errors import StudioError
    from studio.core.images import load_image
    from studio.core.states import read_state_file
    from studio.core.store import ModelStore
    from studio.models.invert import InvertJob

    try:
        same = args.out.resolve() == args.image.resolve()
    except OSError:
        same = False
    if same:
        raise StudioError(f"{args.out}: the output would replace the input image; choose another -o")
    image = load_image(args.image)  # a bad picture is one clear error before the model loads
    state = read_state_file(args.state) if args.state is not None else None
    store = ModelStore()
    path = store.resolve(args.model)
    job = InvertJob(
        path,
        image,
        out=args.out,
        force=args.overwrite,
        steps=args.steps,
        starts=args.starts,
        lr=args.lr,
        pixel_weight=args.pixel_weight,
        first_seed=args.first_seed,
        fit=args.fit,
        state=state,
        device=args.device,
        model_id=Path(path).stem,
        state_in_outputs=False,
    )
    return exit_code(run_with_progress(job, args.preview_png))
