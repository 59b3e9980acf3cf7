#!/usr/bin/env python3
"""Training throughput of the CAN job vs a plain-PyTorch loop of the same networks, in one run.

The job (studio.models.can.train.CANTrainJob through studio.core.jobs.run_job) adds progress reports,
preview grids with the diversity score, divergence checks and atomic checkpoints on top of the bare
CAN step. The plain loop below is written out independently (same networks, losses, Adam settings,
batch and G:D ratio) so the ratio shows what the studio's machinery costs. Rounds alternate between the
two so background load hits both alike; throughput is real images per second in steady state (the
job's data loading and final evaluation are excluded by timing between its own progress reports).

    python bench/bench_train_can.py                    # generated 4-style data, report arch, 64 px
    python bench/bench_train_can.py --data data/can --width 0.5 --fc-dim 256 --kernel 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.nn import functional as F


def make_data(root: Path, size: int, per_style: int = 64) -> Path:
    rng = np.random.default_rng(0)
    for k, style in enumerate(("discs", "squares", "stripes", "triangles")):
        folder = root / style
        folder.mkdir(parents=True)
        for i in range(per_style):
            img = Image.new("RGB", (size, size), "white")
            dr = ImageDraw.Draw(img)
            a, b = (int(v) for v in rng.integers(0, size // 2, 2))
            r = int(rng.integers(size // 4, size // 2))
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            if k == 0:
                dr.ellipse([a, b, a + r, b + r], fill=colour)
            elif k == 1:
                dr.rectangle([a, b, a + r, b + r], fill=colour)
            elif k == 2:
                for y in range(a % 6, size, 6):
                    dr.line([0, y, size, y], fill=colour, width=2)
            else:
                dr.polygon([(a, b + r), (a + r, b + r), (a + r // 2, b)], fill=colour)
            img.save(folder / f"{i}.png")
    return root


def plain_loop(data, cfg, tc, steps: int, device) -> float:
    """Bare CAN training in plain PyTorch; returns images/s (real images per D step)."""
    from studio.models.can.networks import build_networks

    g, d = build_networks(cfg)
    g.to(device), d.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=tc.lr_g, betas=(tc.beta1, tc.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=tc.lr_d, betas=(tc.beta1, tc.beta2))
    images, labels = data.images, data.labels
    gen = torch.Generator().manual_seed(0)

    def step():
        idx = torch.randint(0, images.shape[0], (tc.batch,), generator=gen)
        x, y = images[idx].to(device).float() / 255.0, labels[idx].to(device)
        with torch.no_grad():
            fake = g(torch.randn(tc.batch, cfg.latent_dim, device=device))
        opt_d.zero_grad()
        rl, rs = d(x)
        fl, _ = d(fake)
        loss_d = (F.binary_cross_entropy_with_logits(rl, torch.ones_like(rl))
                  + F.binary_cross_entropy_with_logits(fl, torch.zeros_like(fl)) + F.cross_entropy(rs, y))
        loss_d.backward()
        opt_d.step()
        for _ in range(tc.ratio):
            opt_g.zero_grad()
            fl, fs = d(g(torch.randn(tc.batch, cfg.latent_dim, device=device)))
            loss_g = (F.binary_cross_entropy_with_logits(fl, torch.ones_like(fl))
                      - F.log_softmax(fs, 1).mean(1).mean())
            loss_g.backward()
            opt_g.step()
        return loss_d.item(), loss_g.item()

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * tc.batch / (time.perf_counter() - t0)


def job_rate(data_dir, args, steps: int, run_root: Path, rnd: int) -> float:
    from studio.core.jobs import run_job
    from studio.models.can.family import CANFamily

    job = CANFamily().make_job(
        "train", data=str(data_dir), name="bench", out=str(run_root / f"bench{rnd}"),
        run_dir=str(run_root / f"run{rnd}"), steps=steps + 1, batch=args.batch, ratio=args.ratio,
        image_size=args.size, width=args.width, fc_dim=args.fc_dim, kernel=args.kernel, device=args.device,
        preview_every=args.preview_every, checkpoint_every=args.checkpoint_every, eval_samples=64,
        max_per_style=args.max_per_style, command="bench")
    events = []
    res = run_job(job, lambda p: events.append((p.step, time.perf_counter())) if p.losses else None)
    if not res.ok:
        raise SystemExit(res.message + res.outputs.get("traceback", ""))
    (s0, t0), (s1, t1) = events[0], events[-1]  # from the end of step 1 (warm-up) to the last step
    return (s1 - s0) * args.batch / (t1 - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="style folder (default: generated shapes)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--ratio", type=int, default=2)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--width", type=float, default=0.5)
    ap.add_argument("--fc-dim", type=int, default=256)
    ap.add_argument("--kernel", type=int, default=3)
    ap.add_argument("--preview-every", type=int, default=100)
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--max-per-style", type=int, default=256)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from studio.core.device import resolve_device
    from studio.models.can.config import CANConfig, TrainConfig
    from studio.models.can.data import load_style_folder

    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_dir = args.data or make_data(tmp / "data", args.size)
        data = load_style_folder(data_dir, args.size, 0.1, 0, args.max_per_style)
        cfg = CANConfig(image_size=args.size, num_styles=len(data.styles), width=args.width, fc_dim=args.fc_dim,
                        kernel=args.kernel)
        tc = TrainConfig(batch=args.batch, ratio=args.ratio)
        plain, job = [], []
        for r in range(args.rounds):
            plain.append(plain_loop(data, cfg, tc, args.steps, device))
            job.append(job_rate(data_dir, args, args.steps, tmp, r))
            print(f"round {r + 1}: plain {plain[-1]:.1f} img/s, job {job[-1]:.1f} img/s", flush=True)
    p, j = statistics.median(plain), statistics.median(job)
    print(f"device {device}, {args.size}px, width {args.width}, fc {args.fc_dim}, batch {args.batch}, "
          f"ratio {args.ratio}:1, {torch.get_num_threads()} thread(s)")
    print(f"plain PyTorch loop: {p:.1f} images/s")
    print(f"studio CAN job:     {j:.1f} images/s")
    print(f"ratio job/plain:    {j / p:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
