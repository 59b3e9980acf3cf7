#!/usr/bin/env python3
"""Speed of the CSGAN style fine-tune on this machine (all numbers from one run, so ratios compare).

Measures, through the real FinetuneJob (the shared Trainer) and the real VGG-19:
* images/s of the job against a minimal plain PyTorch loop with the same networks, losses and optimizer
  (no Trainer: no run folder, reporter, previews or RNG bookkeeping), rounds interleaved (A B A B…) so a
  shared, noisy machine biases neither; prints the ratio job / plain (target ≥ 0.95);
* seconds per step at batch 16 and 32, whole generator vs last-K layers, fp32 vs bf16 autocast;
* wall time until the style loss has fallen to half its first value (batch 16, whole generator);
and prints them with the ratios (last-K / whole, bf16 / fp32, per-image cost of batch 32 / 16) and the
issue's targets (visibly stylised preview within 60 s, 100 steps within 180 s at batch 16).

* issue 18: fp32 vs bf16 in the same run (``--precision-only``): the job's s/step in each, rounds
  alternating, its default ('auto') against the best plain loop (fp32, or bf16 autocast with channels_last
  generators) as the share of best, and the style-loss curves of fp32 and bf16 (same seed) against the
  seed-to-seed spread of fp32 (seed 0 vs 1): bf16 must be faster with curves within that noise.

Usage: python bench/bench_finetune.py [--model ID|CARD] [--painting FILE] [--threads 2] [--layers 2]
                                      [--ratio-only] [--ratio-steps 8] [--rounds 2]
                                      [--precision-only] [--precision-steps 6]
Without --model it uses the bundled emoji-dcgan if present, else a random dcgan64 of the same width.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.core.threads import apply_thread_policy  # noqa: E402

apply_thread_policy()  # the studio's policy, before torch is imported


def parent_model(arg: str | None, folder: Path) -> str:
    if arg:
        return arg
    bundled = ROOT / "resources" / "models" / "emoji-dcgan.json"
    if bundled.exists():
        return str(bundled)
    import torch

    from studio.core.checkpoint import ModelCard, module_tensors, save_checkpoint
    from studio.models.csgan.networks import CSGANConfig, Generator

    torch.manual_seed(0)
    cfg = CSGANConfig(arch="dcgan64", width=0.25)
    card = ModelCard(
        name="bench-random", family="csgan", config=cfg.to_dict(), image_size=64, latent_dim=cfg.latent_dim
    )
    return str(save_checkpoint(folder / "bench-random", module_tensors("G", Generator(cfg)), card))


def painting_file(arg: str | None, folder: Path) -> str:
    if arg:
        return arg
    wave = ROOT / "data" / "paintings" / "katsushika-hokusai-the-great-wave-off-kanagawa.png"
    if wave.exists():
        return str(wave)
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (200, 300, 3)).astype("uint8")).save(folder / "noise.png")
    return str(folder / "noise.png")


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def job_rate(model: str, painting: str, folder: Path, steps: int, batch: int, device: str = "cpu") -> float:
    """Images/s of the real job (shared Trainer) over steps 2..steps-1: setup, the previews at step 1
    and at the end, and the export are outside the timed span; no checkpoint inside it."""
    from studio.core.jobs import run_job
    from studio.models.csgan.finetune import FinetuneConfig, FinetuneJob

    times: dict[int, float] = {}

    def cb(p):
        if p.losses:  # the job reads every loss as a float, so the step is done on the device too
            times[p.step] = time.perf_counter()

    job = FinetuneJob(
        model,
        painting,
        FinetuneConfig(steps=steps, batch=batch, preview_every=10**6, checkpoint_every=0),
        out=f"bench-{time.time_ns()}",
        device=device,
        models_dir=folder / "models",
        run_dir=str(folder / f"run-{time.time_ns()}"),
    )
    res = run_job(job, cb)
    if res.status == "failed":
        raise SystemExit(res.message + "\n" + res.outputs.get("traceback", ""))
    first, last = 2, steps - 1
    return (last - first) * batch / (times[last] - times[first])


def plain_rate(
    model: str, painting: str, steps: int, batch: int, device: str = "cpu", precision: str = "fp32"
) -> float:
    """The same fine-tune in a bare loop: the parent's generator twice (G_C frozen, G_S trained, both in
    eval mode), the same VGG-19 losses and weights, Adam; timed over the same steps 2..steps-1.
    ``precision='bf16'``: bf16 autocast with channels_last generators (the best plain CPU variant here)."""
    import contextlib
    import copy

    import torch

    from studio.losses.perceptual import PerceptualLoss, build_loss_network, resize_for_loss
    from studio.models.csgan.finetune import FinetuneConfig, _load_parent, load_painting

    cfg = FinetuneConfig()
    dev = torch.device(device)
    parent = _load_parent(model, torch.device("cpu"))
    size = native = int(parent.card.image_size)
    loss = PerceptualLoss(build_loss_network(cfg.loss, dev), cfg.loss)
    loss.set_style(load_painting(painting, native, size).to(dev))
    g_c = copy.deepcopy(parent.generator).to(dev).eval().requires_grad_(False)
    g_s = copy.deepcopy(parent.generator).to(dev).eval()
    if precision == "bf16":
        g_c.to(memory_format=torch.channels_last)
        g_s.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(g_s.parameters(), lr=cfg.lr)
    latent = int(parent.card.latent_dim)
    t = {}
    for step in range(1, steps + 1):
        z = torch.randn(batch, latent).to(dev)
        amp = torch.autocast(dev.type, dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
        with amp:
            with torch.no_grad():
                content = loss.content_target(resize_for_loss((g_c(z) + 1) * 0.5, size))
            terms = loss(resize_for_loss((g_s(z) + 1) * 0.5, size), content)
        total = cfg.style_weight * terms.style + cfg.content_weight * terms.content + cfg.tv_weight * terms.tv
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        float(total.detach())  # the job reads every loss as a float too (a device sync)
        _sync(device)
        t[step] = time.perf_counter()
    first, last = 2, steps - 1
    return (last - first) * batch / (t[last] - t[first])


def ratio(model: str, painting: str, folder: Path, steps: int, batch: int, rounds: int, device: str = "cpu") -> float:
    jobs, plains = [], []
    for _ in range(rounds):
        jobs.append(job_rate(model, painting, folder, steps, batch, device))
        plains.append(plain_rate(model, painting, steps, batch, device))
    job, plain = statistics.median(jobs), statistics.median(plains)
    print(f"fine-tune on {device}, batch {batch} fp32, steps 2..{steps - 1} of {steps}, {rounds} rounds interleaved:")
    print(f"  plain loop:          {plain:7.2f} img/s   (rounds: {', '.join(f'{x:.2f}' for x in plains)})")
    print(f"  job (shared Trainer): {job:6.2f} img/s   (rounds: {', '.join(f'{x:.2f}' for x in jobs)})")
    print(f"  ratio job / plain: {job / plain:.3f}  (target >= 0.95)", flush=True)
    return job / plain


def run(model: str, painting: str, folder: Path, steps: int, stop_at_half: bool = False, **cfg):
    from studio.core.jobs import CancelToken, run_job
    from studio.models.csgan.finetune import FinetuneConfig, FinetuneJob

    times, style, cancel = [], [], CancelToken()

    def on_progress(p):
        if not p.losses:
            return
        times.append(p.elapsed_s)
        style.append(p.losses["style"])
        if stop_at_half and p.losses["style"] <= 0.5 * style[0]:
            cancel.cancel()

    job = FinetuneJob(
        model,
        painting,
        FinetuneConfig(steps=steps, preview_every=10**6, checkpoint_every=0, **cfg),
        out=f"bench-{time.time_ns()}",
        device="cpu",
        models_dir=folder / "models",
    )
    t0 = time.perf_counter()
    res = run_job(job, on_progress, cancel)
    if res.status == "failed":
        raise SystemExit(res.message + "\n" + res.outputs.get("traceback", ""))
    return times, style, time.perf_counter() - t0


def precision_section(model: str, painting: str, folder: Path, steps: int, rounds: int, batch: int = 16) -> None:
    """Issue 18: bf16 vs fp32 in one run, the default against the best plain loop, and the loss curves."""
    from studio.core.device import resolve_device
    from studio.train.precision import resolve_precision

    default = resolve_precision("auto", resolve_device("cpu"))
    per_step: dict[str, list[float]] = {"fp32": [], "bf16": []}
    plain: dict[str, list[float]] = {"fp32": [], "bf16": []}
    curves: dict[str, list[float]] = {}
    for r in range(rounds):
        for prec in ("fp32", "bf16") if r % 2 == 0 else ("bf16", "fp32"):
            times, style, _ = run(model, painting, folder, steps, batch=batch, precision=prec)
            per_step[prec].append((times[-1] - times[0]) / (len(times) - 1))
            curves[prec] = style
            plain[prec].append(batch / plain_rate(model, painting, steps, batch, precision=prec))
    _, curves["fp32 seed 1"], _ = run(model, painting, folder, steps, batch=batch, precision="fp32", seed=1)
    job = {k: statistics.median(v) for k, v in per_step.items()}
    bare = {k: statistics.median(v) for k, v in plain.items()}
    best = min(bare, key=bare.__getitem__)
    print(
        f"fp32 vs bf16 (batch {batch}, {steps} steps, {rounds} rounds alternating; "
        f"load average {os.getloadavg()[0]:.1f}):"
    )
    for k in ("fp32", "bf16"):
        print(f"  job {k}: {job[k]:6.2f} s/step   plain loop {k}: {bare[k]:6.2f} s/step")
    print(
        f"  bf16 / fp32 (job): {job['bf16'] / job['fp32']:.2f}  -> bf16 "
        f"{'faster' if job['bf16'] < job['fp32'] else 'SLOWER'}"
    )
    print(
        f"  share of best: job default ({default}) {job[default]:.2f} s/step vs best plain ({best}) "
        f"{bare[best]:.2f} s/step = {bare[best] / job[default]:.2f}"
    )

    def rel(a: list[float], b: list[float]) -> float:
        return max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b, strict=False))

    diff, noise = rel(curves["bf16"], curves["fp32"]), rel(curves["fp32 seed 1"], curves["fp32"])
    print("  style loss per step, fp32:        " + " ".join(f"{v:.4f}" for v in curves["fp32"]))
    print("  style loss per step, bf16:        " + " ".join(f"{v:.4f}" for v in curves["bf16"]))
    print("  style loss per step, fp32 seed 1: " + " ".join(f"{v:.4f}" for v in curves["fp32 seed 1"]))
    print(
        f"  bf16 vs fp32: max relative difference {diff:.4f}; seed-to-seed (fp32) {noise:.4f} -> "
        f"{'within noise' if diff < noise else 'OUTSIDE noise'}; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model")
    ap.add_argument("--painting")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=2, help="K for the last-K rows")
    ap.add_argument("--steps", type=int, default=4, help="timed steps per configuration (after 1 warm-up)")
    ap.add_argument("--half-max-steps", type=int, default=80)
    ap.add_argument("--ratio-only", action="store_true", help="only the job / plain loop ratio")
    ap.add_argument("--ratio-steps", type=int, default=8, help="steps per ratio run (timed: 2..N-1)")
    ap.add_argument("--ratio-batch", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the ratio (median)")
    ap.add_argument("--device", default="cpu", help="device of the ratio runs (cpu, cuda…); the table is CPU")
    ap.add_argument("--precision-only", action="store_true", help="only the fp32 vs bf16 section (issue 18)")
    ap.add_argument("--precision-steps", type=int, default=6, help="steps per run in the fp32 vs bf16 section")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    folder = Path(tempfile.mkdtemp(prefix="bench-finetune-"))
    os.environ.setdefault("STUDIO_HOME", str(folder / "home"))
    model, painting = parent_model(args.model, folder), painting_file(args.painting, folder)
    print(
        f"model {Path(model).name}, painting {Path(painting).name}, torch {torch.__version__}, "
        f"{args.threads} threads, load average {os.getloadavg()[0]:.1f}"
    )
    if args.precision_only:
        precision_section(model, painting, folder, max(3, args.precision_steps), max(1, args.rounds))
        return 0
    ratio(model, painting, folder, max(4, args.ratio_steps), args.ratio_batch, max(1, args.rounds), args.device)
    if args.ratio_only:
        return 0
    rows = {}
    for batch in (16, 32):
        for layers in (0, args.layers):
            for precision in ("fp32", "bf16"):
                if batch == 32 and precision == "bf16":
                    continue
                times, _, _ = run(
                    model, painting, folder, args.steps + 1, batch=batch, layers=layers, precision=precision
                )
                per_step = (times[-1] - times[0]) / (len(times) - 1)
                rows[(batch, layers, precision)] = per_step
                what = "whole" if layers == 0 else f"last {layers}"
                print(
                    f"batch {batch:>2}  {what:<7} {precision}: {per_step:6.2f} s/step "
                    f"({per_step / batch * 1000:5.0f} ms/image)",
                    flush=True,
                )
    k = args.layers
    print("ratios (measured above):")
    print(f"  last-{k} / whole, batch 16 fp32: {rows[(16, k, 'fp32')] / rows[(16, 0, 'fp32')]:.2f}")
    print(f"  last-{k} / whole, batch 32 fp32: {rows[(32, k, 'fp32')] / rows[(32, 0, 'fp32')]:.2f}")
    print(f"  bf16 / fp32, batch 16 whole:   {rows[(16, 0, 'bf16')] / rows[(16, 0, 'fp32')]:.2f}")
    print(f"  per-image batch 32 / batch 16: {rows[(32, 0, 'fp32')] / 2 / rows[(16, 0, 'fp32')]:.2f}")
    best = min(("fp32", "bf16"), key=lambda p: rows[(16, 0, p)])
    times, style, wall = run(model, painting, folder, args.half_max_steps, stop_at_half=True, batch=16, precision=best)
    half = next((i for i, s in enumerate(style) if s <= 0.5 * style[0]), None)
    if half is None:
        print(f"style loss {style[0]:.3f} -> {style[-1]:.3f} in {len(style)} steps ({times[-1]:.0f} s): not yet halved")
    else:
        print(
            f"style loss halved ({style[0]:.3f} -> {style[half]:.3f}) after {half + 1} steps, "
            f"{times[half]:.1f} s from job start ({best}, batch 16, whole generator)"
        )
    hundred = rows[(16, 0, best)] * 100
    print(f"targets: 100 steps at batch 16 ~ {hundred:.0f} s (target 180 s): {'met' if hundred <= 180 else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
