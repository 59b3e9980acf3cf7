"""The one training loop every family runs on (a studio job: ``title`` + ``run(reporter)``).

It owns the run folder (one-file atomic state: every network, optimizer, EMA copy, RNG state, the
history and the family's extra state), resume at any step of any phase, the step loop, the loss
history, in-training KID, preview and checkpoint cadence, ``--time-limit``, Cancel (save + export),
the NaN/divergence stop, precision, EMA, the device and DDP ranks. A family provides a
:class:`~studio.train.task.TrainingTask`.

Result (the job's outputs): ``{"card", "run_dir", "step", "status", "wall_time_s", "losses"}`` with
``status`` one of finished / time_limit / cancelled.

Cancel is checked at the top of every step; the step in flight finishes (a KID measurement or a
periodic save it would still start is skipped, the stop's own save follows at once), then the Trainer
says "saving step N…", saves, says "exporting…" and exports. ``last_checkpoint`` tells the CLI which
step the run folder holds complete, for a stop that cannot wait for the save (a second Ctrl+C).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from typing import Any

import torch

from studio.core.checkpoint import card_path, load_module_tensors, module_tensors
from studio.core.device import resolve_device
from studio.core.errors import CheckpointError, JobCancelled, JobDiverged, StudioError
from studio.core.history import TrainingHistory
from studio.core.jobs import Reporter, cancelled_with

from .context import RunSummary, TrainContext
from .distributed import Distributed
from .ema import EMA
from .optim_state import load_optimizer, optimizer_tensors
from .options import TrainerOptions
from .precision import Precision
from .run_folder import RunFolder
from .task import Phase, TrainingTask

DIVERGENCE_LIMIT = 1e6


class Trainer:
    def __init__(self, task: TrainingTask, options: TrainerOptions):
        self.task, self.options = task, options
        self.title = task.title
        self.last_checkpoint: tuple[int, str] | None = None  # (step, file) of the last complete save

    # ------------------------------------------------------------------------------------ setup
    def _device(self, dist: Distributed) -> torch.device:
        device = resolve_device(self.options.device)
        if dist.enabled and device.type == "cuda":
            device = torch.device("cuda", dist.local_rank % max(1, torch.cuda.device_count()))
            torch.cuda.set_device(device)
        return device

    def _threads(self) -> None:
        o = self.options
        if o.threads > 0:
            torch.set_num_threads(o.threads)
        elif "LOCAL_WORLD_SIZE" in os.environ:  # N CPU processes on one machine share its cores
            per = max(1, (os.cpu_count() or 1) // max(1, int(os.environ["LOCAL_WORLD_SIZE"])))
            torch.set_num_threads(per)

    def _check_outputs(self, folder: RunFolder) -> None:
        o, task = self.options, self.task
        folder.refuse_legacy()
        if folder.has_state() and not o.resume and not o.force:
            raise StudioError(
                f"{folder.path} already holds a run: pass --resume to continue it, --overwrite (or --force) to "
                "start it over, or choose another --run-dir"
            )
        out = card_path(task.out_path())
        if out.exists() and not o.resume and not o.force:
            raise StudioError(
                f"a model '{out.stem}' already exists at {out.parent}; choose another --out name "
                "or pass --overwrite (or --force) to replace it"
            )

    # ------------------------------------------------------------------------------------ state
    def _save(
        self,
        ctx: TrainContext,
        folder: RunFolder,
        phase: Phase,
        phase_step: int,
        wall: float,
        opts: Mapping[str, torch.optim.Optimizer],
        history: TrainingHistory,
        commands: list[str],
        losses: Mapping[str, float],
    ) -> None:
        """All ranks call this (RNG states are gathered); rank 0 writes."""
        nets = self.task.networks()
        for net in nets.values():
            ctx.dist.average_buffers(net)
        rngs = ctx.dist.gather_bytes(ctx.rng.get_state(), ctx.device)
        if not ctx.is_main:
            return
        tensors: dict[str, torch.Tensor] = {}
        for name, net in nets.items():
            tensors.update(module_tensors(f"net.{name}", net))
        for name, ema in ctx.emas.items():
            tensors.update(module_tensors(f"ema.{name}", ema.shadow))
        optim_meta = {}
        for name, opt in opts.items():
            t, meta = optimizer_tensors(f"opt.{name}", opt)
            tensors.update(t)
            optim_meta[name] = meta
        for r, state in enumerate(rngs):
            tensors[f"rng.rank{r}"] = state
        tensors["rng.torch"] = torch.get_rng_state()
        for k, v in self.task.state_tensors().items():
            tensors[f"task.{k}"] = v
        scaler = ctx.precision.scaler
        meta = {
            "family": self.task.family,
            "config": self.task.config(),
            "phase": phase.name,
            "phase_step": phase_step,
            "step": ctx.step,
            "wall_time_s": wall,
            "world_size": ctx.dist.world_size,
            "history": history.to_dict(),
            "commands": commands,
            "optimizers": optim_meta,
            "task": self.task.state(),
            "ema": self.options.ema,
            "precision": ctx.precision.name,  # as resolved ('auto' -> bf16 / fp32)
            "losses": {k: float(v) for k, v in losses.items() if math.isfinite(float(v))},
            "loss_scale": float(scaler.get_scale()) if scaler is not None else None,
            "options": {k: v for k, v in vars(self.options).items() if k != "command"},
        }
        path = folder.save(tensors, meta)
        self.last_checkpoint = (ctx.step, str(path))

    # ------------------------------------------------------------------------------------ the job
    def run(self, reporter: Reporter) -> dict[str, Any]:
        self._threads()
        dist = Distributed.from_environment(resolve_device(self.options.device).type)
        try:
            return self._run(reporter, dist)
        finally:
            dist.close()

    def _run(self, reporter: Reporter, dist: Distributed) -> dict[str, Any]:
        o, task = self.options, self.task
        t0 = time.perf_counter()
        device = self._device(dist)
        precision = Precision(o.precision, device)
        folder = RunFolder(task.run_path())
        if dist.is_main:
            self._check_outputs(folder)
            folder.clean_temp_files()
        dist.barrier()
        main = dist.is_main

        def say(text: str) -> None:
            """A status line; never raises (Cancel is noticed at the top of the next step)."""
            if main:
                try:
                    reporter.message(text)
                except JobCancelled:
                    pass

        saved_tensors: dict[str, torch.Tensor] = {}
        saved: dict[str, Any] | None = None
        if o.resume and folder.has_state():
            saved_tensors, saved = folder.load()
            if saved.get("family") != task.family:
                raise CheckpointError(
                    folder.state_path, f"this run folder holds a '{saved.get('family')}' run, not '{task.family}'"
                )
        elif o.resume:
            say(f"no saved run in {folder.path} yet: starting a new run")

        torch.manual_seed(o.seed)  # network initialisation is the same on every rank and every start
        rng = torch.Generator().manual_seed(o.seed * 1_000_003 + dist.rank)
        ctx = TrainContext(o, device, precision, dist, rng, message=say)
        task.setup(ctx, saved)
        nets = task.networks()
        ctx._networks = dict(nets)
        for name, net in nets.items():
            net.to(device)
            precision.prepare(net)
            if saved is not None:
                load_module_tensors(f"net.{name}", net, saved_tensors, folder.state_path)
            else:
                dist.broadcast_module(net)
        if o.ema > 0:
            for name in task.ema_networks():
                ctx.emas[name] = EMA(nets[name], o.ema)
                if saved is not None and any(k.startswith(f"ema.{name}.") for k in saved_tensors):
                    load_module_tensors(f"ema.{name}", ctx.emas[name].shadow, saved_tensors, folder.state_path)

        phases = task.phases()
        total = sum(p.steps for p in phases)
        history = TrainingHistory()
        commands = [o.command] if o.command else []
        wall_before, start_phase, start_step = 0.0, 0, 0
        if saved is not None:
            names = [p.name for p in phases]
            if saved.get("phase") not in names:
                raise CheckpointError(
                    folder.state_path, f"the saved phase {saved.get('phase')!r} is not one of {', '.join(names)}"
                )
            start_phase, start_step = names.index(saved["phase"]), int(saved.get("phase_step", 0))
            wall_before = float(saved.get("wall_time_s", 0.0))
            earlier = [str(c) for c in saved.get("commands") or []]
            commands = earlier + [c for c in commands if c not in earlier]
            history = TrainingHistory.from_dict(saved.get("history"))
            state = saved_tensors.get(f"rng.rank{dist.rank}")
            if state is not None and int(saved.get("world_size", 1)) == dist.world_size:
                rng.set_state(state)
            elif dist.enabled:
                say(f"the run was saved with {saved.get('world_size')} processes; ranks draw fresh random streams")
            if "rng.torch" in saved_tensors:
                torch.set_rng_state(saved_tensors["rng.torch"])
            task.load_state(
                saved.get("task") or {}, {k[5:]: v for k, v in saved_tensors.items() if k.startswith("task.")}
            )
            if precision.scaler is not None and saved.get("loss_scale"):
                precision.scaler.update(float(saved["loss_scale"]))
            ctx.step = sum(p.steps for p in phases[:start_phase]) + start_step
            history.truncate(ctx.step)
            self.last_checkpoint = (ctx.step, str(folder.state_path))
            say(f"resuming at step {ctx.step} of {total}")

        kids = []
        if main:
            from studio.metrics.training_kid import TrainingKID

            for source in task.kid_sources(ctx):
                kid = TrainingKID.from_options(o, device, value_range=source.value_range, label=source.label)
                if source.max_images:
                    kid.n = max(8, min(kid.n, source.max_images))
                kids.append((kid, source))

        def wall() -> float:
            return wall_before + time.perf_counter() - t0

        limit_s = o.time_limit * 60.0

        def time_left() -> float | None:
            """Seconds until --time-limit stops this sitting; None without a limit."""
            return limit_s - (time.perf_counter() - t0) if limit_s > 0 else None

        # a resumed run that stops before its first new step still reports the losses it was saved with
        losses: dict[str, float] = dict(saved.get("losses") or {}) if saved is not None else {}
        opts: dict[str, torch.optim.Optimizer] = {}
        phase = phases[start_phase] if phases else Phase("train", 0)
        first_step = ctx.step
        last_saved = ctx.step
        status = "finished"
        report_cancelled = False
        try:
            for pi in range(start_phase, len(phases)):
                phase = phases[pi]
                ctx.phase = phase.name
                ctx.phase_step = start_step if pi == start_phase else 0
                opts = task.optimizers(phase.name)
                if saved is not None and pi == start_phase and saved.get("phase") == phase.name:
                    for name, opt in opts.items():
                        meta = (saved.get("optimizers") or {}).get(name)
                        if meta is not None:
                            load_optimizer(f"opt.{name}", opt, saved_tensors, meta, str(folder.state_path))
                task.start_phase(ctx)
                while ctx.phase_step < phase.steps:
                    # 2 = cancel, 1 = time limit; agreed by every rank so none waits in a collective
                    code = (
                        2
                        if (report_cancelled or reporter.cancelled)
                        else (1 if (left := time_left()) is not None and left <= 0 else 0)
                    )
                    code = dist.agree_max(code, device)
                    if code:
                        status = "cancelled" if code == 2 else "time_limit"
                        break
                    losses = task.train_step(ctx)
                    precision.end_step()
                    ctx.phase_step += 1
                    ctx.step += 1
                    for name, value in losses.items():
                        value = float(value)
                        if not math.isfinite(value) or abs(value) > DIVERGENCE_LIMIT:
                            raise JobDiverged(
                                f"training diverged at step {ctx.step}: loss '{name}' is {value}. Nothing of "
                                f"this step was saved; the run folder keeps step {last_saved}. Resume with a "
                                "lower learning rate (or fp32)."
                            )
                    for name, ema in ctx.emas.items():
                        ema.update(nets[name])
                    history.add(ctx.step, losses)
                    scores: dict[str, float] = {}
                    for kid, source in kids:  # a stop asked for meanwhile skips the measurement (seconds)
                        if reporter.cancelled:
                            break
                        if (not source.phases or phase.name in source.phases) and kid.due(ctx.step):
                            scores.update(kid.measure(source.reference, source.samples, say))
                    if scores:
                        history.add_scores(ctx.step, scores)
                    preview = None
                    if (
                        main
                        and o.preview_every
                        and (
                            ctx.phase_step % o.preview_every == 0
                            or ctx.phase_step == phase.steps
                            or ctx.step == first_step + 1
                        )
                    ):
                        preview = task.preview(ctx)
                    # a stop asked for meanwhile saves this same state at once: no second save (one process;
                    # with DDP every rank must take part in a save, so all do it)
                    stopping = reporter.cancelled and not dist.enabled
                    if (
                        o.checkpoint_every
                        and ctx.step % o.checkpoint_every == 0
                        and ctx.phase_step < phase.steps
                        and not stopping
                    ):
                        self._save(ctx, folder, phase, ctx.phase_step, wall(), opts, history, commands, losses)
                        last_saved = ctx.step
                    if main:
                        try:
                            reporter.report(
                                ctx.step,
                                total,
                                losses=losses,
                                preview=preview,
                                metrics={**task.step_metrics(ctx), **scores},
                                message=phase.title,
                                time_left_s=time_left(),
                            )
                        except JobCancelled:
                            report_cancelled = True  # stop at the top of the next step, with every rank
                if status != "finished":
                    break
                if pi + 1 < len(phases):  # the next phase starts at its step 0 with new optimizers
                    history.flush(ctx.step)
                    self._save(ctx, folder, phases[pi + 1], 0, wall(), {}, history, commands, losses)
                    last_saved = ctx.step
        except JobCancelled:  # raised by a family's own check (e.g. a long data load)
            status = "cancelled"
        history.flush(ctx.step)
        if status != "finished" and saved is None and ctx.step == 0:  # a new run stopped before its first step
            say("stopped before the first step: nothing was trained, nothing saved")
            dist.barrier()
            if status == "cancelled":
                raise JobCancelled()
            raise StudioError("stopped before the first step (time limit): nothing was trained, no model was saved")
        if status == "finished" and phases:  # a finished run rests at the end of its last phase
            self._save(ctx, folder, phase, ctx.phase_step, wall(), opts, history, commands, losses)
        elif status != "finished":
            say(f"{'stopping' if status == 'cancelled' else 'time limit reached'}: saving step {ctx.step}…")
            self._save(ctx, folder, phase, ctx.phase_step, wall(), opts, history, commands, losses)
            say(
                ("time limit reached" if status == "time_limit" else "cancelled")
                + f" at step {ctx.step}: the run is saved (continue with --resume); exporting…"
            )
        result: dict[str, Any] = {
            "run_dir": str(folder.path),
            "step": ctx.step,
            "status": status,
            "wall_time_s": round(wall(), 1),
            "losses": dict(losses),
        }
        if main:
            summary = RunSummary(
                step=ctx.step,
                total=total,
                finished=status == "finished",
                wall_time_s=wall(),
                losses=dict(losses),
                history=history.card_columns(),
                commands=commands,
                status=status,
            )
            if status == "finished":
                say("exporting the model…")
            result["card"] = str(task.export(ctx, summary))
        dist.barrier()
        if status == "cancelled":
            raise cancelled_with(result)
        return result
