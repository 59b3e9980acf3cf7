#!/usr/bin/env python3
"""Data-parallel training (torchrun, gloo on CPU / NCCL on GPUs) vs one process, at the same global batch.

One CSGAN run of ``--steps`` steps is timed between its 3rd and last step (setup and export excluded):
once as a single process using every core, once as N processes (``torch.distributed.run``) that split
the cores and the batch. On a 2-core machine this is not a scaling test — it checks that the DDP path
costs little; on a multi-GPU machine the same script measures real scaling (``--device cuda``).

    python bench/bench_ddp.py                        # CPU, 2 processes vs 1
    python bench/bench_ddp.py --device cuda --nproc 4 --width 1 --batch 256
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(args) -> None:
    """One rank (or the single process): train and let rank 0 write images/s to --result."""
    import torch

    from studio.core.jobs import run_job
    from studio.models.csgan.train import CSGANTrainJob

    times: dict[int, float] = {}

    def on_progress(p) -> None:
        if p.losses:
            times[p.step] = time.perf_counter()

    job = CSGANTrainJob(
        data=args.data,
        width=args.width,
        batch=args.batch,
        steps=args.steps,
        device=args.device,
        precision=args.precision,
        run_dir=args.run,
        out=str(Path(args.run) / "model"),
        preview_every=0,
        checkpoint_every=0,
        pca_samples=64,
        bn_samples=64,
        pca_k=2,
        d_threshold=-1.0,
        threads=args.threads,
        force=True,
    )
    res = run_job(job, on_progress)
    if not res.ok:
        raise SystemExit(res.message)
    if int(os.environ.get("RANK", "0")) == 0:
        first, last = 3, args.steps
        rate = (last - first) * args.batch / (times[last] - times[first])
        Path(args.result).write_text(json.dumps({"images_per_s": rate, "threads": torch.get_num_threads()}))


def run(args, nproc: int, data: Path, tmp: Path) -> dict:
    result = tmp / f"result-{nproc}.json"
    run_dir = tmp / f"run-{nproc}-{time.monotonic_ns()}"
    cores = os.cpu_count() or 1
    threads = max(1, cores // nproc) if args.device == "cpu" else 0
    common = [
        "--worker",
        "--data",
        str(data),
        "--width",
        str(args.width),
        "--batch",
        str(args.batch),
        "--steps",
        str(args.steps),
        "--device",
        args.device,
        "--precision",
        args.precision,
        "--run-folder",
        str(run_dir),
        "--result",
        str(result),
        "--threads",
        str(threads),
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads or 1), STUDIO_HOME=str(tmp / "home"))
    if nproc == 1:
        cmd = [sys.executable, __file__, *common]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={nproc}",
            __file__,
            *common,
        ]
    subprocess.run(cmd, env=env, check=True, capture_output=not args.verbose)
    return json.loads(result.read_text())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", default="")
    p.add_argument("--run-folder", dest="run", default="")
    p.add_argument("--result", default="")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if args.worker:
        worker(args)
        return 0
    from bench_train_csgan import make_data  # same synthetic images as the single-process bench

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        data.mkdir()
        make_data(data)
        single, multi = [], []
        for _ in range(args.rounds):  # interleaved, so machine noise biases neither
            single.append(run(args, 1, data, tmp)["images_per_s"])
            multi.append(run(args, args.nproc, data, tmp)["images_per_s"])
    best1, bestn = max(single), max(multi)
    print(f"device {args.device}, precision {args.precision}, CSGAN width {args.width}, global batch {args.batch}")
    print(f"1 process:   {best1:8.1f} images/s  (rounds: {', '.join(f'{v:.1f}' for v in single)})")
    print(f"{args.nproc} processes: {bestn:8.1f} images/s  (rounds: {', '.join(f'{v:.1f}' for v in multi)})")
    print(f"ratio {args.nproc} processes / 1 process: {bestn / best1:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
