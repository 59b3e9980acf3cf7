"""A tiny GAN on 4-d points as a TrainingTask: fast enough to test every guarantee of the Trainer."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
from studio.train import Phase, RunSummary, TrainContext, Trainer, TrainerOptions, TrainingTask


class ToyTask(TrainingTask):
    family = "toy"
    title = "Train toy"

    def __init__(
        self,
        folder: Path,
        trainer: TrainerOptions,
        sleep_s: float = 0.0,
        nan_at: int = 0,
        phases: tuple[int, ...] = (),
        lr: float = 0.05,
    ):
        self.folder, self.trainer = Path(folder), trainer
        self.sleep_s, self.nan_at, self.phase_steps, self.lr = sleep_s, nan_at, phases, lr
        self.calls = 0

    def phases(self) -> list[Phase]:
        if self.phase_steps:
            return [Phase(f"p{i}", n, f"phase {i}") for i, n in enumerate(self.phase_steps)]
        return [Phase("train", self.trainer.steps)]

    def run_path(self) -> Path:
        return self.folder / "run"

    def out_path(self) -> Path:
        return self.folder / "models" / "toy"

    def config(self) -> dict[str, Any]:
        return {"hidden": 8}

    def setup(self, ctx: TrainContext, saved: Mapping[str, Any] | None) -> None:
        self.G = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
        self.D = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        gen = torch.Generator().manual_seed(5)
        self.data = torch.randn(64, 4, generator=gen) * 0.5 + 1.0
        self.local = self.data[ctx.shard(64)]
        self.counter = 0

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"G": self.G, "D": self.D}

    def ema_networks(self) -> tuple[str, ...]:
        return ("G",)

    def optimizers(self, phase: str) -> dict[str, torch.optim.Optimizer]:
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=(0.5, 0.9))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=(0.5, 0.9))
        return {"G": self.opt_g, "D": self.opt_d}

    def state(self) -> dict[str, Any]:
        return {"counter": self.counter}

    def load_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self.counter = int(state.get("counter", 0))

    def train_step(self, ctx: TrainContext) -> dict[str, float]:
        self.calls += 1
        if self.sleep_s:
            time.sleep(self.sleep_s)
        n = ctx.local_batch(self.trainer.batch)
        idx = torch.randint(0, self.local.shape[0], (n,), generator=ctx.rng)
        real = ctx.to_device(self.local[idx])
        z = torch.randn(n, 2, generator=ctx.rng).to(ctx.device)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        with ctx.autocast():
            fake = self.G(z)
            d_real, d_fake = self.D(real).float(), self.D(fake.detach()).float()
        d_loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
        self.opt_d.zero_grad(set_to_none=True)
        ctx.backward(d_loss)
        ctx.step_optimizer(self.opt_d)
        with ctx.autocast():
            g_out = self.D(fake).float()
        g_loss = bce(g_out, torch.ones_like(g_out))
        self.opt_g.zero_grad(set_to_none=True)
        ctx.backward(g_loss)
        ctx.step_optimizer(self.opt_g)
        self.counter += 1
        g_value = float("nan") if self.nan_at and ctx.step + 1 == self.nan_at else float(g_loss.detach())
        return {"d": float(d_loss.detach()), "g": g_value}

    def preview(self, ctx: TrainContext) -> np.ndarray:
        return np.zeros((4, 4, 3), np.uint8)

    def export(self, ctx: TrainContext, summary: RunSummary) -> Path:
        card = ModelCard(
            name="toy",
            family="toy",
            config=self.config(),
            image_size=1,
            training=ctx.training_info(summary, "random points", "none"),
            extra={
                "training_run": ctx.training_record(summary),
                "loss_history": summary.history,
                "counter": self.counter,
            },
        )
        return save_checkpoint(self.out_path(), module_tensors("G", ctx.export_module("G")), card)


def toy_job(folder: Path, **options: Any) -> Trainer:
    extra = {k: options.pop(k) for k in ("sleep_s", "nan_at", "phases", "lr") if k in options}
    trainer = TrainerOptions.from_mapping(
        dict({"steps": 10, "batch": 8, "checkpoint_every": 0, "preview_every": 5, "device": "cpu"}, **options)
    )
    return Trainer(ToyTask(folder, trainer, **extra), trainer)
