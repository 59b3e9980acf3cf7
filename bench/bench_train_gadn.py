"""GADN training speed: seconds per step of each stage, and ratios between them, measured in one run.

Why ratios: the machine is shared, so absolute times drift; ratios taken back to back are stable enough
to plan a schedule (e.g. how many stage-2 steps cost as much as the stage-1 steps).

    python bench/bench_train_gadn.py [--base-channels 16] [--batch 8] [--steps 5]
"""
from __future__ import annotations

import argparse
import time

import torch

from studio.models.gadn.config import GADNConfig, TrainConfig
from studio.models.gadn.networks import GADNNets
from studio.models.gadn.train import classifier_step, freeze_encoder, make_optimisers, stage1_step, stage2_step


def per_step(fn, steps: int) -> float:
    fn()  # warm-up
    t0 = time.process_time()
    for _ in range(steps):
        fn()
    return (time.process_time() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-channels", type=int, default=16)
    ap.add_argument("--fc-features", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tc = TrainConfig()
    results = {}
    for label, base in (("full", args.base_channels), ("half", max(4, args.base_channels // 2))):
        cfg = GADNConfig(num_artists=3, base_channels=base, fc_features=args.fc_features, content_dim=64, style_dim=16)
        nets = GADNNets(cfg)
        x = torch.rand(args.batch, 3, 64, 64) * 2 - 1
        a = torch.arange(args.batch) % 3
        xc = torch.rand(tc.batch_cls, 3, 64, 64) * 2 - 1
        ac = torch.arange(tc.batch_cls) % 3
        o1 = make_optimisers(nets, "stage1", tc)
        s1 = per_step(lambda: stage1_step(nets, o1, x, a, tc), args.steps)
        oc = make_optimisers(nets, "cls", tc)
        sc = per_step(lambda: classifier_step(nets, oc, xc, ac), args.steps)
        freeze_encoder(nets)
        o2 = make_optimisers(nets, "stage2", tc)
        s2 = per_step(lambda: stage2_step(nets, o2, x, a, tc), args.steps)
        results[label] = (s1, sc, s2)
        print(f"{label:4s} base {base:3d}: CPU s/step stage1 {s1:.3f}  classifier {sc:.3f}  stage2 {s2:.3f}  "
              f"(stage2/stage1 {s2 / s1:.2f}, classifier/stage1 {sc / s1:.2f})")
    f, h = results["full"], results["half"]
    print(f"half width is {f[0] / h[0]:.2f}x faster in stage 1 and {f[2] / h[2]:.2f}x in stage 2")


if __name__ == "__main__":
    main()
