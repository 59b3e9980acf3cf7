"""How style-ambiguous are a CAN's samples, next to other generators' samples and real images, all judged by
the same style head (the CAN's own)?

    python scripts/can_style_entropy.py CAN_MODEL [OTHER_MODEL ...] [--real DIR] [--n 512]

Why: a CAN's card reports the entropy of its samples and of held-out real images under its style head, but
not whether the style-ambiguity term did anything beyond what any generator of that data would score. A
CAN started from a content GAN (``--init-generator``) has the natural baseline: the content GAN's samples,
judged by the same head. Prints the mean entropy (nats; log K = no style at all) and the share of samples
whose most likely style has under 50 % probability, for each.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch


def _summary(name: str, posteriors: np.ndarray) -> str:
    p = np.clip(posteriors, 1e-12, 1.0)
    ent = float((-(p * np.log(p)).sum(1)).mean())
    unsure = float((posteriors.max(1) < 0.5).mean())
    return f"{name:<40} {ent:7.3f} {unsure:10.1%} {len(posteriors):6d}"


def _samples(model, model_id: str, n: int) -> torch.Tensor:
    states = [model.default_state(model_id, seed) for seed in range(n)]
    return torch.cat([model.render(states[i : i + 64]) for i in range(0, n, 64)]).clamp(0, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("can", help="the CAN model (id or card path) whose style head judges")
    ap.add_argument("others", nargs="*", help="other generators (ids or card paths) to judge the samples of")
    ap.add_argument("--real", type=Path, help="a folder of real images (e.g. the training data), judged too")
    ap.add_argument("--n", type=int, default=512, help="samples (seeds 0..n-1) and real images per row")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from studio.core.errors import StudioError
    from studio.core.store import ModelStore, load_model
    from studio.models.can.model import CANModel

    try:
        store = ModelStore()
        can_path = store.resolve(args.can)
        can = load_model(can_path, "cpu")
        if not isinstance(can, CANModel):
            raise StudioError(f"{args.can}: not a CAN model (only a CAN has a style head)")
        k = len(can.styles)
        print(f"judged by the style head of {can_path.stem} ({k} styles, log K = {math.log(k):.3f})")
        print(f"{'images':<40} {'entropy':>7} {'top < 50%':>10} {'n':>6}")
        print(_summary(f"{can_path.stem} samples", can.posterior_of_images(_samples(can, can_path.stem, args.n))))
        for other in args.others:
            path = store.resolve(other)
            model = load_model(path, "cpu")
            print(_summary(f"{path.stem} samples", can.posterior_of_images(_samples(model, path.stem, args.n))))
        if args.real:
            from studio.models.translate_eval import load_images

            _, images = load_images(args.real, can.image_size, args.n, spread=True)
            print(_summary(f"real: {args.real}", can.posterior_of_images(images)))
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
