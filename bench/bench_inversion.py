"""GAN inversion on this CPU: time until the reconstruction is within 10 % of its final loss.

    python bench/bench_inversion.py [--model emoji-dcgan] [--steps 150] [--starts 64] [--threads 1]

Runs :class:`studio.models.invert.InvertJob` (the job behind ``studio invert`` and the window's drop) on
two pictures: one the model rendered itself from a seed that is not among the starts, and a real
photograph (tests/data/chelsea-96.jpg). For each it prints the time to load VGG-19 and score the
starts, the time (from the job's start) at which the best loss first came within 10 % of the final
best loss, the total time, and the quality of the start and of the result (LPIPS-style VGG distance,
PSNR). The load average is printed alongside: the machine is shared, so only same-run numbers compare.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "tests" / "data" / "chelsea-96.jpg"


def run_one(model, model_id: str, image, label: str, steps: int, starts: int) -> None:
    from studio.core.jobs import run_job
    from studio.models.invert import InvertJob

    times: list[tuple[int, float, float]] = []  # (step, elapsed s, best loss)
    first_step_at: list[float] = []

    def seen(p) -> None:
        if "best" in p.losses:
            if not first_step_at:
                first_step_at.append(p.elapsed_s)
            times.append((p.step, p.elapsed_s, p.losses["best"]))

    t0 = time.perf_counter()
    result = run_job(InvertJob(model, image, steps=steps, starts=starts, model_id=model_id, device="cpu"), seen)
    total = time.perf_counter() - t0
    if not result.ok:
        print(f"{label}: {result.message}")
        return
    final = times[-1][2]
    within = next((s, t) for s, t, b in times if b - final <= 0.10 * abs(final))
    out = result.outputs
    per_step = (times[-1][1] - times[0][1]) / max(1, len(times) - 1)
    print(
        f"{label:<22} start: {out['start']:<9} set-up (VGG + {starts} starts) {first_step_at[0]:5.1f} s, "
        f"{per_step * 1000:4.0f} ms/step\n"
        f"{'':<22} within 10 % of the final loss at step {within[0]}/{steps}: {within[1]:5.1f} s "
        f"(total {total:5.1f} s)\n"
        f"{'':<22} VGG distance {out['start_vgg_distance']:.3f} -> {out['vgg_distance']:.3f}, "
        f"PSNR {out['start_psnr']:.1f} -> {out['psnr']:.1f} dB"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="emoji-dcgan")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--starts", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=4242, help="seed of the self-rendered picture")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from studio.core.store import ModelStore, load_model

    model = load_model(ModelStore().resolve(args.model), device="cpu")
    print(
        f"{args.model} ({model.card.family}, {model.image_size} px), {args.steps} steps, {args.starts} starts, "
        f"{args.threads} thread(s), torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}"
    )
    own = (model.render([model.default_state(args.model, args.seed)])[0] * 255).round() / 255
    run_one(model, args.model, own, f"its own seed {args.seed}", args.steps, args.starts)
    run_one(model, args.model, PHOTO, "a photo (chelsea-96)", args.steps, args.starts)
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
