"""``studio generate MODEL``: render a grid of samples to an image, headless (the studio's main job).

The format follows ``-o``'s suffix (PNG, JPEG, WebP), with the state of the first cell in the metadata;
an existing file is replaced only with ``--overwrite``. ``--state FILE`` renders with the model the state
names (unless MODEL is given).
"""

from __future__ import annotations

from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from studio.core import argtypes


def parse_seeds(text: str) -> list[int]:
    """'0-15' -> 0..15; '1,5,9' -> [1,5,9]; '3' -> [3]; '3-1' -> [3, 2, 1] (raises ValueError when bad)."""
    try:
        return argtypes.seeds(text)
    except ArgumentTypeError as exc:
        raise ValueError(f"--seeds {exc}") from None


def register(sub) -> None:
    from studio.cli.outputs import add_overwrite_argument

    p = sub.add_parser("generate", help="render a grid of samples from a model to an image (PNG, JPEG, WebP)")
    p.add_argument(
        "model", nargs="?", default=None, help="model id or card path (default: the --state's model, else the starter)"
    )
    p.add_argument(
        "--seeds",
        type=argtypes.seeds,
        default=None,
        help=f"seeds, e.g. 0-15 or 1,5,9, at most {argtypes.MAX_SEEDS} (default: the --state's seeds, else 0-15)",
    )
    p.add_argument("--cols", type=argtypes.nonneg_int, default=0, help="grid columns (default 0: square-ish)")
    p.add_argument(
        "--cell",
        type=argtypes.cell_size,
        default=0,
        help=f"cell size in px, up to {argtypes.MAX_CELL} (default 0: the model's size)",
    )
    p.add_argument(
        "--truncation",
        type=argtypes.float_range(0.0, 3.0),
        default=None,
        help="pull codes towards the average image, 0–3 (default: the state's, else 1 = off)",
    )
    p.add_argument(
        "--label",
        action="append",
        type=argtypes.name_value,
        metavar="NAME=VALUE",
        help="pick a label, e.g. artist=google",
    )
    p.add_argument(
        "--scalar", action="append", type=argtypes.name_number, metavar="NAME=NUMBER", help="set a scalar control"
    )
    p.add_argument("--state", type=Path, help="start from the state stored in an exported image or a JSON file")
    p.add_argument(
        "-o",
        "--out",
        type=argtypes.image_out,
        default=None,
        help="output image; .png (with the state), .jpg or .webp (default samples.png, or a free name next to it)",
    )
    add_overwrite_argument(p)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def default_model_id(store) -> str:
    from studio.core.errors import StudioError

    mid = store.default_id()
    if mid is None:
        raise StudioError("no models installed: train one with 'studio train' or restore resources/models")
    return mid


def read_state_file(path: Path) -> dict[str, Any]:
    """The state in an exported image or a JSON state file (untrusted input, read and checked by
    :mod:`studio.core.states`: every failure is a StudioError naming the file)."""
    from studio.core.states import read_state_file as read_checked

    return read_checked(path)


def state_seeds(state: dict[str, Any]) -> tuple[list[int], int]:
    """(seeds, columns) a state shows: the grid an exported grid records, else the state's own seed
    (columns 0: square-ish). Values that are not sane seeds are ignored (a state is untrusted)."""
    grid = state.get("grid")
    if isinstance(grid, dict) and isinstance(grid.get("seeds"), list):
        listed = grid["seeds"]
        if 0 < len(listed) <= argtypes.MAX_SEEDS and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= argtypes.MAX_SEED for v in listed
        ):
            cols = grid.get("cols")
            if isinstance(cols, int) and not isinstance(cols, bool) and 0 < cols <= len(listed):
                return list(listed), cols
            return list(listed), 0
    seed = state.get("seed", 0)
    if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= argtypes.MAX_SEED:
        return [seed], 0
    return [0], 0


def _model_for_state(store, state_path: Path, state: dict[str, Any]) -> str:
    """The id of the installed model a state names (states name models by id only)."""
    from studio.core.errors import StudioError
    from studio.core.paths import is_model_name
    from studio.core.states import state_model_id

    named = state.get("model")
    if not isinstance(named, str) or not named.strip():
        raise StudioError(f"{state_path.name}: the state names no model; give MODEL to render it with one")
    if named not in store.ids():
        if not is_model_name(named):  # a path: states name models by id only
            state_model_id(state, state_path, store.ids())  # raises, saying why and what to do instead
        raise StudioError(
            f"{state_path.name}: the state was made with the model '{named}', which is not installed "
            f"(installed: {', '.join(store.ids()) or 'none'}); give MODEL to render it with another model"
        )
    return named


