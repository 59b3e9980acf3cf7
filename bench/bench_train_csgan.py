#!/usr/bin/env python3
"""CSGAN training speed: our job vs a minimal plain-PyTorch loop of the same model, in one run.

Also measures bf16 autocast + channels_last against fp32 for a training step and for batched generation
(with the max abs difference of the generated images), so the choice of precision rests on numbers
measured on this machine. Runs are interleaved (A B A B …) so a shared, noisy machine biases neither.

    python bench/bench_train_csgan.py            # ~1–2 minutes on 2 CPU cores
    python bench/bench_train_csgan.py --width 0.1875 --batch 32 --rounds 3

Prints images/s for each and the ratios (target: job / plain ≥ 0.95).
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

from studio.core.jobs import run_job
from studio.models.csgan.networks import CSGANConfig, Discriminator, Generator
from studio.models.csgan.train import CSGANTrainJob


def make_data(folder: Path, n: int = 64, size: int = 64) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        a = np.full((size, size, 3), 255, np.uint8)
        r = rng.integers(size // 8, size // 2 - 2)
        a[(yy - size // 2) ** 2 + (xx - size // 2) ** 2 < r * r] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i}.png")


def job_rate(data: Path, run: Path, args, steps: int) -> float:
    """Images/s of the real job over steps 3..steps-1 (setup, data loading and export excluded).

    The D threshold is disabled (D steps every iteration) so the job does exactly the plain loop's work;
    with the paper's threshold the job skips many D updates and would look faster than it is.
    """
    times: dict[int, float] = {}

    def cb(p):
        if p.losses:
            times[p.step] = time.perf_counter()

    job = CSGANTrainJob(
        data=str(data),
        width=args.width,
        batch=args.batch,
        steps=steps,
        device="cpu",
        run_dir=str(run),
        out=str(run / "model"),
        preview_every=100,
        save_every=0,
        pca_samples=64,
        bn_samples=64,
        pca_k=2,
        d_threshold=-1.0,
    )
    res = run_job(job, cb)
    if not res.ok:
        raise SystemExit(res.message)
    first, last = 3, steps - 1
    return (last - first) * args.batch / (times[last] - times[first])


def plain_rate(args, steps: int, bf16: bool = False) -> float:
    """The same model and update rule in a bare loop: no reporter, no soft-label RNG, no threshold, no
    checkpoints. Like the job it freezes D during the G step (without that a bare loop does ~1.5× the
    work and the job looks faster than it is)."""
    torch.manual_seed(0)
    cfg = CSGANConfig("dcgan64", args.width)
    g, d = Generator(cfg), Discriminator(cfg)
    if bf16:
        g.to(memory_format=torch.channels_last)
        d.to(memory_format=torch.channels_last)
    og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    data = torch.randint(0, 255, (64, 3, 64, 64), dtype=torch.uint8)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else (lambda: torch.enable_grad())
    t0 = None
    for i in range(steps):
        if i == 3:
            t0 = time.perf_counter()
        real = data[torch.randint(0, 64, (args.batch,))].float() / 127.5 - 1
        if bf16:
            real = real.contiguous(memory_format=torch.channels_last)
        z = torch.randn(args.batch, cfg.latent_dim)
        with ctx():
            fake = g(z)
            dl = 0.5 * ((d(real).float() - 1) ** 2).mean() + 0.5 * (d(fake.detach()).float() ** 2).mean()
        od.zero_grad()
        dl.backward()
        od.step()
        d.requires_grad_(False)  # as the job does: no D weight gradients in the G step
        with ctx():
            gl = 0.5 * ((d(fake).float() - 1) ** 2).mean()
        og.zero_grad()
        gl.backward()
        og.step()
        d.requires_grad_(True)
    return (steps - 3) * args.batch / (time.perf_counter() - t0)  # iterations 3..steps-1


def load_generator(args) -> tuple[Generator, str]:
    """The trained model when there is one (a random net's eval outputs are near 0, hiding bf16 error)."""
    card = Path(args.model)
    if card.exists():
        from studio.core.store import load_model

        return load_model(card, device="cpu").generator.eval(), card.stem
    torch.manual_seed(0)
    return Generator(CSGANConfig("dcgan64", args.width)).eval(), "random init (differences understated)"


def generation(args, reps: int = 5) -> tuple[float, float, float]:
    """Batched generation (eval, no grad): fp32 and bf16+channels_last images/s, and max |Δ| in [0,1]."""
    g, name = load_generator(args)
    print(f"generation model: {name}")
    z = torch.randn(64, g.config.latent_dim)

    def run(bf16: bool):
        with torch.inference_mode():
            if bf16:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return g(z).float()
            return g(z)

    out = {}
    rates: dict[bool, list[float]] = {False: [], True: []}
    for bf16 in (False, True):
        if bf16:
            g.to(memory_format=torch.channels_last)
        out[bf16] = run(bf16)  # warm-up
        g.to(memory_format=torch.contiguous_format)
    for _ in range(reps):
        for bf16 in (False, True):
            g.to(memory_format=torch.channels_last if bf16 else torch.contiguous_format)
            t = time.perf_counter()
            run(bf16)
            rates[bf16].append(64 / (time.perf_counter() - t))
    diff = ((out[True] - out[False]).abs().max() / 2).item()  # Tanh range [-1,1] -> [0,1]
    return statistics.median(rates[False]), statistics.median(rates[True]), diff


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=float, default=0.1875, help="the bundled model's width by default")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=14)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "0") or 0))
    ap.add_argument("--skip-bf16", action="store_true")
    ap.add_argument(
        "--model",
        default=str(Path(__file__).resolve().parents[1] / "resources" / "models" / "emoji-dcgan.json"),
        help="trained card for the generation test",
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, dcgan64 width {args.width}, batch {args.batch}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "data").mkdir()
        make_data(tmp / "data")
        os.environ.setdefault("STUDIO_HOME", str(tmp / "home"))
        jobs, plains, bf = [], [], []
        for r in range(args.rounds):
            jobs.append(job_rate(tmp / "data", tmp / f"run{r}", args, args.steps))
            plains.append(plain_rate(args, args.steps))
            if not args.skip_bf16:
                bf.append(plain_rate(args, args.steps, bf16=True))
        job, plain = statistics.median(jobs), statistics.median(plains)
        print(f"train  plain loop fp32: {plain:8.1f} img/s   (rounds: {', '.join(f'{x:.1f}' for x in plains)})")
        print(f"train  our job    fp32: {job:8.1f} img/s   (rounds: {', '.join(f'{x:.1f}' for x in jobs)})")
        print(f"ratio job / plain: {job / plain:.3f}  (target >= 0.95)")
        if not args.skip_bf16:
            b = statistics.median(bf)
            print(f"train  plain loop bf16+channels_last: {b:8.1f} img/s  -> bf16 / fp32 = {b / plain:.2f}x")
            f32, b16, diff = generation(args)
            print(
                f"generate (batch 64) fp32: {f32:8.1f} img/s  bf16+channels_last: {b16:8.1f} img/s  "
                f"-> {b16 / f32:.2f}x, max |diff| {diff:.4f} (of 1.0)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
