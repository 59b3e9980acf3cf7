"""``studio animate [MODEL] -o OUT.gif|.png|.mp4``: an interpolation as an animation, headless.

Keyframes come from ``--state FILE`` (two or more exported images / JSON states, e.g. history exports or
``studio invert`` results), ``--seeds 1,5,9`` (grid cells of those seeds), or ``--direction pc0`` (one
state, default seed 0 or the first ``--state``, moved ±``--amount`` along a direction). Runs
:class:`studio.core.animate_job.AnimateJob`, the job behind File ▸ Export animation…; the file carries
its keyframe states (APNG text chunk, GIF comment, MP4 ``comment`` tag).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core import argtypes


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument
    from studio.core.animate import EASINGS, MAX_FRAMES, MAX_SIDE

    p = sub.add_parser("animate", help="export an interpolation between states as GIF, APNG or MP4")
    p.add_argument("model", nargs="?", default=None, help="model id or card path (default: the first --state's model)")
    p.add_argument(
        "--state",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a keyframe: an exported image or a JSON state (repeat; with --direction: the state to move)",
    )
    p.add_argument("--seeds", type=argtypes.seeds, default=None, help="keyframes from seeds, e.g. 3,8,21")
    p.add_argument("--direction", default=None, help="animate along this direction (e.g. pc0) from one state")
    p.add_argument(
        "--amount", type=argtypes.float_range(0.01, 10.0), default=2.0, help="±standard deviations for --direction"
    )
    p.add_argument("-o", "--out", type=Path, required=True, help="output: .gif, .png / .apng (APNG) or .mp4")
    add_overwrite_argument(p)
    p.add_argument("--frames", type=argtypes.int_range(2, MAX_FRAMES), default=48, help="frame count (default 48)")
    p.add_argument(
        "--duration", type=argtypes.float_range(0.05, 600.0), default=3.0, help="seconds for all frames (default 3)"
    )
    p.add_argument("--easing", choices=tuple(EASINGS), default="ease-in-out", help="speed curve between keyframes")
    p.add_argument(
        "--loop", type=argtypes.int_range(0, 65535), default=0, help="plays: 0 = forever (GIF, APNG; default)"
    )
    p.add_argument("--bounce", action="store_true", help="go there and back (a seamless loop)")
    p.add_argument(
        "--size",
        type=argtypes.int_range(0, MAX_SIDE),
        default=0,
        help=f"frame side in px, up to {MAX_SIDE} (default 0: the model's size)",
    )
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def keyframes_from(args, model: Any, model_id: str, states: list[dict[str, Any]]) -> tuple[list[dict], str]:
    """The keyframes the arguments ask for, and what they came from."""
    from studio.core.animate import direction_keyframes
    from studio.core.errors import StudioError

    if args.direction is not None:
        names = [c.name for c in model.controls() if c.kind == "direction"]
        if args.direction not in names:
            raise StudioError(
                f"{model_id} has no direction '{args.direction}' (its directions: {', '.join(names) or 'none'})"
            )
        base = states[0] if states else model.default_state(model_id, (args.seeds or [0])[0])
        return direction_keyframes(base, args.direction, args.amount), "direction"
    if args.seeds:
        keys = [model.default_state(model_id, s) for s in args.seeds]
        return keys, "seeds"
    return states, "states"


def run(args) -> int:
    from studio.cli.progress import exit_code, run_with_progress
    from studio.core.animate_job import AnimateJob, check_animation_target
    from studio.core.errors import StudioError
    from studio.core.states import read_state_file
    from studio.core.store import ModelStore, load_model

    if args.direction is None and not args.seeds and len(args.state) < 2:
        raise StudioError("give two or more --state files, --seeds, or --direction NAME (see 'studio animate --help')")
    if args.seeds and args.state and args.direction is None:
        raise StudioError("give keyframes either as --state files or as --seeds, not both")
    if args.seeds is not None and len(args.seeds) < 2 and args.direction is None:
        raise StudioError("--seeds needs at least two seeds")
    out = check_animation_target(args.out, args.overwrite)  # before any work
    for given in args.state:
        try:
            if given.resolve() == out.resolve():
                raise StudioError(f"{out}: the output would replace the input {given.name}; choose another -o")
        except OSError:
            pass
    states = [read_state_file(p) for p in args.state]
    store = ModelStore()
    named = args.model or (states[0].get("model") if states else None)
    if not named:
        raise StudioError("name the MODEL (the states name none)")
    if args.model is None:
        from studio.core.states import state_model_id

        named = state_model_id(states[0], args.state[0], store.ids())
    path = store.resolve(str(named))
    model_id = Path(path).stem
    model = load_model(path, device=args.device, registry=store.registry)
    keys, source = keyframes_from(args, model, model_id, states)
    job = AnimateJob(
        model,
        keys,
        out,
        frames=args.frames,
        duration_s=args.duration,
        easing=args.easing,
        loop=args.loop,
        bounce=args.bounce,
        size=args.size,
        overwrite=args.overwrite,
        source=source,
        model_id=model_id,
    )
    return exit_code(run_with_progress(job))
