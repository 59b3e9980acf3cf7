"""Training throughput of the translator jobs on the shared Trainer next to a plain-PyTorch loop of the
same networks.

    python bench/bench_train_translate.py [--sizes 64 128] [--steps 5] [--batch 2] [--device cpu]

For each family and size it builds the studio job (real folders of generated images, the shared
``studio.train.Trainer`` with data sampling from the run's RNG, device copies, precision hooks, the
NaN check, reporter and loss history; previews and checkpoints off) and a bare loop
(random tensors already on the device, zero_grad / forward / backward / step, same losses, same
networks), and prints images/s of both and their ratio, measured in the same run. The first step of
each is a warm-up and is not timed.

The machine this runs on may be shared, so the two loops alternate for ``--rounds`` rounds and each
reports its fastest step (the least disturbed one); the mean-based rate is printed too.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from studio.core.device import resolve_device
from studio.core.jobs import run_job
from studio.models.cyclegan.family import CycleGANFamily
from studio.models.cyclegan.networks import build_discriminator, build_generator, init_weights
from studio.models.ugatit.family import UGATITFamily
from studio.models.ugatit.networks import UGATITDiscriminator, UGATITGenerator, clip_rho


def make_folder(path: Path, n: int, size: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path / f"{i}.png")
    return path


def studio_steps(family, options: dict, steps: int, where: Path) -> list[float]:
    """Seconds of each timed step of the studio job (step 1 is the warm-up); a fresh run in ``where``."""
    job = family.make_job("train", **dict(options, run_dir=str(where / "run"), out=str(where / "model")))
    times: dict[int, float] = {}
    res = run_job(job, lambda p: times.__setitem__(p.step, time.perf_counter()) if p.losses else None)
    if not res.ok:
        raise SystemExit(res.message)
    return [times[k] - times[k - 1] for k in range(2, steps + 1)]


def plain_cyclegan(cfg, size: int, steps: int, batch: int, device) -> list[float]:
    torch.manual_seed(0)
    g_ab, g_ba, d_a, d_b = (
        build_generator(cfg),
        build_generator(cfg),
        build_discriminator(cfg),
        build_discriminator(cfg),
    )
    for n in (g_ab, g_ba, d_a, d_b):
        init_weights(n)
        n.to(device).train()
    betas = (cfg.beta1, cfg.beta2)
    opt_g = torch.optim.Adam(itertools.chain(g_ab.parameters(), g_ba.parameters()), cfg.lr, betas=betas)
    opt_da = torch.optim.Adam(d_a.parameters(), cfg.lr, betas=betas)
    opt_db = torch.optim.Adam(d_b.parameters(), cfg.lr, betas=betas)
    a = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    b = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    marks = []
    for _step in range(steps):
        opt_g.zero_grad()
        fb, fa = g_ab(a), g_ba(b)
        pb, pa = d_b(fb), d_a(fa)
        loss = (
            F.mse_loss(pb, torch.ones_like(pb))
            + F.mse_loss(pa, torch.ones_like(pa))
            + cfg.lambda_cycle * (F.l1_loss(g_ba(fb), a) + F.l1_loss(g_ab(fa), b))
        )
        loss.backward()
        opt_g.step()
        for d, opt, real, fake in ((d_a, opt_da, a, fa), (d_b, opt_db, b, fb)):
            opt.zero_grad()
            pr, pf = d(real), d(fake.detach())
            (F.mse_loss(pr, torch.ones_like(pr)) + F.mse_loss(pf, torch.zeros_like(pf))).backward()
            opt.step()
        loss.item()  # sync, as the studio loop reads its losses
        marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks, marks[1:])]


def plain_ugatit(cfg, size: int, steps: int, batch: int, device) -> list[float]:
    torch.manual_seed(0)
    g_ab, g_ba = UGATITGenerator(cfg).to(device), UGATITGenerator(cfg).to(device)
    ds = [UGATITDiscriminator(cfg.ndf, n).to(device) for n in (cfg.global_layers, cfg.local_layers) * 2]
    kw = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    opt_g = torch.optim.Adam(itertools.chain(g_ab.parameters(), g_ba.parameters()), **kw)
    opt_d = torch.optim.Adam(itertools.chain(*(d.parameters() for d in ds)), **kw)
    a = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    b = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    mse = lambda p, t: F.mse_loss(p, torch.full_like(p, t))  # noqa: E731
    bce = lambda p, t: F.binary_cross_entropy_with_logits(p, torch.full_like(p, t))  # noqa: E731
    marks = []
    for _step in range(steps):
        opt_d.zero_grad()
        with torch.no_grad():
            fb, fa = g_ab(a)[0], g_ba(b)[0]
        ld = 0
        for d, real, fake in zip(ds, (a, a, b, b), (fa, fa, fb, fb)):
            rl, rc, _ = d(real)
            fl, fc, _ = d(fake)
            ld = ld + mse(rl, 1) + mse(fl, 0) + mse(rc, 1) + mse(fc, 0)
        ld.backward()
        opt_d.step()
        opt_g.zero_grad()
        fb, cab, _ = g_ab(a)
        fa, cba, _ = g_ba(b)
        ia, caa, _ = g_ba(a)
        ib, cbb, _ = g_ab(b)
        adv = 0
        for d, fake in zip(ds, (fa, fa, fb, fb)):
            fl, fc, _ = d(fake)
            adv = adv + mse(fl, 1) + mse(fc, 1)
        lg = (
            adv
            + 10 * (F.l1_loss(g_ba(fb)[0], a) + F.l1_loss(g_ab(fa)[0], b))
            + 10 * (F.l1_loss(ia, a) + F.l1_loss(ib, b))
            + 1000 * (bce(cba, 1) + bce(caa, 0) + bce(cab, 1) + bce(cbb, 0))
        )
        lg.backward()
        opt_g.step()
        clip_rho(g_ab)
        clip_rho(g_ba)
        lg.item()
        marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks, marks[1:])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--steps", type=int, default=5, help="timed steps + 1 warm-up")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of studio and plain loops")
    ap.add_argument("--families", nargs="+", default=["cyclegan", "ugatit"])
    ap.add_argument("--cg-channels", type=int, default=32, help="DnCNN width (the bundled model uses 32)")
    ap.add_argument("--ug-ngf", type=int, default=32, help="U-GAT-IT width (light mode)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(
        f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"batch {args.batch}, {args.steps - 1} timed steps"
    )
    print(
        f"{'family':<10}{'size':>6}{'studio img/s':>14}{'plain img/s':>13}{'ratio':>8}"
        f"{'(mean) studio':>15}{'plain':>8}{'ratio':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for size in args.sizes:
            a = make_folder(root / f"a{size}", 8, size + size // 8, 1)
            b = make_folder(root / f"b{size}", 8, size + size // 8, 2)
            common = dict(
                a=str(a),
                b=str(b),
                size=size,
                steps=args.steps,
                batch=args.batch,
                device=args.device,
                preview_every=0,
                checkpoint_every=0,
                kid_every=0,
                threads=args.threads,
                command="bench",
            )
            for fam in args.families:
                if fam == "cyclegan":
                    family = CycleGANFamily()
                    opts = dict(common, channels=args.cg_channels, d_strides=[2, 2, 2, 1, 1])
                    plain_fn = plain_cyclegan
                else:
                    family = UGATITFamily()
                    opts = dict(common, ngf=args.ug_ngf, ndf=args.ug_ngf, light=True)
                    plain_fn = plain_ugatit
                cfg = family.make_job("train", **opts).task.cfg
                ours_t: list[float] = []
                plain_t: list[float] = []
                for r in range(max(1, args.rounds)):
                    ours_t += studio_steps(family, opts, args.steps, root / f"{fam}{size}-{r}")
                    plain_t += plain_fn(cfg, size, args.steps, args.batch, device)
                best_o, best_p = args.batch / min(ours_t), args.batch / min(plain_t)
                mean_o, mean_p = args.batch / np.mean(ours_t), args.batch / np.mean(plain_t)
                print(
                    f"{fam:<10}{size:>6}{best_o:>14.2f}{best_p:>13.2f}{best_o / best_p:>8.2f}"
                    f"{mean_o:>15.2f}{mean_p:>8.2f}{mean_o / mean_p:>8.2f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
