"""The Bayesian CycleGAN family: builds a translator from a card, offers the 'train' and 'translate' jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from studio.core import argtypes
from studio.core.checkpoint import ModelCard
from studio.core.errors import CheckpointError, StudioError
from studio.core.fastnet import net_pixels
from studio.models.cyclegan.family import add_architecture_arguments
from studio.models.translate.model import TranslatorModel, load_generator_pair, receptive_radius_of, validation_tensors
from studio.models.translator_family import TranslatorFamily

from .config import PRESETS, BayesCycleGANConfig
from .networks import LatentGenerator, PosteriorMean, build_latent_generator, marginal_latents

# the batched marginal (all K posterior samples in one call) up to this many pixels in the batch: every
# frame and grid the window renders; bigger pictures loop over the samples to bound memory
BATCHED_MARGINAL_PIXELS = 1 << 22


class BayesCycleGANModel(TranslatorModel):
    """A loaded Bayesian CycleGAN. Its generators take the image alone and return the mean translation
    over ``infer_samples`` latent samples drawn from fixed seeds (so a picture always translates the
    same way); ``forward(x, direction, samples=1)`` gives a single draw.

    Frames and grids run the marginal as one batched call (:class:`PosteriorMean`, a render network of
    its own, so the window's bf16 frozen graph covers all K samples and the 8-bit conversion)."""

    render_networks: tuple[str, ...] = ("generators", "posterior_means")  # run by studio.core.fastnet in the window

    def __init__(self, *args: Any, **kwargs: Any):  # TranslatorModel's arguments
        super().__init__(*args, **kwargs)
        self.posterior_means = {d: PosteriorMean(self._latent(d).net).eval() for d in self.generators}

    def _latent(self, direction: str) -> LatentGenerator:
        gen = self.generators[direction]
        plain = getattr(gen, "reference", gen)  # the plain module behind a fast stand-in
        if not isinstance(plain, LatentGenerator):
            raise StudioError(f"{self.card.name}: the {direction} generator takes no latent input")
        return plain

    def _batched(self, x: torch.Tensor, k: int) -> bool:
        return x.shape[0] * k * x.shape[-2] * x.shape[-1] <= BATCHED_MARGINAL_PIXELS

    def forward(self, x: torch.Tensor, direction: str, samples: int | None = None) -> torch.Tensor:
        gen = self._latent(direction)
        k = gen.samples if samples is None else int(samples)
        if k > 1 and self._batched(x, k):
            return self.posterior_means[direction](x, marginal_latents(x, gen.latent_channels, k))
        return gen.marginal(x, k)

    def graph_pixels(self, x: torch.Tensor, direction: str) -> np.ndarray | None:
        gen = self._latent(direction)
        if gen.samples <= 1 or not self._batched(x, gen.samples):
            return None  # the float path: forward's single draw or its loop
        zs = marginal_latents(x, gen.latent_channels, gen.samples)
        return net_pixels(self.posterior_means[direction], x, zs, scale=0.5, shift=0.5)


def config_from_card(card: ModelCard) -> BayesCycleGANConfig:
    try:
        return BayesCycleGANConfig.from_dict(card.config)  # type: ignore[return-value]
    except (StudioError, TypeError) as exc:
        raise CheckpointError(card.name + ".json", f"not a valid Bayesian CycleGAN config ({exc})") from exc


class BayesCycleGANFamily(TranslatorFamily):
    name = "bayes-cyclegan"
    title = "Bayesian CycleGAN translator"
    description = (
        "CycleGAN with latent-sampled inputs and Monte-Carlo marginalisation over the generators' "
        "posteriors (You et al., 2018; the Kaggle report)."
    )

    def load(self, tensors: Mapping[str, torch.Tensor], card: ModelCard, device: torch.device) -> BayesCycleGANModel:
        cfg = config_from_card(card)
        gens = load_generator_pair(lambda: build_latent_generator(cfg), tensors, card)
        model = BayesCycleGANModel(card, device, gens, validation_tensors(tensors))
        model.receptive_radius = receptive_radius_of(gens["a2b"])
        return model

    train_help = "train a Bayesian CycleGAN between two image folders (--a DIR --b DIR)"

    def add_train_arguments(self, parser: Any) -> None:
        g = parser.add_argument_group("Bayesian CycleGAN")
        g.add_argument(
            "--preset",
            default="bayes",
            choices=PRESETS,
            help="bayes: the authors' scripts (ResNet ngf 32, 6 blocks, PatchGAN, LSGAN, cycle 10, lr 2e-4 "
            "decaying over the second half); ece / standard / kaggle: those CycleGAN architectures",
        )
        g.add_argument("--mc-x", type=argtypes.int_range(1, 64), help="latent samples per step for B→A (default 3)")
        g.add_argument("--mc-y", type=argtypes.int_range(1, 64), help="latent samples per step for A→B (default 3)")
        g.add_argument(
            "--gamma",
            type=argtypes.nonneg_float,
            help="weight of the adversarial loss on the reconstructions (default 0.1, the authors')",
        )
        g.add_argument(
            "--prior-weight",
            type=argtypes.nonneg_float,
            help="weight of the Gaussian prior on every weight, sum of mean(w²) / batch (default 1, the authors')",
        )
        g.add_argument("--latent-channels", type=argtypes.int_range(1, 64), help="noise channels (default 1)")
        g.add_argument(
            "--infer-samples",
            type=argtypes.int_range(1, 64),
            help="latent samples averaged when translating (default 3)",
        )
        add_architecture_arguments(parser.add_argument_group("architecture (overrides the preset)"))

    def train_job(self, options: dict[str, Any]):
        from .train import BayesCycleGANTrainJob

        return BayesCycleGANTrainJob(**options)
