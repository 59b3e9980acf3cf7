"""Time a few real training steps on this machine, for the Train wizard's "about how long" line.

Why measure instead of guessing: a step of the same model costs 50 ms on a GPU and 5 s on a busy
laptop CPU; only a measurement on the user's own machine, with their options, gives an estimate worth
showing. The measurement drives the family's own :class:`~studio.train.TrainingTask` on a small copy
of the user's data (:func:`sample_copy`), one warm-up step and a couple of timed steps per phase, and
writes nothing but that temporary copy. It leaves out the Trainer's checkpoints, previews and export
(a few percent of a run), so the estimate is a lower bound, said as "about".
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from studio.core.errors import JobCancelled

from .context import TrainContext

SAMPLE_PER_FOLDER = 16
MAX_SAMPLE_FILE = 64 * 1024 * 1024


def sample_copy(files: list[Path], root: Path, dest: Path, per_folder: int = SAMPLE_PER_FOLDER) -> int:
    """Copy at most ``per_folder`` of ``files`` (usable images under ``root``) per folder into ``dest``,
    keeping the subfolder layout (a CAN's styles stay styles). Returns the number copied."""
    taken: dict[Path, int] = {}
    n = 0
    for f in files:
        rel = f.relative_to(root)
        if taken.get(rel.parent, 0) >= per_folder:
            continue
        try:
            if f.stat().st_size > MAX_SAMPLE_FILE:
                continue
            (dest / rel.parent).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest / rel)
        except OSError:
            continue
        taken[rel.parent] = taken.get(rel.parent, 0) + 1
        n += 1
    return n


def measure_step_times(
    job: Any,
    device: str = "cpu",
    steps: int = 2,
    warmup: int = 1,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, float]:
    """Seconds per step of each phase of a Trainer job (``job.task``, ``job.options``), measured by
    running ``warmup + steps`` real steps of each phase. Raises JobCancelled when ``cancelled()``."""
    task, options = job.task, job.options
    torch.manual_seed(0)
    ctx = TrainContext.single_process(options, device)
    task.setup(ctx, None)
    nets = task.networks()
    ctx._networks = dict(nets)
    for net in nets.values():
        net.to(ctx.device)
        ctx.precision.prepare(net)
    times: dict[str, float] = {}
    for phase in task.phases():
        if phase.steps <= 0:
            continue
        ctx.phase, ctx.phase_step = phase.name, 0
        task.optimizers(phase.name)
        task.start_phase(ctx)
        t0 = time.perf_counter()
        for i in range(warmup + steps):
            if cancelled is not None and cancelled():
                raise JobCancelled("the step timing was stopped")
            if i == warmup:
                t0 = time.perf_counter()
            task.train_step(ctx)
            ctx.step += 1
            ctx.phase_step += 1
        times[phase.name] = (time.perf_counter() - t0) / steps
    return times


def estimate_seconds(phase_steps: Mapping[str, int], step_times: Mapping[str, float]) -> float:
    """Total seconds for phases of the given step counts (a phase not timed costs the mean step)."""
    if not step_times:
        return 0.0
    mean = sum(step_times.values()) / len(step_times)
    return sum(n * step_times.get(name, mean) for name, n in phase_steps.items())


def duration_text(seconds: float) -> str:
    """'about 40 s', 'about 12 min', 'about 3.5 h', 'about 2.1 days'."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.1f} h"
    return f"about {seconds / 86400:.1f} days"
