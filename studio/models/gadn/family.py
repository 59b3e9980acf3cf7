"""The GADN family: builds a :class:`GADNModel` from a checkpoint and offers the 'train' job."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from studio.core import argtypes
from studio.core.checkpoint import ModelCard
from studio.core.errors import CheckpointError
from studio.core.family import Family

from .config import GADNConfig, TrainConfig


class GADNFamily(Family):
    name = "gadn"
    title = "GADN (style × content)"
    description = (
        "Generative Adversarial Disentangling Network: any content drawn in any artist's style, "
        "artist blending and style transfer of your own images."
    )

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device):
        from .model import GADNModel

        try:
            cfg = GADNConfig.from_dict(card.config)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(card.name + ".json", f"the GADN config in the model card is invalid ({exc})") from exc
        artists = card.labels.get("artists") or []
        if len(artists) != cfg.num_artists:
            raise CheckpointError(
                card.name + ".json",
                f"the card lists {len(artists)} artists but the networks were built for {cfg.num_artists}",
            )
        return GADNModel(card, cfg, tensors, device)

    def jobs(self) -> dict[str, str]:
        from .jobs import JOBS

        return {"train": "train a GADN on a folder with one subfolder of images per artist", **JOBS}

    def add_job_arguments(self, name: str, parser: Any) -> None:
        from .jobs import JOBS, add_job_arguments

        if name in JOBS:  # encode (studio/models/gadn/jobs.py)
            return add_job_arguments(name, parser)
        if name != "train":
            return
        m, t = GADNConfig(), TrainConfig()
        parser.add_argument("--data", required=True, type=Path, help="folder with one subfolder per artist")
        parser.add_argument(
            "--out", help="model name (saved in your model folder; default gadn-DATA) or a path with a '/'"
        )
        parser.add_argument("--model-name", help="model name (default gadn-DATA)")
        parser.add_argument(
            "--max-per-artist", type=argtypes.nonneg_int, default=0, help="use at most N images per artist"
        )
        from studio.train import add_trainer_arguments

        # GADN's length is three numbers (--steps1, --steps-cls, --steps2): the shared --steps is refused
        add_trainer_arguments(parser, steps=None, batch=8, checkpoint_every=500, preview_every=100, kid_every=500)
        g = parser.add_argument_group("architecture")
        g.add_argument("--image-size", type=argtypes.int_range(8, 1024), default=m.image_size, help="64, 128 or 256")
        g.add_argument("--content-dim", type=argtypes.positive_int, default=m.content_dim)
        g.add_argument("--style-dim", type=argtypes.positive_int, default=m.style_dim)
        g.add_argument(
            "--content-grid",
            type=argtypes.nonneg_int,
            default=m.content_grid,
            help="0: the paper's content vector; N: the content code as an N×N map (--content-dim a multiple "
            "of N²), which keeps where features are (e.g. 8 with --content-dim 256)",
        )
        g.add_argument(
            "--style-film",
            action="store_true",
            default=m.style_film,
            help="with --content-grid: the style also scales and shifts every channel of G after the content "
            "map joins (FiLM), so it can restyle what the map carries",
        )
        g.add_argument("--base-channels", type=argtypes.positive_int, default=m.base_channels)
        g.add_argument("--fc-features", type=argtypes.positive_int, default=m.fc_features)
        g.add_argument(
            "--width",
            type=argtypes.float_range(0.01, 8.0),
            default=m.width,
            help="multiplies every channel count, 0.01–8",
        )
        s = parser.add_argument_group("schedule and losses (defaults: the authors')")
        s.add_argument("--steps1", type=argtypes.nonneg_int, default=t.steps1, help="stage 1 steps")
        s.add_argument(
            "--steps-cls", type=argtypes.nonneg_int, default=t.steps_cls, help="classifier pre-training steps"
        )
        s.add_argument("--steps2", type=argtypes.nonneg_int, default=t.steps2, help="stage 2 steps")
        s.add_argument(
            "--batch-cls",
            type=argtypes.positive_int,
            default=t.batch_cls,
            help=f"classifier pre-training batch (default {t.batch_cls}; --batch is stages 1 and 2)",
        )
        for field in (
            "lr1",
            "lr1_style",
            "lr_cls",
            "lr2",
            "lr2_style",
            "w_rec",
            "w_kl_content",
            "w_kl_style",
            "w_cls1",
            "w_content2",
            "w_cls2",
            "w_dis2",
        ):
            kind = argtypes.positive_float if field.startswith("lr") else argtypes.finite_float
            s.add_argument("--" + field.replace("_", "-"), type=kind, default=getattr(t, field))
        s.add_argument(
            "--w-paired",
            type=argtypes.nonneg_float,
            default=t.w_paired,
            help="not the paper's (default 0 = off): where two artists draw the same content (the same file "
            "name), stages 1 and 2 pull the content redrawn as the other artist towards that artist's own drawing",
        )
        s.add_argument(
            "--w-paired-code",
            type=argtypes.nonneg_float,
            default=t.w_paired_code,
            help="not the paper's (default 0 = off): stage 1 pulls E's codes of two artists' drawings of the "
            "same content together",
        )
        s.add_argument(
            "--holdout-contents",
            type=argtypes.float_range(0.0, 0.5),
            default=t.holdout_contents,
            help="leave this fraction of the contents (file names, every artist's drawing) out of training, "
            "so the evaluation can redraw contents the model never saw (default 0)",
        )
        s.add_argument(
            "--adversary1",
            choices=["auto", "likelihood", "unlikelihood"],
            default="auto",
            help="stage 1, E/G/S against C1: likelihood = maximise C1's -log p(a) (the paper, appendix C.2) or "
            f"unlikelihood = minimise -log(1-p(a)); auto (default): {t.adversary1} for a new run, the run's "
            "own form when resuming",
        )

    def make_job(self, name: str, /, **options: Any):
        from .jobs import JOBS, make_job

        if name in JOBS:  # encode (studio/models/gadn/jobs.py)
            return make_job(name, options)
        if name != "train":
            return super().make_job(name, **options)
        from .train import GADNTrainJob

        return GADNTrainJob(**options)
