"""Training presets for the Train wizard: quick look / good / best, as changes to a job's options.

Why options and not a new API: every family already declares its step counts as CLI options
(``--steps``; GADN's ``--steps1 --steps-cls --steps2``); a preset scales those from the family's own
defaults, so a new family gets presets for free and the Advanced form shows exactly what a preset set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    steps_factor: float
    min_steps: int
    ema: float  # 0 = leave the family's default
    help: str


PRESETS: tuple[Preset, ...] = (
    Preset(
        "quick", "Quick look", 0.1, 100, 0.0, "a tenth of the family's usual training: blurry, but shows where it goes"
    ),
    Preset("good", "Good", 1.0, 1, 0.0, "the family's usual training (its defaults)"),
    Preset(
        "best", "Best", 4.0, 1, 0.999, "four times longer, with a moving average of the generator (smoother images)"
    ),
)


def step_options(defaults: Mapping[str, Any]) -> list[str]:
    """The options that count training steps: ``steps`` and ``steps*`` with a positive integer default."""
    return [
        k
        for k, v in defaults.items()
        if (k == "steps" or k.startswith("steps")) and isinstance(v, int) and not isinstance(v, bool) and v > 0
    ]


def preset_options(preset: Preset, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The option values ``preset`` sets, from the job's defaults (only options the job has)."""
    out: dict[str, Any] = {}
    for k in step_options(defaults):
        out[k] = max(preset.min_steps, round(int(defaults[k]) * preset.steps_factor))
    if preset.ema and "ema" in defaults:
        out["ema"] = preset.ema
    return out


def get(name: str) -> Preset:
    for p in PRESETS:
        if p.name == name:
            return p
    raise KeyError(name)
