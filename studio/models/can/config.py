"""Typed configs for CAN. ``dataclasses.asdict(CANConfig)`` is what a model card stores as ``config``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.core.errors import StudioError

ARCHES = ("report", "dcgan", "fastgan")
FASTGAN_SIZES = (128, 256)
OUTPUT_MAPS = ("minmax", "tanh")


@dataclass
class CANConfig:
    """Architecture of one CAN.

    ``arch='report'`` is the UCLA report's network (no normalisation layers): G = z → FC fc_dim →
    FC (S/8)²·128 → three (LeakyReLU + transposed conv) stages; D = three (conv + LeakyReLU + 2×2 average
    pool) blocks with 32/64/128 channels and two parallel heads FC fc_dim → K styles and FC fc_dim → 1.
    ``arch='dcgan'`` is a deeper DCGAN-style pair with batch norm close to Elgammal et al.'s CAN
    (a transposed-conv stack from 4×4 and a strided-conv D whose style head is FC fc_dim → fc_dim/2 → K),
    for users with GPUs. ``arch='fastgan'`` (128 or 256 px) is the csgan family's FastGAN generator (skip-layer
    excitation; its layers and parameter names, so a trained csgan ``fastgan128`` model can start a CAN, see
    ``--init-generator``) with the dcgan discriminator; its own tanh output is mapped to [0, 1] and
    ``output_map`` is not used. ``width`` multiplies every channel count (tiny models for tests).

    ``output_map``: how the last layer's output is brought to [-4, 4] before the sigmoid:
    ``minmax`` maps each image's values linearly onto [-4, 4] (the report's fix for saturated colours);
    ``tanh`` uses 4·tanh. The sigmoid's range [σ(-4), σ(4)] is then stretched to exactly [0, 1], so
    generated pixels span the same range as real ones.
    """

    arch: str = "report"
    image_size: int = 64
    latent_dim: int = 100
    num_styles: int = 2
    width: float = 1.0
    fc_dim: int = 1024
    kernel: int = 5
    leak: float = 0.2
    output_map: str = "minmax"

    def __post_init__(self) -> None:
        if self.arch not in ARCHES:
            raise StudioError(f"unknown CAN architecture {self.arch!r} (use one of {', '.join(ARCHES)})")
        if self.output_map not in OUTPUT_MAPS:
            raise StudioError(f"unknown CAN output map {self.output_map!r} (use one of {', '.join(OUTPUT_MAPS)})")
        s = int(self.image_size)
        if s < 16 or s & (s - 1):
            raise StudioError(f"CAN image size must be a power of two ≥ 16, not {self.image_size}")
        if self.arch == "dcgan" and s < 32:
            raise StudioError("the dcgan CAN variant needs images of at least 32 px")
        if self.arch == "fastgan" and s not in FASTGAN_SIZES:
            raise StudioError(f"the fastgan CAN variant draws 128 or 256 px images, not {self.image_size}")
        if self.arch == "fastgan" and not self.width <= 4:
            raise StudioError(f"the fastgan CAN variant takes a width of at most 4, not {self.width}")
        if int(self.num_styles) < 2:
            raise StudioError(f"a CAN needs at least two styles to be ambiguous between (got {self.num_styles})")
        if int(self.kernel) < 1 or int(self.kernel) % 2 == 0:
            raise StudioError(f"the discriminator kernel size must be odd, not {self.kernel}")
        if self.width <= 0 or self.fc_dim < 2 or self.latent_dim < 1:
            raise StudioError("CAN width, fc_dim and latent_dim must be positive")

    def ch(self, n: int) -> int:
        """A channel count scaled by the width multiplier (at least 4)."""
        return max(4, int(round(n * self.width)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CANConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in known})


DISCRIMINATORS = ("plain", "projected")


@dataclass
class TrainConfig:
    """CAN's own training recipe. Defaults follow the report: Adam, G lr 1e-3, D lr 1e-4, 2 G steps per D step.

    Steps, batch, seed, cadence and the time limit are the shared Trainer's options
    (:class:`studio.train.TrainerOptions`), not the recipe's.
    """

    ratio: int = 2  # generator updates per discriminator update
    lr_g: float = 1e-3
    lr_d: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ambiguity_weight: float = 1.0
    # the style-ambiguity loss and D's matching style loss: "sigmoid-eq3" (report eq. 3, per-class sigmoid
    # outputs, one-vs-all style BCE for D) or "softmax-ce" (CE to the uniform posterior, softmax style CE)
    ambiguity: str = "sigmoid-eq3"
    style_weight: float = 1.0
    holdout: float = 0.1  # fraction of each style kept out of training, for the style-accuracy metric
    collapse_threshold: float = 0.25  # preview diversity / real diversity below this warns of mode collapse
    collapse_warmup: int = 100  # no warning before this step (a freshly initialised G draws one grey blur)
    index_size: int = 256  # training images stored in the checkpoint for "nearest training images"
    half: bool = False  # store the final model's float weights as float16 (halves the file)
    augment: str = "none"  # DiffAugment of D's inputs, e.g. "translation,cutout" (colour is a style cue)
    # the real/fake judge: "plain" (the report: D's own real/fake head, BCE) or "projected" (Sauer et al. 2021:
    # a frozen EfficientNet-Lite0 with random projections and small heads, hinge loss, DiffAugment of its
    # inputs); D keeps its style head either way, and the ambiguity loss reads it
    discriminator: str = "plain"
    projected_augment: str = "color,translation,cutout"  # DiffAugment of the projected D's inputs only
    projected_input: str = "224"  # the projected D's feature input: 224 (the paper's upsampling) or native

    def __post_init__(self) -> None:
        if not isinstance(self.ratio, int) or self.ratio < 1:
            raise StudioError(f"--ratio must be a whole number ≥ 1 (got {self.ratio!r})")
        if not (0.0 <= self.holdout < 0.9):
            raise StudioError(f"holdout must be in [0, 0.9), not {self.holdout}")
        if not (self.lr_g > 0 and self.lr_d > 0):
            raise StudioError("learning rates must be positive")
        from studio.models.diffaugment import parse_policy

        from .losses import check_form

        check_form(self.ambiguity)
        if self.discriminator not in DISCRIMINATORS:
            raise StudioError(
                f"--discriminator must be one of {', '.join(DISCRIMINATORS)} (got {self.discriminator!r})"
            )
        parse_policy(self.projected_augment)
        from studio.models.projected import check_input_option

        check_input_option(self.projected_input, self.discriminator)

        parse_policy(self.augment)  # a bad policy raises a StudioError
