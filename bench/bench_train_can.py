#!/usr/bin/env python3
"""Training throughput of CAN on the shared Trainer vs a plain-PyTorch loop of the same networks, in one run.

The job (studio.models.can.train.CANTrainJob — the CAN task on studio.train.Trainer — through
studio.core.jobs.run_job) adds progress reports, the loss history, preview grids with the diversity
score, the NaN/divergence check and atomic run-state saves on top of the bare CAN step. The plain loop
below is written out independently (same networks, losses, Adam settings, batch and G:D ratio) so the
ratio shows what the studio's machinery costs. The two alternate step by step (one plain step runs inside
each of the job's progress reports), so a shared machine's background load hits both alike; throughput is
real images per second of the median step (the job's data loading, first/last-step previews and final
evaluation are left out). Target: job / plain ≥ 0.95.

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


class PlainCAN:
    """Bare CAN training in plain PyTorch: the same networks, losses, Adam settings, batch and G:D ratio."""

    def __init__(self, data, cfg, tc, batch: int, device):
        from studio.models.can.networks import build_networks

        # the job's initial weights (the Trainer seeds torch with --seed 0 before building the networks): the
        # step's speed on the CPU depends on the weights (denormals), so unequal inits skew the ratio
        torch.manual_seed(0)
        self.g, self.d = build_networks(cfg)
        self.g.to(device), self.d.to(device)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=tc.lr_g, betas=(tc.beta1, tc.beta2))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=tc.lr_d, betas=(tc.beta1, tc.beta2))
        self.data, self.cfg, self.ratio, self.batch, self.device = data, cfg, tc.ratio, batch, device
        self.gen = torch.Generator().manual_seed(0)

    def step(self) -> tuple[float, float]:
        g, d, n, device = self.g, self.d, self.batch, self.device
        idx = torch.randint(0, self.data.images.shape[0], (n,), generator=self.gen)
        x, y = self.data.images[idx].to(device).float() / 255.0, self.data.labels[idx].to(device)
        with torch.no_grad():
            fake = g(torch.randn(n, self.cfg.latent_dim, device=device))
        self.opt_d.zero_grad()
        rl, rs = d(x)
        fl, _ = d(fake)
        loss_d = (
            F.binary_cross_entropy_with_logits(rl, torch.ones_like(rl))
            + F.binary_cross_entropy_with_logits(fl, torch.zeros_like(fl))
            + F.cross_entropy(rs, y)
        )
        loss_d.backward()
        self.opt_d.step()
        d.requires_grad_(False)  # as the job does: no D weight gradients in the G steps
        for _ in range(self.ratio):
            self.opt_g.zero_grad()
            fl, fs = d(g(torch.randn(n, self.cfg.latent_dim, device=device)))
            loss_g = F.binary_cross_entropy_with_logits(fl, torch.ones_like(fl)) - F.log_softmax(fs, 1).mean(1).mean()
            loss_g.backward()
            self.opt_g.step()
        d.requires_grad_(True)
        return loss_d.item(), loss_g.item()  # waits for the device, as the job's loss report does


def paired_round(data_dir, plain: PlainCAN, args, steps: int, run_root: Path, rnd: int) -> tuple[list, list]:
    """One job run with a plain step run inside each of its progress reports, so both are timed step by
    step in alternation and a shared machine's load spikes hit both alike. Returns (job step times, plain
    step times) in seconds. The job's one-off previews at its first and last steps are left out."""
    from studio.core.jobs import run_job
    from studio.models.can.train import CANTrainJob

    job = CANTrainJob(
        data=str(data_dir),
        name="bench",
        out=str(run_root / f"bench{rnd}"),
        run_dir=str(run_root / f"run{rnd}"),
        steps=steps + 2,
        batch=args.batch,
        ratio=args.ratio,
        image_size=args.size,
        width=args.width,
        fc_dim=args.fc_dim,
        kernel=args.kernel,
        device=args.device,
        preview_every=args.preview_every,
        checkpoint_every=args.checkpoint_every,
        eval_samples=64,
        max_per_style=args.max_per_style,
        threads=args.threads,
        command="bench",
    )
    job_times, plain_times = [], []
    last_end = [None]

    def on_progress(p):
        if not p.losses:
            return
        start = time.perf_counter()
        if last_end[0] is not None and p.step <= steps + 1:
            job_times.append(start - last_end[0])  # the job's step (plus its report) since the last callback
        if p.step <= steps:
            plain.step()
            plain_times.append(time.perf_counter() - start)
        last_end[0] = time.perf_counter()

    plain.step()  # warm-up
    res = run_job(job, on_progress)
    if not res.ok:
        raise SystemExit(res.message + res.outputs.get("traceback", ""))
    return job_times, plain_times


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
        cfg = CANConfig(
            image_size=args.size, num_styles=len(data.styles), width=args.width, fc_dim=args.fc_dim, kernel=args.kernel
        )
        tc = TrainConfig(ratio=args.ratio)
        plain_all, job_all = [], []
        for r in range(args.rounds):
            plain = PlainCAN(data, cfg, tc, args.batch, device)
            job_t, plain_t = paired_round(data_dir, plain, args, args.steps, tmp, r)
            job_all += job_t
            plain_all += plain_t
            print(
                f"round {r + 1}: plain {args.batch / statistics.median(plain_t):.1f} img/s, "
                f"job {args.batch / statistics.median(job_t):.1f} img/s",
                flush=True,
            )
    p, j = args.batch / statistics.median(plain_all), args.batch / statistics.median(job_all)
    print(
        f"device {device}, {args.size}px, width {args.width}, fc {args.fc_dim}, batch {args.batch}, "
        f"ratio {args.ratio}:1, {torch.get_num_threads()} thread(s)"
    )
    print(f"plain PyTorch loop: {p:.1f} images/s")
    print(f"studio Trainer CAN: {j:.1f} images/s")
    print(f"ratio job/plain:    {j / p:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
