"""The options every training job shares, and the CLI flags for them (so families agree on names).

A family adds its own flags next to these; :meth:`TrainerOptions.from_mapping` picks the shared ones
out of the parsed options (CLI or GUI form), so one dict configures both the Trainer and the family.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.core import argtypes
from studio.core.errors import StudioError

PRECISIONS = ("fp32", "bf16", "fp16", "auto")  # auto: studio.train.precision.resolve_precision


@dataclass
class TrainerOptions:
    steps: int = 2000
    batch: int = 64
    checkpoint_every: int = 500
    preview_every: int = 100
    time_limit: float = 0.0  # minutes, 0 = none
    device: str = "auto"
    precision: str = "fp32"
    threads: int = 0
    seed: int = 0
    resume: bool = False
    run_dir: str | None = None
    ema: float = 0.0  # decay of the generator's exponential moving average, 0 = off
    kid_every: int = 0
    kid_samples: int = 256
    kid_features: str = "mobilenet_v2"
    command: str = ""
    force: bool = False  # replace an existing exported model of the same name

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any], **defaults: Any) -> TrainerOptions:
        """The shared options out of a larger mapping; ``save_every`` is the old name of checkpoint_every."""
        values = dict(defaults)
        known = {f.name for f in dataclasses.fields(cls)}
        if options.get("save_every") is not None and options.get("checkpoint_every") is None:
            values["checkpoint_every"] = options["save_every"]
        values.update({k: v for k, v in options.items() if k in known and v is not None})
        if values.get("run_dir") is not None:  # saved in the run state's JSON: a path as text
            values["run_dir"] = str(values["run_dir"])
        out = cls(**values)
        out.validate()
        return out

    def validate(self) -> None:
        def bad(flag: str, why: str) -> StudioError:
            return StudioError(f"{flag} {why}")

        for name in ("steps", "batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise bad(f"--{name}", f"must be a whole number ≥ 1 (got {value!r})")
        for name in ("checkpoint_every", "preview_every", "kid_every", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise bad("--" + name.replace("_", "-"), f"must be a whole number ≥ 0 (got {value!r})")
        if not isinstance(self.time_limit, (int, float)) or not math.isfinite(self.time_limit) or self.time_limit < 0:
            raise bad("--time-limit", f"must be minutes ≥ 0 (got {self.time_limit!r})")
        if self.precision not in PRECISIONS:
            raise bad("--precision", f"must be one of {', '.join(PRECISIONS)} (got {self.precision!r})")
        if not (isinstance(self.ema, (int, float)) and math.isfinite(self.ema) and 0.0 <= self.ema < 1.0):
            raise bad("--ema", f"must be a decay in [0, 1), e.g. 0.999 (got {self.ema!r}); 0 turns it off")


def add_trainer_arguments(
    parser: Any,
    *,
    steps: int | None = 2000,
    batch: int = 64,
    checkpoint_every: int = 500,
    preview_every: int = 100,
    kid_every: int = 0,
    seed: int = 0,
) -> None:
    """The shared training flags, with per-family defaults. ``steps=None``: the family counts its steps
    per phase with flags of its own, so ``--steps`` is listed as not used (the family refuses it)."""
    p = parser
    if steps is None:
        p.add_argument(
            "--steps",
            type=argtypes.positive_int,
            default=None,
            help="not used by this family: give its per-phase step counts instead",
        )
    else:
        p.add_argument(
            "--steps",
            type=argtypes.positive_int,
            default=steps,
            help=f"training steps in all (default {steps}); a resumed run continues up to this count",
        )
    p.add_argument(
        "--batch",
        type=argtypes.positive_int,
        default=batch,
        help=f"images per step, over all processes (default {batch})",
    )
    p.add_argument(
        "--checkpoint-every",
        "--save-every",
        dest="checkpoint_every",
        type=argtypes.nonneg_int,
        default=checkpoint_every,
        help=f"save the run state every N steps (default {checkpoint_every}; "
        "it is also saved on Cancel, at a time limit and at the end)",
    )
    p.add_argument(
        "--preview-every",
        dest="preview_every",
        type=argtypes.nonneg_int,
        default=preview_every,
        help=f"live preview every N steps (default {preview_every})",
    )
    p.add_argument(
        "--time-limit",
        dest="time_limit",
        type=argtypes.nonneg_float,
        default=0.0,
        metavar="MINUTES",
        help="stop after this many minutes, save and export (continue with --resume)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32, bf16 (autocast; fast on recent CPUs and GPUs), fp16 (GPU, with loss scaling) or auto "
        "(bf16 on CPUs with native bf16, else fp32); the default is fp32 (auto for finetune)",
    )
    p.add_argument("--threads", type=argtypes.nonneg_int, default=0, help="CPU threads for torch (0: torch's default)")
    p.add_argument("--seed", type=argtypes.nonneg_int, default=seed)
    p.add_argument("--resume", action="store_true", help="continue the run saved in --run-dir")
    p.add_argument("--run-dir", dest="run_dir", default=None, help="folder for the resumable run state")
    p.add_argument(
        "--ema",
        type=argtypes.float_range(0.0, 1.0, hi_open=True),
        default=0.0,
        metavar="DECAY",
        help="keep an exponential moving average of the generator (e.g. 0.999) and export it; "
        "0 = off (the papers' recipes)",
    )
    p.add_argument(
        "--nproc",
        type=argtypes.positive_int,
        default=1,
        help="train with N processes (PyTorch DDP through torchrun: one per GPU, or N CPU processes)",
    )
    p.add_argument(
        "--overwrite",
        "--force",
        dest="force",
        action="store_true",
        help="start the run in --run-dir over and replace an existing model of the same --out name",
    )
    from studio.metrics.training_kid import add_kid_arguments

    add_kid_arguments(p)
    p.set_defaults(kid_every=kid_every)
