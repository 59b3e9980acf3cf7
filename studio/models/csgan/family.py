"""CSGAN as a studio family: load a generator checkpoint, render states, offer the 'train' job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from studio.core import argtypes
from studio.core.checkpoint import CheckpointError, ModelCard, load_module_tensors
from studio.core.family import Family, LatentModel
from studio.core.fastnet import net_pixels
from studio.models.projected import INPUT_SIZES

from .networks import ARCHS, CSGANConfig, Generator


class CSGANModel(LatentModel):
    """A trained CSGAN generator; sliders come from the GANSpace directions stored in the checkpoint.

    ``render_dtype`` may be set to ``torch.bfloat16`` for faster CPU batches (see
    bench/bench_train_csgan.py for the measured speed and max abs difference); float32 is the default.
    """

    render_networks = ("generator",)  # run by studio.core.fastnet in the window (bf16, frozen)

    def __init__(
        self,
        card: ModelCard,
        device: torch.device,
        generator: Generator,
        directions: torch.Tensor | None,
        stds: torch.Tensor | None,
    ):
        super().__init__(card, device)
        self.generator = generator.to(device).eval()
        self.latent_dim = generator.config.latent_dim
        self.pca_directions = directions
        self.pca_stds = stds
        self.render_dtype = torch.float32

    def render(self, states: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        if not states:
            s = self.image_size
            return torch.zeros(0, 3, s, s)
        z = self.latents_for(states).to(self.device)
        return self.generate(z)

    def render_pixels(self, states: Sequence[Mapping[str, Any]]) -> np.ndarray:
        if not states or self.render_dtype != torch.float32:
            return super().render_pixels(states)
        return net_pixels(self.generator, self.latents_for(states).to(self.device), scale=0.5, shift=0.5)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Codes [N, D] -> images [N, 3, H, W] in [0, 1] on the CPU (eval mode, no grad)."""
        with torch.inference_mode():
            if self.render_dtype == torch.bfloat16 and self.device.type in ("cpu", "cuda"):
                with torch.autocast(self.device.type, dtype=torch.bfloat16):
                    x = self.generator(z.to(self.device))
            else:
                x = self.generator(z.to(self.device))
        return ((x.float() + 1.0) * 0.5).clamp_(0.0, 1.0).cpu()

    def inversion_space(self, state: Mapping[str, Any]) -> Any:
        """GAN inversion (studio.models.invert): z through the generator, differentiably, in [0, 1]."""
        from studio.core.inversion import latent_space

        return latent_space(self, lambda z: (self.generator(z).float() + 1.0) * 0.5, state)


