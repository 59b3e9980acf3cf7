#!/usr/bin/env python3
"""Judge style fine-tunes: each child's Gram style distance to its painting, against two baselines.

For every painting it fine-tunes the parent once per variant (a named set of FinetuneConfig settings;
children are cached in --models-dir and reused), renders the same seeds from the parent, from a
colour-statistics transfer of the parent's samples and from each child, and prints one table.

The judge differs from the training loss: VGG-19 Gram matrices of relu1_2, relu2_2, relu3_4 and relu4_4
(the training loss uses relu1_1 … relu4_1), relative error ||G − A||² / ||A||² per layer, mean over layers
and over the rendered images. Everything is compared at equal sizes (the generator's size, e.g. 64 px):
the painting is seen (a) whole, its shorter side resized to that size, (b) as random crops with one
painting pixel per generated pixel ("x1"), (c) as crops two painting pixels per generated pixel ("x2");
judge crops use another seed than training crops. "mean" averages the three.

Content ("id"): the share of child images whose nearest parent sample (cosine of mean-centred VGG relu3_4
maps, so a palette shift alone does not count) is the one with the same seed — 1.0 = each face is still its
own face, 1/N = the content is gone (e.g. every sample became the same texture).

Colour transfer: each parent sample's per-channel mean / std moved to the painting's, in Lab (Reinhard
et al. 2001) and in RGB; the table keeps the better (lower) of the two, so the baseline is the strongest.

Usage:
  python scripts/eval_finetune_style.py [--model emoji-dcgan] [--steps 100] [--batch 8] [--threads 1]
      [--variant 'old style_target=whole'] [--variant 'new'] [--paintings P.png ...] [--json out.json]
A variant is 'NAME KEY=VALUE ...' (FinetuneConfig fields; NAME alone = today's defaults).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

JUDGE_LAYERS = ("relu1_2", "relu2_2", "relu3_4", "relu4_4")
JUDGE_SCALES = ("whole", "x1", "x2")
JUDGE_SEED = 1234
OLD = "old style_target=whole style_weight=1 content_weight=1 tv_weight=10 lr=1e-4 layers=0"


# ------------------------------------------------------------------------------------------ colour
def _srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    return torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    c = c.clamp(0, 1)
    return torch.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


_M = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])


def rgb_to_lab(x: torch.Tensor) -> torch.Tensor:
    """[N,3,H,W] sRGB in [0,1] -> CIE Lab (D65)."""
    xyz = torch.einsum("ij,njhw->nihw", _M, _srgb_to_linear(x)) / _WHITE.view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], 1)
    xyz = torch.where(f > 0.2069, f**3, (f - 16 / 116) / 7.787) * _WHITE.view(1, 3, 1, 1)
    return _linear_to_srgb(torch.einsum("ij,njhw->nihw", torch.linalg.inv(_M), xyz))


def colour_transfer(images: torch.Tensor, painting: torch.Tensor, space: str) -> torch.Tensor:
    """Move each image's per-channel mean/std to the painting's (space 'lab' = Reinhard, or 'rgb')."""
    to, back = (rgb_to_lab, lab_to_rgb) if space == "lab" else (lambda t: t, lambda t: t.clamp(0, 1))
    src, ref = to(images), to(painting)
    mu, sd = src.mean((2, 3), keepdim=True), src.std((2, 3), keepdim=True).clamp_min(1e-4)
    rmu, rsd = ref.mean((2, 3), keepdim=True), ref.std((2, 3), keepdim=True)
    return back((src - mu) / sd * rsd + rmu).clamp(0, 1)


# ------------------------------------------------------------------------------------------- judge
class Judge:
    """VGG-19 Gram distance on layers the fine-tune does not train with, at three painting scales."""

    def __init__(self, size: int):
        from studio.losses.vgg import load_vgg19

        self.size = size
        self.net = load_vgg19("cpu", "max", JUDGE_LAYERS[-1])

    @torch.no_grad()
    def grams(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        from studio.losses.gram import gram_matrix

        out: dict[str, list[torch.Tensor]] = {k: [] for k in JUDGE_LAYERS}
        for i in range(0, images.shape[0], 16):
            feats = self.net(images[i : i + 16], JUDGE_LAYERS)
            for k in JUDGE_LAYERS:
                out[k].append(gram_matrix(feats[k]))
        return {k: torch.cat(v) for k, v in out.items()}

    def targets(self, native: torch.Tensor, crops: int = 64) -> dict[str, dict[str, torch.Tensor]]:
        from studio.losses.style_targets import crop_side, random_crops, whole_image

        rng = torch.Generator().manual_seed(JUDGE_SEED)
        _, _, h, w = native.shape
        views = {
            "whole": whole_image(native, self.size),
            "x1": random_crops(native, crop_side(1, self.size, h, w), crops, self.size, rng)[0],
            "x2": random_crops(native, crop_side(2, self.size, h, w), crops, self.size, rng)[0],
        }
        return {s: {k: g.mean(0) for k, g in self.grams(v).items()} for s, v in views.items()}

    @torch.no_grad()
    def identity(self, images: torch.Tensor, parent: torch.Tensor) -> float:
        """Share of images whose nearest parent sample (cosine of centred relu3_4 maps) is their own seed:
        1 = every face is still its own face, 1/N = the content is gone (all alike, or scrambled)."""

        def embed(x: torch.Tensor) -> torch.Tensor:
            f = torch.cat([self.net(x[i : i + 16], ["relu3_4"])["relu3_4"] for i in range(0, x.shape[0], 16)])
            f = f - f.mean((2, 3), keepdim=True)  # per-channel means off: a colour shift is not a new face
            return torch.nn.functional.normalize(f.flatten(1), dim=1)

        sim = embed(images) @ embed(parent).T
        return float((sim.argmax(1) == torch.arange(images.shape[0])).float().mean())

    def distance(self, images: torch.Tensor, targets: dict[str, dict[str, torch.Tensor]]) -> dict[str, float]:
        from studio.losses.gram import style_distance

        g = self.grams(images)
        out = {
            s: sum(float(style_distance(g[k], t[k])) for k in JUDGE_LAYERS) / len(JUDGE_LAYERS)
            for s, t in targets.items()
        }
        out["mean"] = sum(out[s] for s in JUDGE_SCALES) / len(JUDGE_SCALES)
        return out


# -------------------------------------------------------------------------------------- fine-tunes
def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, *pairs = text.split()
    return name, dict(p.split("=", 1) for p in pairs)


def finetune(model: str, painting: Path, name: str, settings: dict[str, str], args) -> Path:
    """The child of ``model`` on ``painting`` with ``settings`` (cached by name in --models-dir)."""
    from studio.cli.progress import run_quietly
    from studio.models.csgan.finetune import FinetuneConfig, FinetuneJob

    out = f"{painting.stem}-{name}-s{args.steps}b{args.batch}"
    card = args.models_dir / f"{out}.json"
    if card.exists():
        return card
    defaults = FinetuneConfig()
    typed = {
        k: type(getattr(defaults, k))(v) if not isinstance(getattr(defaults, k), tuple) else v
        for k, v in settings.items()
    }
    cfg = FinetuneConfig(**{**typed, "steps": args.steps, "batch": args.batch})
    t0 = time.perf_counter()
    result = run_quietly(
        FinetuneJob(
            model, painting, cfg, out=out, device="cpu", threads=args.threads, models_dir=args.models_dir, force=True
        )
    )
    if not result.outputs.get("card"):
        raise SystemExit(f"fine-tune {out} failed: {result.outputs}")
    print(f"  fine-tuned {out} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return card


@torch.no_grad()
def render(card_or_id: str | Path, seeds: int) -> torch.Tensor:
    from studio.core.store import ModelStore, load_model

    path = ModelStore().resolve(str(card_or_id)) if not str(card_or_id).endswith(".json") else Path(card_or_id)
    model = load_model(path, "cpu")
    states = [model.default_state(Path(path).stem, s) for s in range(seeds)]
    return model.render(states).float().clamp(0, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="emoji-dcgan")
    ap.add_argument("--paintings", nargs="*", type=Path, default=None, help="default: data/paintings/*.png")
    ap.add_argument("--variant", action="append", default=None, help="'NAME KEY=VALUE ...' (repeatable)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=32, help="rendered images per model")
    ap.add_argument("--models-dir", type=Path, default=ROOT / "runs" / "eval-finetune-style")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--judge-only", action="store_true", help="only parent and colour transfer (no fine-tunes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from studio.core.checkpoint import read_card
    from studio.losses.style_targets import load_native

    paintings = args.paintings or sorted((ROOT / "data" / "paintings").glob("*.png"))
    variants = [] if args.judge_only else [parse_variant(v) for v in (args.variant or [OLD, "new"])]
    args.models_dir.mkdir(parents=True, exist_ok=True)
    parent = render(args.model, args.seeds)
    judge = Judge(parent.shape[-1])
    rows = []
    for painting in paintings:
        native = load_native(painting)
        targets = judge.targets(native)
        row: dict = {"painting": painting.stem, "parent": judge.distance(parent, targets)}
        lab, rgb = (judge.distance(colour_transfer(parent, native, s), targets) for s in ("lab", "rgb"))
        row["colour"] = lab if lab["mean"] <= rgb["mean"] else rgb
        row["colour_space"] = "lab" if lab["mean"] <= rgb["mean"] else "rgb"
        for name, settings in variants:
            card = finetune(args.model, painting, name, settings, args)
            c = read_card(card)
            child = render(card, args.seeds)
            row[name] = judge.distance(child, targets)
            row[name]["identity"] = judge.identity(child, parent)
            row[name + "_train"] = {
                "style_start": c.metrics.get("style_loss_start"),
                "style_end": c.metrics.get("style_loss_end"),
                "wall_time_s": c.training.wall_time_s,
            }
        rows.append(row)
        cells = [f"{row[k]['mean']:.3f}" for k in ["parent", "colour"] + [n for n, _ in variants]]
        cells += [f"id={row[n]['identity']:.2f}" for n, _ in variants]
        print(f"{painting.stem:<50} " + " ".join(cells), file=sys.stderr, flush=True)

    names = [n for n, _ in variants]
    print(
        f"\njudge: VGG-19 Gram {', '.join(JUDGE_LAYERS)}, {args.seeds} images at {judge.size} px; cells = mean over "
        f"{'/'.join(JUDGE_SCALES)} (each in brackets); model {args.model}, {args.steps} steps, batch {args.batch}\n"
    )
    print(
        "| painting | parent | colour transfer | "
        + " | ".join(f"child {n}" for n in names)
        + " | "
        + " | ".join(f"{n}/parent | {n}/colour" for n in names)
        + " |"
    )
    print("|---" * (3 + 3 * len(names)) + "|")
    for r in rows:

        def cell(d):
            ident = f" id {d['identity']:.2f}" if "identity" in d else ""
            return f"{d['mean']:.3f} ({'/'.join(f'{d[s]:.2f}' for s in JUDGE_SCALES)}){ident}"

        ratios = " | ".join(
            f"{r[n]['mean'] / r['parent']['mean']:.2f} | {r[n]['mean'] / r['colour']['mean']:.2f}" for n in names
        )
        print(
            f"| {r['painting']} | {cell(r['parent'])} | {cell(r['colour'])} {r['colour_space']} | "
            + " | ".join(cell(r[n]) for n in names)
            + (f" | {ratios}" if names else "")
            + " |"
        )
    for n in names:
        ok_c = sum(r[n]["mean"] < r["colour"]["mean"] for r in rows)
        ok_p = sum(r[n]["mean"] < 0.5 * r["parent"]["mean"] for r in rows)
        print(f"\n{n}: below colour transfer for {ok_c}/{len(rows)}, below 0.5x parent for {ok_p}/{len(rows)}")
    if args.json:
        args.json.write_text(json.dumps({"variants": dict(variants), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
