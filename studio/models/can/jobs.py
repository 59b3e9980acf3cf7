"""CAN's model jobs beyond training (Qt-free): steer a sample towards / away from a style, and sample
many and keep the most ambiguous (or most typical) ones.

The window's CAN tools dock runs these classes with a loaded model and reads the states they return;
``studio run can steer|sort MODEL ...`` runs the same classes with a model id and writes a file::

    studio run can sort can-emoji-styles --count 16 --pool 256 -o ambiguous.png    # PNG grid (+ state)
    studio run can sort can-emoji-styles --by typicality -o typical.json           # seeds, scores, states
    studio run can steer can-emoji-styles --style google --seed 3 -o steered.png   # before | after
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from studio.core import argtypes
from studio.core.errors import StudioError
from studio.models.job_common import (
    add_model_argument,
    add_output_arguments,
    check_output,
    model_id_of,
    render_batched,
    resolve_model,
    write_json,
)

JOBS = {
    "sort": "sample many seeds and keep the most ambiguous (or most typical) ones: a PNG grid or JSON",
    "steer": "move a sample towards or away from a style through the style head: before | after PNG, or JSON",
}
SUFFIXES = (".png", ".json")


def _require_can(model: Any, what: str) -> None:
    if not (hasattr(model, "style_posterior") and hasattr(model, "steer") and hasattr(model, "sample_sorted")):
        family = getattr(getattr(model, "card", None), "family", "?")
        raise StudioError(f"{what} needs a CAN model (a style head); '{model.card.name}' is a {family} model")


def style_index(model: Any, style: int | str) -> int:
    """A style given by index or name (case-insensitive) -> its index, or a clear error."""
    names = list(model.styles)
    if isinstance(style, int) or (isinstance(style, str) and style.strip().isdigit()):
        k = int(style)
        if 0 <= k < len(names):
            return k
    else:
        low = [n.lower() for n in names]
        if str(style).lower() in low:
            return low.index(str(style).lower())
    raise StudioError(f"unknown style {style!r} (this model has: {', '.join(names)})")


class SampleSortedJob:
    """Draw ``pool`` samples and keep the ``count`` most ambiguous (``by='ambiguity'``) or most typical
    ones. Without ``out`` the outputs are ``{"states", "ambiguity"}`` (the GUI's grid); with ``out`` a
    PNG grid (best first, the states in its metadata) or a JSON file is written."""

    def __init__(
        self,
        model: Any,
        model_id: str | None = None,
        count: int = 16,
        by: str = "ambiguity",
        pool: int = 0,
        seed: int = 0,
        truncation: float = 1.0,
        out: str | Path | None = None,
        force: bool = False,
        device: str = "auto",
        cols: int = 0,
        command: str = "",
    ):
        if by not in ("ambiguity", "typicality"):
            raise StudioError(f"sort by 'ambiguity' or 'typicality', not {by!r}")
        if int(count) < 1:
            raise StudioError("--count must be at least 1")
        self.model, self.model_id = model, model_id
        self.count, self.by, self.seed, self.truncation = int(count), by, int(seed), float(truncation)
        self.pool = max(self.count, int(pool) if pool else 4 * self.count)
        self.out, self.force, self.device, self.cols, self.command = out, force, device, int(cols or 0), command
        self.title = f"CAN: {self.count} most {'ambiguous' if by == 'ambiguity' else 'typical'} of {self.pool} samples"

    def run(self, reporter) -> dict[str, Any]:
        out = check_output(self.out, self.force, SUFFIXES) if self.out else None
        model = resolve_model(self.model, self.device, reporter)
        _require_can(model, "sorting samples by ambiguity")
        mid = model_id_of(self.model, self.model_id)
        reporter.message(f"scoring {self.pool} samples…")
        states = model.sample_sorted(
            self.count, by=self.by, pool=self.pool, seed=self.seed, model_id=mid, truncation=self.truncation
        )
        scores = [float(v) for v in model.ambiguities(states)]
        reporter.report(1, 2 if out else 1, message="sorted")
        if out is None:
            return {"states": states, "ambiguity": scores}
        check_output(out, self.force, SUFFIXES)  # again: the file may have appeared meanwhile
        if out.suffix.lower() == ".json":
            posteriors = model.style_posteriors(states)
            write_json(
                out,
                {
                    "model": mid,
                    "by": self.by,
                    "pool": self.pool,
                    "seed": self.seed,
                    "truncation": self.truncation,
                    "styles": list(model.styles),
                    "max_ambiguity": round(float(model.max_ambiguity), 6),
                    "samples": [
                        {
                            "seed": int(s["seed"]),
                            "ambiguity": round(a, 6),
                            "style_posterior": [round(float(p), 6) for p in post],
                            "state": s,
                        }
                        for s, a, post in zip(states, scores, posteriors)
                    ],
                },
            )
        else:
            from studio.core.export import save_result  # a failed write keeps the image in $STUDIO_HOME/recovered
            from studio.core.grid import tile, to_uint8

            cells = to_uint8(render_batched(model, states, reporter=reporter))
            cols = self.cols or max(1, int(math.ceil(math.sqrt(len(states)))))
            rows = int(math.ceil(len(states) / cols))
            state = dict(states[0])
            state["grid"] = {
                "seeds": [int(s["seed"]) for s in states],
                "cols": cols,
                "sorted_by": self.by,
                "ambiguity": [round(a, 4) for a in scores],
            }
            save_result(out, tile(cells, rows, cols), state)
        reporter.report(2, 2, message=f"wrote {out}")
        return {
            "out": str(out),
            "samples": len(states),
            "ambiguity": f"{scores[0]:.3f} .. {scores[-1]:.3f} nats (max {model.max_ambiguity:.3f})",
        }


class SteerJob:
    """Gradient steps on z through the style head. Without ``out`` the output is ``{"state"}`` (the
    steered canvas state, for the GUI's undoable edit); with ``out`` a PNG (before | after, the steered
    state in its metadata, so dropping it on the window restores it) or a JSON file is written.

    ``state`` may be None: then the model's default state for ``seed`` (at ``truncation``) is steered.
    ``style`` is an index or a style name.
    """

    def __init__(
        self,
        model: Any,
        state: dict | None = None,
        style: int | str = 0,
        amount: float = 1.0,
        towards: bool = True,
        steps: int = 8,
        out: str | Path | None = None,
        force: bool = False,
        device: str = "auto",
        model_id: str | None = None,
        seed: int = 0,
        truncation: float = 1.0,
        command: str = "",
    ):
        self.model, self.state, self.style = model, state, style
        self.amount, self.towards, self.steps = float(amount), bool(towards), int(steps)
        self.out, self.force, self.device, self.model_id = out, force, device, model_id
        self.seed, self.truncation, self.command = int(seed), float(truncation), command
        name = style
        styles = getattr(model, "styles", None)
        if styles is not None:
            name = styles[style_index(model, style)]
        self.title = f"CAN: steer {'towards' if towards else 'away from'} {name}"

    def run(self, reporter) -> dict[str, Any]:
        out = check_output(self.out, self.force, SUFFIXES) if self.out else None
        model = resolve_model(self.model, self.device, reporter)
        _require_can(model, "style steering")
        k = style_index(model, self.style)
        if self.state is not None:
            state = self.state
        else:
            state = model.default_state(model_id_of(self.model, self.model_id), self.seed)
            state["truncation"] = self.truncation
        new = model.steer(state, k, self.amount, self.towards, steps=self.steps)
        reporter.report(1, 2 if out else 1, message="steered")
        if out is None:
            return {"state": new}
        before, after = float(model.style_posterior(state)[k]), float(model.style_posterior(new)[k])
        info = {
            "style": model.styles[k],
            "towards": self.towards,
            "amount": self.amount,
            "steps": self.steps,
            "posterior_before": round(before, 6),
            "posterior_after": round(after, 6),
        }
        check_output(out, self.force, SUFFIXES)
        if out.suffix.lower() == ".json":
            write_json(
                out,
                {
                    "model": model_id_of(self.model, self.model_id),
                    **info,
                    "styles": list(model.styles),
                    "start_state": state,
                    "state": new,
                },
            )
        else:
            from studio.core.export import save_result  # a failed write keeps the image in $STUDIO_HOME/recovered
            from studio.core.grid import tile, to_uint8

            cells = to_uint8(model.render([state, new]))
            save_result(out, tile(cells, 1, 2), dict(new, steer=info))
        reporter.report(2, 2, message=f"wrote {out}")
        return {"out": str(out), "style": model.styles[k], f"p({model.styles[k]})": f"{before:.3f} -> {after:.3f}"}


def add_job_arguments(name: str, parser: Any) -> None:
    add_model_argument(parser, "CAN model")
    if name == "sort":
        parser.add_argument("--count", type=argtypes.positive_int, default=16, help="samples to keep (default 16)")
        parser.add_argument(
            "--pool", type=argtypes.nonneg_int, default=0, help="samples to draw and score (default 4 × count)"
        )
        parser.add_argument(
            "--by",
            choices=["ambiguity", "typicality"],
            default="ambiguity",
            help="keep the most ambiguous (default) or the most typical samples",
        )
        parser.add_argument("--seed", type=argtypes.seed, default=0, help="seed of the random pool")
        parser.add_argument("--truncation", type=argtypes.float_range(0.0, 3.0), default=1.0)
        parser.add_argument("--cols", type=argtypes.nonneg_int, default=0, help="grid columns (default: square)")
        add_output_arguments(parser, SUFFIXES, "MODEL-sorted.png")
    elif name == "steer":
        parser.add_argument("--style", required=True, help="style name or index (see 'studio models inspect')")
        parser.add_argument("--away", action="store_true", help="steer away from the style (default: towards)")
        parser.add_argument(
            "--amount", type=argtypes.finite_float, default=1.0, help="how far to move the code (default 1)"
        )
        parser.add_argument("--steps", type=argtypes.positive_int, default=8, help="gradient steps (default 8)")
        parser.add_argument("--seed", type=argtypes.seed, default=0, help="the sample to start from")
        parser.add_argument("--truncation", type=argtypes.float_range(0.0, 3.0), default=1.0)
        parser.add_argument(
            "--state", default=None, help="start from the state in an exported PNG (or a .json state) instead of --seed"
        )
        add_output_arguments(parser, SUFFIXES, "MODEL-steer-STYLE.png")
    else:
        raise KeyError(f"family 'can' has no job '{name}'")


def _start_state(path: str) -> dict:
    """The state of an exported image or a JSON state file, read and checked by studio.core.states."""
    from studio.core.states import read_state_file

    return read_state_file(path)


def make_job(name: str, options: dict[str, Any]):
    """The job ``name`` from parsed CLI options (``studio run can NAME ...``)."""
    o = {k.replace("-", "_"): v for k, v in options.items()}
    model = o.get("model")
    if not model:
        raise StudioError(f"'{name}' needs a model id or card path")
    stem = model_id_of(model)
    if name == "sort":
        return SampleSortedJob(
            model,
            count=o.get("count", 16),
            by=o.get("by", "ambiguity"),
            pool=o.get("pool", 0),
            seed=o.get("seed", 0),
            truncation=o.get("truncation", 1.0),
            out=o.get("out") or f"{stem}-sorted.png",
            force=bool(o.get("force")),
            device=o.get("device", "auto"),
            cols=o.get("cols", 0),
            command=o.get("command", ""),
        )
    if name == "steer":
        state = _start_state(o["state"]) if o.get("state") else None
        style = o.get("style")
        if style is None or str(style).strip() == "":
            raise StudioError("steering needs --style NAME (or index)")
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(style))
        return SteerJob(
            model,
            state,
            str(style),
            amount=o.get("amount", 1.0),
            towards=not o.get("away"),
            steps=o.get("steps", 8),
            out=o.get("out") or f"{stem}-steer-{safe}.png",
            force=bool(o.get("force")),
            device=o.get("device", "auto"),
            seed=o.get("seed", 0),
            truncation=o.get("truncation", 1.0),
            command=o.get("command", ""),
        )
    raise KeyError(f"family 'can' has no job '{name}'")
