"""What a family's training step sees of the Trainer: device, RNG, precision, phase, step, DDP rank."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import torch

from studio.core.checkpoint import TrainingInfo

from .distributed import Distributed
from .ema import EMA
from .options import TrainerOptions
from .precision import Precision


@dataclass
class RunSummary:
    """Handed to ``export``: where the run stands."""

    step: int
    total: int
    finished: bool
    wall_time_s: float
    losses: dict[str, float]
    history: dict[str, list[list[float]]]
    commands: list[str]
    status: str = "finished"  # finished | cancelled | time_limit


@dataclass
class TrainContext:
    options: TrainerOptions
    device: torch.device
    precision: Precision
    dist: Distributed
    rng: torch.Generator
    message: Callable[[str], None] = print
    phase: str = ""
    phase_step: int = 0  # steps done in this phase (0 before its first step)
    step: int = 0  # steps done in all phases
    emas: dict[str, EMA] = field(default_factory=dict)
    _networks: dict[str, torch.nn.Module] = field(default_factory=dict)

    @classmethod
    def single_process(cls, options: TrainerOptions, device: str = "cpu", seed: int = 0) -> TrainContext:
        """A context outside the Trainer (one process, fp32, silent): to drive a task's step directly."""
        dev = torch.device(device)
        return cls(
            options,
            dev,
            Precision("fp32", dev),
            Distributed(),
            torch.Generator().manual_seed(seed),
            message=lambda text: None,
        )

    # -- the step's tools
    def autocast(self) -> AbstractContextManager[Any]:
        return self.precision.autocast()

    def backward(self, loss: torch.Tensor) -> None:
        self.precision.backward(loss)

    def step_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Average gradients over DDP ranks, then step (through the fp16 loss scaler if any)."""
        if self.dist.enabled:
            self.dist.average_gradients(p for g in optimizer.param_groups for p in g["params"])
        self.precision.step(optimizer)

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        """Copy a CPU batch to the device (pinned + non-blocking on CUDA); channels_last when it pays."""
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        else:
            x = x.to(self.device)
        if self.precision.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def local_batch(self, batch: int) -> int:
        """This rank's share of a global batch."""
        return max(1, batch // self.dist.world_size)

    def shard(self, n: int) -> torch.Tensor:
        """The indices of an n-item data set this rank samples from (every world_size-th item)."""
        idx = torch.arange(n)
        return idx[self.dist.rank :: self.dist.world_size] if self.dist.enabled and n >= self.dist.world_size else idx

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    # -- export helpers
    def export_module(self, name: str) -> torch.nn.Module:
        """The network to export: its EMA copy when ``--ema`` is on, else the trained network."""
        ema = self.emas.get(name)
        return ema.shadow if ema is not None else self._networks[name]

    def training_record(self, summary: RunSummary) -> dict[str, Any]:
        """The card's ``extra["training_run"]``: how this model was trained, beyond TrainingInfo."""
        o = self.options
        return {
            "engine": "studio.train.Trainer",
            "world_size": self.dist.world_size,
            "device": str(self.device),
            "precision": o.precision,
            "batch": o.batch,
            "ema": ({"decay": o.ema, "exported": "EMA copy of " + ", ".join(sorted(self.emas))} if self.emas else None),
            "status": summary.status,
            "commands": list(summary.commands),
        }

    def training_info(self, summary: RunSummary, data: str, licence: str, notes: str = "") -> TrainingInfo:
        o = self.options
        device = (
            f"{self.device.type} ({o.precision}"
            + (f", {self.dist.world_size} processes" if self.dist.enabled else "")
            + ")"
        )
        ema = f"; exported generator is the EMA (decay {o.ema:g})" if self.emas else ""
        return TrainingInfo(
            data=data,
            licence=licence,
            command=summary.commands[0] if summary.commands else o.command,
            steps=int(summary.step),
            wall_time_s=round(summary.wall_time_s, 1),
            device=device,
            notes=(notes + ema).strip("; "),
        )