class CSGANFamily(Family):
    name = "csgan"
    title = "CSGAN content generator"
    description = (
        "DCGAN (64 px) or LSGAN (112 px) trained with the CSGAN recipe: least-squares loss, "
        "soft labels, conditional discriminator updates."
    )

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device) -> CSGANModel:
        where = card.name or "<checkpoint>"
        try:
            config = CSGANConfig.from_dict(card.config)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(where, f"the model card's CSGAN config is invalid ({exc})") from exc
        if config.image_size != card.image_size:
            raise CheckpointError(
                where,
                f"the card says {card.image_size} px but architecture "
                f"'{config.arch}' makes {config.image_size} px images",
            )
        gen = Generator(config)
        load_module_tensors("G", gen, tensors, where)
        dirs, stds = tensors.get("pca.directions"), tensors.get("pca.stds")
        if dirs is not None:
            if stds is None or dirs.ndim != 2 or dirs.shape[1] != config.latent_dim or stds.shape != (dirs.shape[0],):
                raise CheckpointError(where, "the stored principal directions do not match the latent size")
            dirs, stds = dirs.float().cpu(), stds.float().cpu()
        return CSGANModel(card, device, gen, dirs, stds)

    def jobs(self) -> dict[str, str]:
        return {"train": "train a CSGAN content generator (DCGAN 64 px / LSGAN 112 px) on a folder of images"}

    def add_job_arguments(self, name: str, parser: Any) -> None:
        if name != "train":
            raise KeyError(f"family 'csgan' has no job '{name}'")
        p = parser
        p.add_argument("--data", required=True, help="folder of training images (searched recursively)")
        p.add_argument(
            "--arch",
            choices=ARCHS,
            default="dcgan64",
            help="dcgan64 (64 px) or lsgan112 (112 px), the paper's; beyond it: dcgan128 / dcgan256 "
            "(deeper DCGAN) and fastgan128 / fastgan256 (FastGAN-style, skip-layer excitation)",
        )
        p.add_argument(
            "--width",
            type=argtypes.float_range(0.01, 8.0),
            default=1.0,
            help="channel width multiplier, 0.01–8 (1 = the paper's)",
        )
        p.add_argument("--out", default=None, help="model name (saved in your model folder) or a path with a '/'")
        from studio.train import add_trainer_arguments

        add_trainer_arguments(p, steps=2000, batch=64, checkpoint_every=500, preview_every=100)
        p.add_argument("--licence", default="unknown", help="licence of the training data (goes in the card)")
        p.add_argument("--data-name", dest="data_name", default="", help="how the card names the data")
        p.add_argument("--notes", default="")
        p.add_argument("--fit", choices=("crop", "pad"), default="crop", help="how images are made square")
        p.add_argument("--no-flip", dest="flip", action="store_false", help="no random horizontal flips")
        p.add_argument("--lr", type=argtypes.positive_float, default=2e-4)
        p.add_argument(
            "--init",
            choices=("pytorch", "dcgan"),
            default="pytorch",
            help="weight initialisation: PyTorch's default (as the paper) or DCGAN's N(0, 0.02)",
        )
        p.add_argument(
            "--loss",
            choices=("ls", "bce"),
            default="ls",
            help="GAN loss: ls = least squares (the paper), bce = DCGAN's cross-entropy",
        )
        p.add_argument(
            "--augment",
            default="auto",
            metavar="POLICY",
            help="DiffAugment of D's inputs for small data sets: a comma list of color, translation, "
            "cutout, or none (default auto: none with the plain D, as the paper; all three with the "
            "projected D)",
        )
        p.add_argument(
            "--discriminator",
            choices=("plain", "projected"),
            default="plain",
            help="plain (the architecture's own D, the paper) or projected (Sauer et al. 2021: frozen "
            "EfficientNet-Lite0 features, random projections, multi-scale heads, hinge loss)",
        )
        p.add_argument(
            "--projected-input",
            dest="projected_input",
            choices=tuple(INPUT_SIZES),
            default="224",
            help="what the projected D's frozen network sees: 224 (images upsampled to 224 px, the paper's "
            "code) or native (each image at its own size: at 128 px about 2.6x faster a step on a CPU)",
        )
        p.add_argument(
            "--r1",
            type=argtypes.nonneg_float,
            default=0.0,
            metavar="GAMMA",
            help="R1 gradient penalty on real images for the plain D (e.g. 1 or 10; 0 = off, the paper)",
        )
        p.add_argument(
            "--r1-every",
            dest="r1_every",
            type=argtypes.positive_int,
            default=16,
            help="apply R1 every N D updates, weighted by N (lazy regularisation; default 16)",
        )
        p.add_argument(
            "--d-threshold",
            dest="d_threshold",
            type=argtypes.nonneg_float,
            default=0.2,
            help="update D only while its loss is above this (paper: 0.2; 0 = always)",
        )
        p.add_argument(
            "--late-decay",
            dest="late_decay",
            choices=("auto", "on", "off"),
            default="auto",
            help="the paper's LSGAN schedule: after --late-decay-epochs epochs the every-1000-iterations LR "
            "multipliers become ×0.95 (G) and ×0.9 (D) instead of ×0.9 / ×0.85 (auto: on for lsgan112, as the "
            "paper; off for the other architectures)",
        )
        p.add_argument(
            "--late-decay-epochs",
            dest="late_after_epochs",
            type=argtypes.nonneg_float,
            default=16.0,
            help="epochs (images seen / data size) before the late multipliers apply (paper: 16)",
        )
        p.add_argument(
            "--d-output",
            dest="d_output",
            choices=("linear", "sigmoid"),
            default="linear",
            help="linear (default: D's raw score into the least-squares loss, as LSGAN and the paper's text) "
            "or sigmoid (a sigmoid before the MSE, as the CSGAN authors' code); see docs/csgan.md",
        )
        p.add_argument(
            "--pca-samples",
            dest="pca_samples",
            type=argtypes.int_range(2),
            default=2048,
            help="latent samples for the GANSpace directions (at least --pca-k)",
        )
        p.add_argument(
            "--pca-k", dest="pca_k", type=argtypes.positive_int, default=10, help="number of direction sliders"
        )

    def make_job(self, name: str, /, **options: Any):
        if name != "train":
            raise KeyError(f"family 'csgan' has no job '{name}'")
        from .train import CSGANTrainJob

        return CSGANTrainJob(**options)
