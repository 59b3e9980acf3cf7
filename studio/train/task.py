"""What a family brings to training: its networks, one step, previews, KID sources and its export.

The :class:`~studio.train.trainer.Trainer` owns everything else (run folder, resume, phases, loop,
history, KID cadence, checkpoints, time limit, Cancel, NaN stop, precision, EMA, devices, DDP).
A family subclasses :class:`TrainingTask`; see ``docs/adding-a-family.md`` for a complete example.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from .context import RunSummary, TrainContext


@dataclass(frozen=True)
class Phase:
    """A stage of training with its own optimizers (GADN has three; most families one)."""

    name: str
    steps: int
    title: str = ""


@dataclass
class KIDSource:
    """An in-training KID: ``reference(n)`` real images and ``samples(n)`` model images, [n,3,H,W]."""

    reference: Callable[[int], torch.Tensor]
    samples: Callable[[int], torch.Tensor]
    label: str = ""
    value_range: tuple[float, float] = (-1.0, 1.0)
    max_images: int = 0  # 0 = no cap (e.g. a small validation folder caps it)
    phases: tuple[str, ...] = field(default_factory=tuple)  # empty = every phase


class TrainingTask(ABC):
    """One family's training. Build networks in :meth:`setup`; the Trainer moves them to the device,
    restores saved state, and calls :meth:`optimizers` at the start of every phase."""

    family: str = ""
    title: str = "Train"

    def phases(self) -> list[Phase]:
        """The phases in order; the default is one phase of ``options.steps`` steps."""
        return [Phase("train", self.steps_total())]

    def steps_total(self) -> int:
        raise NotImplementedError("override phases() or steps_total()")

    @abstractmethod
    def run_path(self) -> Path:
        """The run folder."""

    @abstractmethod
    def out_path(self) -> Path:
        """The exported model's stem (``NAME`` for ``NAME.safetensors`` + ``NAME.json``)."""

    @abstractmethod
    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        """Load data and build the networks (on the CPU). ``saved`` is the run's saved metadata when
        resuming (``saved["config"]`` is what :meth:`config` returned), so the architecture can be
        rebuilt as it was; raise a StudioError when the options contradict it."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The architecture config (JSON), saved with the run."""

    @abstractmethod
    def networks(self) -> dict[str, torch.nn.Module]:
        """Every module whose weights belong to the run state, by name."""

    @abstractmethod
    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        """Fresh optimizers for ``phase`` (the Trainer restores their saved state when resuming)."""

    @abstractmethod
    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        """One step of ``ctx.phase``; return the losses as floats. Use ``ctx.rng`` for all randomness,
        ``ctx.autocast()``, ``ctx.backward(loss)`` and ``ctx.step(optimizer)``."""

    @abstractmethod
    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        """Save the renderable model and its card (use ``ctx.export_module(name)`` for EMA);
        return the card path."""

    # -- optional hooks ----------------------------------------------------------------------------
    def ema_networks(self) -> tuple[str, ...]:
        """Networks that get an exponential moving average when ``--ema`` is on (the generator)."""
        return ()

    def start_phase(self, ctx: TrainContext) -> None:  # noqa: B027 (optional hook)
        """Called when ``ctx.phase`` starts or resumes (e.g. freeze an encoder)."""

    def preview(self, ctx: TrainContext) -> np.ndarray | None:
        """An HxWx3 uint8 image of the model as it is now, or None."""
        return None

    def kid_sources(self, ctx: TrainContext) -> list[KIDSource]:
        return []

    def step_metrics(self, ctx: TrainContext) -> dict[str, float]:
        """Extra numbers shown with each progress report (not recorded in the history)."""
        return {}

    def state(self) -> dict[str, Any]:
        """Extra JSON state that resume needs (counters...)."""
        return {}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Extra tensors that resume needs (an image pool...)."""
        return {}

    def load_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:  # noqa: B027
        """Restore :meth:`state` / :meth:`state_tensors` (tensors without their ``task.`` prefix)."""
