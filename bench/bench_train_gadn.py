#!/usr/bin/env python3
"""GADN training speed: the shared Trainer (``studio train gadn``) vs a minimal plain-PyTorch loop of the
same model, per stage, measured in one run.

The plain loop calls the very same step functions (``stage1_step``, ``classifier_step``, ``stage2_step``)
with plain ``backward()`` / ``optimizer.step()``, on batches drawn the same way from the same images, with
no reporter, history, run folder, preview or KID. Rounds are interleaved (job, plain, job, plain…) so a
shared, noisy machine biases neither; medians are printed. The time of a stage counts its steps 3..N-1
(warm-up, the end-of-stage preview and the between-stage save are left out of both).

    python bench/bench_train_gadn.py                       # ~1-2 minutes on 2 CPU cores
    python bench/bench_train_gadn.py --steps 30 --rounds 3 --device cuda

Prints images/s of each and the ratio job / plain (target ≥ 0.95) by the wall clock and by the process's
CPU time (steadier on a shared machine, where the wall clock also counts other people's work); also
stage 2's cost against stage 1's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.device import resolve_device
from studio.core.jobs import run_job
from studio.models.gadn.config import GADNConfig, TrainConfig
from studio.models.gadn.data import load_artist_folder
from studio.models.gadn.networks import GADNNets
from studio.models.gadn.train import (
    GADNTrainJob,
    classifier_step,
    freeze_encoder,
    make_optimisers,
    stage1_step,
    stage2_step,
)

ARTISTS = 3


def make_data(folder: Path, per_artist: int = 16, size: int = 64) -> None:
    """Coloured discs: each artist its own palette, the same file name the same shape."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    for a in range(ARTISTS):
        (folder / f"artist{a}").mkdir(parents=True)
        colour = rng.integers(0, 255, 3)
        for i in range(per_artist):
            img = np.full((size, size, 3), 255, np.uint8)
            r = size // 8 + (i * 3) % (size // 3)
            img[(yy - size // 2) ** 2 + (xx - size // 2 + i % 7) ** 2 < r * r] = colour
            Image.fromarray(img).save(folder / f"artist{a}" / f"{i}.png")


def arch(args) -> dict:
    return dict(
        image_size=64, base_channels=args.base_channels, fc_features=args.fc_features, content_dim=64, style_dim=16
    )


def stage_rate(times: dict[int, tuple[float, float]], first: int, last: int, batch: int) -> tuple[float, float]:
    """(wall, CPU) images/s over the steps first+3 .. last-1 of a stage whose steps are first+1 .. last."""
    a, b = first + 3, last - 1
    return tuple((b - a) * batch / (times[b][k] - times[a][k]) for k in (0, 1))  # type: ignore[return-value]


def now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def job_rates(data: Path, run: Path, args) -> list[tuple[float, float]]:
    times: dict[int, tuple[float, float]] = {}

    def cb(p):
        if p.losses:
            if args.device != "cpu" and torch.cuda.is_available():
                torch.cuda.synchronize()
            times[p.step] = now()

    n = args.steps
    job = GADNTrainJob(
        data=str(data),
        out=str(run / "model"),
        run_dir=str(run / "run"),
        device=args.device,
        threads=args.threads,
        steps1=n,
        steps_cls=n,
        steps2=n,
        batch=args.batch,
        batch_cls=args.batch,
        preview_every=10**6,
        checkpoint_every=0,
        precision=args.precision,
        **arch(args),
    )
    res = run_job(job, cb)
    if not res.ok:
        raise SystemExit(res.message)
    return [stage_rate(times, 0, n, args.batch), stage_rate(times, 2 * n, 3 * n, args.batch)]


def plain_rates(data: Path, args) -> list[tuple[float, float]]:
    """The same networks, optimisers and steps in a bare loop (fp32, or bf16 autocast if asked)."""
    device = resolve_device(args.device)
    images = load_artist_folder(data, 64)
    torch.manual_seed(0)
    cfg = GADNConfig(num_artists=ARTISTS, **arch(args))
    nets = GADNNets(cfg).to(device).train()
    tc = TrainConfig()
    gen = torch.Generator().manual_seed(0)

    class Tools:  # plain autocast for bf16; backward() and step() as they are
        @staticmethod
        def autocast():
            import contextlib

            if args.precision == "bf16":
                return torch.autocast(device.type, dtype=torch.bfloat16)
            return contextlib.nullcontext()

        backward = staticmethod(lambda loss: loss.backward())
        step_optimizer = staticmethod(lambda opt: opt.step())

    def batch():
        x, a = images.batch(torch.randint(0, len(images), (args.batch,), generator=gen))
        return x.to(device), a.to(device)

    rates = []
    for stage in ("stage1", "cls", "stage2"):
        if stage == "stage2":
            freeze_encoder(nets)
        opts = make_optimisers(nets, stage, tc)
        t0 = (0.0, 0.0)
        for i in range(1, args.steps):  # steps 1..N-1; time from the end of step 3 to the end of step N-1
            x, a = batch()
            if stage == "stage1":
                out = stage1_step(nets, opts, x, a, tc, gen, tools=Tools)
            elif stage == "cls":
                out = classifier_step(nets, opts, x, a, tools=Tools)
            else:
                out = stage2_step(nets, opts, x, a, tc, gen, tools=Tools)
            float(next(iter(out.values())))
            if i == 3:
                t0 = now()
        if stage != "cls":
            t1 = now()
            rates.append(tuple((args.steps - 4) * args.batch / (t1[k] - t0[k]) for k in (0, 1)))
    return rates


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-channels", type=int, default=16, help="the bundled gadn-emoji's width by default")
    ap.add_argument("--fc-features", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=14, help="steps per stage")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or 1)
    args = ap.parse_args()
    if args.steps < 8:
        raise SystemExit("--steps must be at least 8")
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, {args.device} {args.precision}, 64 px, "
        f"base channels {args.base_channels}, fc {args.fc_features}, batch {args.batch}, {args.steps} steps/stage"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_data(tmp / "data")
        os.environ.setdefault("STUDIO_HOME", str(tmp / "home"))
        jobs, plains = [], []
        for r in range(args.rounds):  # alternate which goes first, so neither always gets the quieter slot
            if r % 2:
                plains.append(plain_rates(tmp / "data", args))
            jobs.append(job_rates(tmp / "data", tmp / f"run{r}", args))
            if not r % 2:
                plains.append(plain_rates(tmp / "data", args))
        for k, stage in enumerate(("stage 1", "stage 2")):
            for c, clock in enumerate(("wall", "CPU")):
                job = statistics.median(j[k][c] for j in jobs)
                plain = statistics.median(p[k][c] for p in plains)
                print(
                    f"{stage} ({clock:4s} clock): plain loop {plain:7.1f} img/s, Trainer {job:7.1f} img/s, "
                    f"ratio Trainer / plain {job / plain:.3f} (target >= 0.95)   rounds: plain "
                    f"{', '.join(f'{p[k][c]:.1f}' for p in plains)}; Trainer "
                    f"{', '.join(f'{j[k][c]:.1f}' for j in jobs)}"
                )
        p1, p2 = statistics.median(p[0][0] for p in plains), statistics.median(p[1][0] for p in plains)
        print(f"a stage-2 step costs {p1 / p2:.2f}x a stage-1 step (plain loop)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
