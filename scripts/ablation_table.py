"""The table and KID curves of scripts/ablate_gan_options.sh: one row per variant (steps and wall time in
the same budget, final FID / KID / precision / recall / coverage on MobileNetV2, FID over the data's own
split-half FID), and one plot of the training KID of every variant against wall time, on shared axes.

    python scripts/ablation_table.py runs/ablate [--png docs/images/ablation-kid.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from studio.metrics.curves import loss_history  # noqa: E402

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207)]


def load_runs(root: Path) -> list[dict]:
    runs = []
    for card_path in sorted(root.glob("*/model/*.json")):
        card = json.loads(card_path.read_text())
        ev = (card.get("metrics") or {}).get("evaluation", {}).get("mobilenet_v2")
        t = card.get("training") or {}
        history = loss_history(card.get("extra"))
        kid = next((v for k, v in history.items() if k.startswith("kid")), ([], []))
        runs.append(
            {
                "name": card_path.parent.parent.name,
                "steps": int(t.get("steps") or 0),
                "minutes": float(t.get("wall_time_s") or 0) / 60,
                "eval": ev,
                "kid_curve": kid,
            }
        )
    return runs


def table(runs: list[dict]) -> str:
    lines = [
        "| variant | steps | minutes | FID | FID / split-half floor | at the floor's sample counts | KID×10³ | "
        "precision | recall | coverage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        e = r["eval"]
        if not e:
            lines.append(f"| {r['name']} | {r['steps']} | {r['minutes']:.1f} | not evaluated | | | | | | |")
            continue
        floor = e.get("reference_half_fid") or float("nan")
        matched = e.get("fid_matched_half")  # cards scored before session 19 lack it
        at_floor_counts = "–" if matched is None else f"{matched:.1f} ({matched / floor:.2f}×)"
        lines.append(
            f"| {r['name']} | {r['steps']} | {r['minutes']:.1f} | {e['fid']:.1f} | {e['fid'] / floor:.2f} "
            f"(floor {floor:.1f}) | {at_floor_counts} | {e['kid'] * 1000:.0f} ± {e['kid_std'] * 1000:.0f} | "
            f"{e['precision']:.3f} | {e['recall']:.3f} | {e['coverage']:.3f} |"
        )
    return "\n".join(lines)


def plot(runs: list[dict], path: Path, width: int = 720, height: int = 360) -> None:
    """Training KID (MobileNetV2, --kid-samples per point) against wall-clock minutes, every variant on one
    axes."""
    curves = []
    for r in runs:
        steps, kids = r["kid_curve"]
        if len(steps) < 2 or not r["steps"]:
            continue
        per_step = r["minutes"] / r["steps"]
        curves.append((r["name"], [s * per_step for s in steps], kids))
    if not curves:
        return
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    left, top, right, bottom = 60, 20, width - 170, height - 40
    x1 = max(max(xs) for _, xs, _ in curves)
    lo = 0.0
    hi = max(max(ys) for _, _, ys in curves)
    draw.rectangle([left, top, right, bottom], outline=(160, 160, 160))
    for i in range(5):
        y = lo + (hi - lo) * i / 4
        py = bottom - (y - lo) / (hi - lo) * (bottom - top)
        draw.line([(left - 4, py), (left, py)], fill=(120, 120, 120))
        draw.text((6, py - 6), f"{y:.3f}", fill=(60, 60, 60))
    for i in range(5):
        x = x1 * i / 4
        px = left + x / x1 * (right - left)
        draw.line([(px, bottom), (px, bottom + 4)], fill=(120, 120, 120))
        draw.text((px - 8, bottom + 8), f"{x:.0f}", fill=(60, 60, 60))
    draw.text((left + (right - left) // 2 - 60, height - 16), "wall-clock minutes", fill=(0, 0, 0))
    draw.text((left, 4), "training KID (MobileNetV2; lower is better)", fill=(0, 0, 0))
    for k, (name, xs, ys) in enumerate(curves):
        colour = COLOURS[k % len(COLOURS)]
        pts = [(left + x / x1 * (right - left), bottom - (y - lo) / (hi - lo) * (bottom - top)) for x, y in zip(xs, ys)]
        draw.line(pts, fill=colour, width=2)
        draw.line([(right + 12, top + 10 + 18 * k), (right + 32, top + 10 + 18 * k)], fill=colour, width=3)
        draw.text((right + 38, top + 4 + 18 * k), name, fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--png", type=Path, default=None, help="write the KID curves here")
    args = ap.parse_args(argv)
    runs = load_runs(args.root)
    if not runs:
        print(f"no runs under {args.root}", file=sys.stderr)
        return 2
    print(table(runs))
    if args.png:
        plot(runs, args.png)
        print(f"curves: {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
