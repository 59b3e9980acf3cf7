#!/usr/bin/env python3
"""One prepared GPU check (issue 13): every family trains a few hundred steps on CUDA in fp32 and bf16
through the shared Trainer, DDP runs where more than one GPU exists, and the bundled model renders
through the render engine. Prints images/s and peak memory per family and precision.

    bash bench/gpu_check.sh            # ~5-8 minutes on one modern GPU
    python bench/gpu_check.py --steps 50 --device cpu   # a dry run of the same script on the CPU

Data are small generated images (no downloads), so the numbers measure the engine, not a data set.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402


def discs(folder: Path, n: int, size: int, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        a = np.full((size, size, 3), 255, np.uint8)
        r = rng.integers(size // 8, size // 2 - 2)
        a[(yy - size // 2) ** 2 + (xx - size // 2) ** 2 < r * r] = rng.integers(0, 255, 3)
        Image.fromarray(a).save(folder / f"{i:03d}.png")
    return folder


def families(tmp: Path, steps: int) -> dict[str, dict]:
    """Options per family for ``make_job('train', ...)``: short runs of the bundled models' shapes."""
    flat = discs(tmp / "flat", 64, 64, 0)
    styles = tmp / "styles"
    for k in range(3):
        discs(styles / f"style{k}", 32, 64, k + 1)
    return {
        "csgan": dict(data=str(flat), width=0.25, batch=64, steps=steps, pca_samples=256, bn_samples=256),
        "can": dict(data=str(styles), width=0.25, batch=32, steps=steps, eval_samples=64, holdout=0.1),
        "gadn": dict(data=str(styles), steps1=steps // 2, steps_cls=steps // 10, steps2=steps // 2, batch=8),
        "cyclegan": dict(a=str(flat), b=str(styles / "style0"), size=64, batch=4, steps=steps),
        "ugatit": dict(a=str(flat), b=str(styles / "style0"), size=64, batch=1, steps=steps // 2, light=True),
    }


def train_one(family: str, options: dict, device: str, precision: str, tmp: Path) -> dict:
    from studio.core.jobs import run_job
    from studio.core.registry import default_registry

    run = tmp / f"{family}-{precision}-{time.monotonic_ns()}"
    times: dict[int, float] = {}

    def on_progress(p) -> None:
        if p.losses:
            times[p.step] = time.perf_counter()

    opts = dict(
        options,
        device=device,
        precision=precision,
        run_dir=str(run),
        out=str(run / "model"),
        preview_every=0,
        checkpoint_every=0,
        kid_every=0,
        force=True,
    )
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    job = default_registry().get(family).make_job("train", **opts)
    res = run_job(job, on_progress)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else float("nan")
    steps = sorted(times)
    batch = int(opts.get("batch", 1))
    rate = float("nan")
    if len(steps) > 12:
        a, b = steps[10], steps[-1]
        rate = (b - a) * batch / (times[b] - times[a])
    return {
        "status": res.status,
        "message": res.message if not res.ok else "",
        "images_per_s": rate,
        "peak_mib": peak,
        "steps": len(steps),
    }


def render_through_engine(device: str, n: int = 100) -> str:
    """p50 of request -> frame through the RenderEngine on the bundled model (one 64 px frame, 4x4 grid)."""
    from PySide6.QtCore import QCoreApplication

    from studio.core.store import ModelStore
    from studio.engine import RenderEngine

    app = QCoreApplication.instance() or QCoreApplication([])
    path = ModelStore().entries["emoji-dcgan"].path
    engine = RenderEngine(device=device)
    got: dict[int, float] = {}
    engine.frameReady.connect(lambda f: got.__setitem__(f.stamp, time.perf_counter()))
    model = engine.cache.get(path, device)
    out = []
    for count in (1, 16):
        lat = []
        for i in range(n):
            states = [model.default_state("emoji-dcgan", i * 16 + j) for j in range(count)]
            t0 = time.perf_counter()
            side = int(count**0.5)
            stamp = engine.request(path, states, rows=side, cols=side)
            deadline = t0 + 30
            while stamp not in got and time.perf_counter() < deadline:
                app.processEvents()
                time.sleep(0.0002)
            if stamp in got:
                lat.append((got[stamp] - t0) * 1000)
        lat.sort()
        out.append(f"{'frame' if count == 1 else '4x4 grid'} p50 {lat[len(lat) // 2]:.2f} ms" if lat else "no frames")
    engine.shutdown()
    return ", ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--families", default="csgan,can,gadn,cyclegan,ugatit")
    ap.add_argument("--precisions", default="fp32,bf16")
    args = ap.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: nothing to check (run with --device cpu for a dry run)")
        return 2
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    print(f"torch {torch.__version__}, device {args.device} ({name}), {torch.cuda.device_count()} GPU(s)")
    t_start = time.perf_counter()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["STUDIO_HOME"] = str(tmp / "home")
        fams = families(tmp, args.steps)
        print(f"{'family':10s} {'precision':9s} {'status':9s} {'images/s':>10s} {'peak MiB':>9s}")
        for family in args.families.split(","):
            for precision in args.precisions.split(","):
                r = train_one(family, fams[family], args.device, precision, tmp)
                failures += r["status"] != "finished"
                print(
                    f"{family:10s} {precision:9s} {r['status']:9s} {r['images_per_s']:10.1f} {r['peak_mib']:9.0f}"
                    f" {r['message'][:200]}",
                    flush=True,
                )
        if args.device.startswith("cuda") and torch.cuda.device_count() > 1:
            n = torch.cuda.device_count()
            print(f"DDP: {n} GPUs vs 1 (CSGAN, same global batch)", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "bench_ddp.py"),
                    "--device",
                    "cuda",
                    "--nproc",
                    str(n),
                    "--width",
                    "1",
                    "--batch",
                    "256",
                    "--steps",
                    "60",
                    "--rounds",
                    "1",
                ],
                cwd=ROOT / "bench",
                check=False,
            )
        else:
            print("DDP: skipped (one GPU)")
        print("render engine:", render_through_engine(args.device), flush=True)
    print(f"total {time.perf_counter() - t_start:.0f} s, {failures} failed run(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
