"""Registers CAN with the studio (entry point ``can = "studio.models.can.family:CANFamily"``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from studio.core import argtypes
from studio.core.checkpoint import ModelCard, load_module_tensors
from studio.core.errors import CheckpointError, StudioError
from studio.core.family import Family
from studio.models.projected import INPUT_SIZES

from .config import ARCHES, DISCRIMINATORS, OUTPUT_MAPS, CANConfig, TrainConfig
from .losses import AMBIGUITY_FORMS


class CANFamily(Family):
    name = "can"
    title = "CAN — Creative Adversarial Network"
    description = (
        "A GAN whose discriminator also learns styles, and whose generator is rewarded for images "
        "that look real but fit no single style (Elgammal et al. 2017)."
    )

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device):
        from .model import CANModel
        from .networks import build_networks

        try:
            cfg = CANConfig.from_dict(card.config)
        except (StudioError, TypeError) as exc:
            raise CheckpointError(card.name + ".json", f"the CAN config in the card is invalid ({exc})") from exc
        g, d = build_networks(cfg)
        load_module_tensors("G", g, tensors, card.name)
        load_module_tensors("D", d, tensors, card.name)
        pca = None
        if "pca.directions" in tensors and "pca.stds" in tensors:
            pca = (tensors["pca.directions"].float().cpu(), tensors["pca.stds"].float().cpu())
        idx_img, idx_lab = tensors.get("index.images"), tensors.get("index.labels")
        if idx_img is not None and (
            idx_lab is None or idx_lab.shape[0] != idx_img.shape[0] or idx_img.dtype != torch.uint8
        ):
            raise CheckpointError(card.name, "the stored training-image index is damaged")
        return CANModel(
            card, device, g.float(), d.float(), idx_img, idx_lab.long() if idx_lab is not None else None, pca
        )

    def jobs(self) -> dict[str, str]:
        from .jobs import JOBS

        return {"train": "train a CAN on a folder with one subfolder of images per style", **JOBS}

    def add_job_arguments(self, name: str, parser: Any) -> None:
        from .jobs import JOBS, add_job_arguments

        if name in JOBS:  # steer, sort (studio/models/can/jobs.py)
            return add_job_arguments(name, parser)
        if name != "train":
            raise KeyError(f"family 'can' has no job '{name}'")
        t, c = TrainConfig(), CANConfig()
        p = parser
        p.add_argument("--data", required=True, help="folder with one subfolder of images per style")
        p.add_argument("--name", dest="model_name", default="can", help="model name (default: can)")
        p.add_argument(
            "--out", default=None, help="model name (saved in your model folder; default: --name) or a path with a '/'"
        )
        from studio.train import add_trainer_arguments

        # --steps counts discriminator steps; --run-dir defaults to runs/NAME
        add_trainer_arguments(p, steps=2000, batch=64, checkpoint_every=200, preview_every=50, kid_every=500)
        p.add_argument(
            "--ratio", type=argtypes.positive_int, default=t.ratio, help="generator updates per discriminator update"
        )
        p.add_argument("--lr-g", type=argtypes.positive_float, default=t.lr_g)
        p.add_argument("--lr-d", type=argtypes.positive_float, default=t.lr_d)
        p.add_argument("--ambiguity-weight", type=argtypes.nonneg_float, default=t.ambiguity_weight)
        p.add_argument(
            "--ambiguity",
            choices=("auto", *AMBIGUITY_FORMS),
            default="auto",
            help="style-ambiguity loss: sigmoid-eq3 (the report's eq. 3 with per-class sigmoid style outputs) "
            "or softmax-ce (cross-entropy of a softmax posterior to the uniform one); auto (default): "
            "sigmoid-eq3 for a new run, the run's own form when resuming",
        )
        p.add_argument(
            "--augment",
            default=t.augment,
            metavar="POLICY",
            help="DiffAugment of D's inputs against D takeover on small data: a comma list of "
            "translation, cutout, color (default none; colour is a style cue, avoid it)",
        )
        p.add_argument(
            "--discriminator",
            choices=DISCRIMINATORS,
            default=t.discriminator,
            help="real/fake judge: plain (the report's D head, BCE) or projected (Sauer et al. 2021: frozen "
            "EfficientNet-Lite0 features, random projections, hinge loss, DiffAugment); D's style head stays",
        )
        p.add_argument(
            "--projected-input",
            dest="projected_input",
            choices=tuple(INPUT_SIZES),
            default=t.projected_input,
            help="what the projected D's frozen network sees: 224 (images upsampled, the paper's code) or native "
            "(each image at its own size; about 2.6x cheaper at 128 px)",
        )
        p.add_argument(
            "--arch",
            choices=ARCHES,
            default=c.arch,
            help="report (UCLA), dcgan (deeper, for GPUs) or fastgan (csgan's FastGAN generator, 128/256 px)",
        )
        p.add_argument(
            "--init-generator",
            dest="init_generator",
            metavar="MODEL",
            default="",
            help="(--arch fastgan) start the generator from this trained csgan FastGAN model of the same size, "
            "width and latent size, e.g. openclipart-fastgan; the discriminator starts fresh",
        )
        p.add_argument("--image-size", type=argtypes.int_range(16, 1024), default=c.image_size)
        p.add_argument(
            "--width", type=argtypes.float_range(0.01, 8.0), default=c.width, help="channel multiplier, 0.01–8"
        )
        p.add_argument(
            "--latent-dim",
            dest="latent_dim",
            type=argtypes.positive_int,
            default=c.latent_dim,
            help="size of the latent code z (default 100, the report's; 256 to start from a csgan FastGAN)",
        )
        p.add_argument(
            "--fc-dim", type=argtypes.positive_int, default=c.fc_dim, help="width of the fully connected layers"
        )
        p.add_argument(
            "--kernel", type=argtypes.positive_int, default=c.kernel, help="discriminator conv kernel size (odd)"
        )
        p.add_argument("--output-map", choices=OUTPUT_MAPS, default=c.output_map)
        p.add_argument(
            "--holdout",
            type=argtypes.float_range(0.0, 1.0, hi_open=True),
            default=t.holdout,
            help="fraction of each style kept for evaluation",
        )
        p.add_argument("--max-per-style", type=argtypes.nonneg_int, default=0)
        p.add_argument(
            "--index-size",
            type=argtypes.nonneg_int,
            default=t.index_size,
            help="training images stored with the model for 'nearest training images'",
        )
        p.add_argument("--half", action="store_true", help="store weights as float16 (half the file size)")
        p.add_argument("--licence", default="", help="licence of the data (default: read DATA/LICENCE.txt)")

    def make_job(self, job_name: str, /, **options: Any):
        from .jobs import JOBS, make_job

        if job_name in JOBS:  # steer, sort (studio/models/can/jobs.py)
            return make_job(job_name, options)
        if job_name != "train":
            raise KeyError(f"family 'can' has no job '{job_name}'")
        from .train import CANTrainJob

        options = {k.replace("-", "_"): v for k, v in options.items()}
        if not options.get("data"):
            raise StudioError("training a CAN needs --data DIR (one subfolder of images per style)")
        if "model_name" in options:  # the CLI's --name (its dest avoids make_job's positional argument)
            options.setdefault("name", options.pop("model_name"))
        return CANTrainJob(**options)
