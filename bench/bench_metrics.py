"""Benchmark the evaluation pipeline on this machine and print how the cost grows.

1. Feature extraction throughput (images/s) of each installed feature network on 64 px images
   (upsampled to the network's 224 px input, as in `studio eval`).
2. Metric run time on synthetic 1280-d features for 2k vs 10k images per side, per metric, with the
   10k/2k ratio (5× more images: linear cost gives 5×, quadratic 25×, constant 1×).

    python bench/bench_metrics.py [--threads 2] [--images 64] [--sizes 2000 10000] [--dims 1280]

Numbers vary with machine load; the ratios measured within one run are the meaningful output.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def timed(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def bench_features(names: list[str], count: int, batch: int) -> None:
    from studio.core.errors import StudioError
    from studio.metrics.features import batched, extract, load_feature_net

    images = torch.rand(count, 3, 64, 64)
    print(f"feature extraction, {count} images of 64 px, batch {batch}, {torch.get_num_threads()} threads:")
    for name in names:
        try:
            net = load_feature_net(name, "cpu")
        except StudioError as exc:
            print(f"  {name:20s} skipped ({exc})")
            continue
        extract(net, [images[:2]])  # warm-up
        seconds = timed(extract, net, batched(images, batch))
        print(f"  {name:20s} {count / seconds:7.1f} images/s  ({seconds:.1f} s)")


def bench_metrics(sizes: list[int], dims: int, kid_subsets: int) -> None:
    from studio.metrics.coverage import precision_recall_coverage
    from studio.metrics.frechet import fid
    from studio.metrics.inception_score import inception_score
    from studio.metrics.kid import kid
    from studio.metrics.memorisation import memorisation

    rng = np.random.default_rng(0)
    mix = rng.normal(size=(dims, dims)).astype(np.float32) / np.sqrt(dims)
    rows = {}
    for n in sizes:
        a = torch.from_numpy(np.maximum(rng.normal(size=(n, dims)).astype(np.float32) @ mix, 0))
        b = torch.from_numpy(np.maximum(rng.normal(size=(n, dims)).astype(np.float32) @ mix + 0.05, 0))
        logits = torch.randn(n, 1000)
        rows[n] = {
            "FID": timed(fid, a, b),
            f"KID ({kid_subsets} subsets of 1000)": timed(kid, a, b, subsets=kid_subsets, subset_size=1000),
            "memorisation (MiFID)": timed(memorisation, a, b),
            "IS-style (10 splits)": timed(inception_score, logits),
            "precision/recall/coverage": timed(precision_recall_coverage, b, a),
        }
        print(f"  {n} images per side, {dims}-d: " + ", ".join(f"{k} {v:.2f}s" for k, v in rows[n].items()), flush=True)
    lo, hi = min(sizes), max(sizes)
    print(f"metric cost growth, {hi} vs {lo} images ({hi / lo:.0f}× more):")
    for key in rows[lo]:
        print(f"  {key:32s} {rows[lo][key]:7.2f} s -> {rows[hi][key]:7.2f} s   ×{rows[hi][key] / rows[lo][key]:.1f}")
    total_lo, total_hi = sum(rows[lo].values()), sum(rows[hi].values())
    print(f"  {'all metrics':32s} {total_lo:7.2f} s -> {total_hi:7.2f} s   ×{total_hi / total_lo:.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    p.add_argument("--dims", type=int, default=1280)
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--nets", nargs="+", default=["mobilenet_v2", "efficientnet_lite0"])
    p.add_argument("--skip-features", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if not args.skip_features:
        bench_features(args.nets, args.images, args.batch)
    bench_metrics(args.sizes, args.dims, args.kid_subsets)


if __name__ == "__main__":
    main()