def check_labels(model, model_id: str, labels: list[tuple[str, str]]) -> dict[str, str]:
    """``--label NAME=VALUE`` pairs checked against the model's choices (unknown names and values refused)."""
    from studio.core.errors import StudioError

    choices = {c.name: c.options for c in model.controls() if c.kind == "choice"}
    out = {}
    for name, value in labels:
        if name not in choices:
            known = ", ".join(choices) or "none"
            raise StudioError(f"--label {name}={value}: '{model_id}' has no label '{name}' (its labels: {known})")
        if value not in choices[name]:
            raise StudioError(
                f"--label {name}={value}: unknown {name} '{value}' for '{model_id}' "
                f"(valid: {', '.join(map(str, choices[name]))})"
            )
        out[name] = value
    return out


def check_scalars(model, model_id: str, scalars: list[tuple[str, float]]) -> dict[str, float]:
    """``--scalar NAME=NUMBER`` pairs checked against the model's scalar controls."""
    from studio.core.errors import StudioError

    known = {c.name for c in model.controls() if c.kind == "scalar" and c.name != "truncation"}
    out = {}
    for name, value in scalars:
        if name == "truncation":
            raise StudioError("--scalar truncation=...: use --truncation")
        if name not in known:
            raise StudioError(
                f"--scalar {name}={value:g}: '{model_id}' has no scalar '{name}' (its scalars: "
                f"{', '.join(sorted(known)) or 'none'})"
            )
        out[name] = float(value)
    return out


def run(args) -> int:
    import math
    import sys

    import numpy as np

    from studio.cli.outputs import grid_pixels, image_target
    from studio.core.errors import StudioError
    from studio.core.export import save_result
    from studio.core.family import normalise_state
    from studio.core.grid import resize_cells, tile, to_uint8
    from studio.core.store import ModelStore, load_model

    out = image_target(args.out, "samples.png", args.overwrite)  # before any work
    store = ModelStore()
    given_state: dict[str, Any] | None = None
    if args.state is not None:
        given_state = read_state_file(args.state)
    if args.model:
        model_id = args.model
        path = store.resolve(model_id)
        if model_id not in store.ids():  # a card path: its id is its file name
            model_id = Path(path).stem
        if given_state is not None and given_state.get("model") not in (None, "", model_id):
            print(
                f"note: {args.state.name} was made with '{given_state.get('model')}'; rendering it with '{model_id}'",
                file=sys.stderr,
            )
    elif given_state is not None:
        model_id = _model_for_state(store, args.state, given_state)
        path = store.resolve(model_id)
    else:
        model_id = default_model_id(store)
        path = store.resolve(model_id)
    model = load_model(path, device=args.device, registry=store.registry)

    seeds, cols = args.seeds, args.cols
    if seeds is None:  # --state alone renders what the state shows: its grid, else its one seed
        seeds, state_cols = state_seeds(given_state) if given_state is not None else (argtypes.seeds("0-15"), 0)
        cols = cols or state_cols
    cols = cols or math.ceil(math.sqrt(len(seeds)))
    rows = math.ceil(len(seeds) / cols)
    grid_pixels(rows, cols, args.cell or model.image_size)  # refuse a grid too big for memory before rendering
    labels = check_labels(model, model_id, args.label or [])
    scalars = check_scalars(model, model_id, args.scalar or [])

    base = given_state if given_state is not None else model.default_state(model_id)
    try:
        base = normalise_state(base)
    except (TypeError, ValueError, OverflowError) as exc:
        raise StudioError(f"{args.state.name if args.state else 'state'}: the state is damaged ({exc})") from exc
    base["model"] = model_id  # the model actually used, so the image's state reopens with it
    if args.truncation is not None:
        base["truncation"] = args.truncation
    base["labels"].update(labels)
    base["scalars"].update(scalars)
    states = []
    for s in seeds:
        st = normalise_state(base)
        st["seed"] = s
        states.append(st)
    images = []
    for i in range(0, len(states), 64):
        images.append(to_uint8(model.render(states[i : i + 64])))

    pixels = np.concatenate(images)
    if args.cell:
        pixels = resize_cells(pixels, args.cell)
    grid = tile(pixels, rows, cols)
    meta = dict(states[0])
    meta["grid"] = {"seeds": seeds, "rows": rows, "cols": cols}
    written = save_result(out, grid, meta)
    print(f"wrote {written} ({rows}×{cols} grid of {len(seeds)} samples from '{model_id}')")
    return 0
