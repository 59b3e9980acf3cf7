"""CycleGAN's typed configuration, with the two presets the reports describe.

``ece``: the ECE 285 project's variant — DnCNN-style generator, 5-layer InstanceNorm discriminator,
MSE adversarial + L1 cycle loss (weight 1), no identity loss, no image pool, Adam lr 1e-3 (0.5, 0.999).
``standard``: Zhu et al.'s configuration as the Kaggle report used it — ResNet generator (9 blocks,
optional encoder→decoder skip connections), 70×70 PatchGAN, cycle 10, identity 0.5×cycle, a pool of
50 fakes, Adam 2e-4 with linear decay over the second half.
``kaggle``: the Kaggle report's own CycleGAN (papers/002, §3.1) — the ResNet generator with skip
connections and LayerNorm after its convolutions (except input and output), a discriminator of five
stacked convolutions (LayerNorm in the middle three) ending with a 2-D average pooling, and the log
(BCE) adversarial loss of its equations; Adam 2e-4, batch 1. The report does not give the cycle and
identity weights, the pool or the decay: those stay the ``standard`` preset's.

``augment`` (off by default, as in the papers) is DiffAugment (Zhao et al. 2020) on both discriminators'
inputs, real and translated alike: with a few dozen paintings D memorises the painting crops long before
the generator has learnt their style.

``discriminator="projected"`` (not in the papers) is the projected discriminator of Sauer et al. 2021
(``studio.models.projected``: frozen EfficientNet-Lite0 features, fixed random projections, small heads)
for each domain, with the hinge loss unless ``gan_loss`` says otherwise: a D that judges ImageNet
features of texture and form rather than pixels, for translators trained on a few dozen paintings.

``exp_decay`` is the ECE 285 run's exponential schedule (papers/001, ``exp_largeBS_decay``: ×0.99 every
2 epochs), an option for any preset: the lr is multiplied by ``exp_decay`` once per
``exp_decay_epochs`` epochs (an epoch: as many images as the larger folder holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from studio.core.errors import StudioError
from studio.models.diffaugment import parse_policy

GENERATORS = ("dncnn", "resnet")
DISCRIMINATORS = ("ece", "patch", "kaggle", "projected")
D_NORMS = ("instance", "layer", "none")
G_NORMS = ("instance", "layer")
UPSAMPLES = ("transposed", "resize")
GAN_LOSSES = ("lsgan", "bce", "hinge")
PRESETS = ("ece", "standard", "kaggle")


@dataclass
class CycleGANConfig:
    generator: str = "dncnn"
    channels: int = 64  # DnCNN C / ResNet ngf
    depth: int = 6  # DnCNN D (middle conv+BN+ReLU layers)
    residual: bool = True  # DnCNN adds its output to the input (DnCNN's residual learning)
    n_blocks: int = 9  # ResNet blocks (6 or 9)
    skips: bool = False  # ResNet: the Kaggle report's encoder→decoder skip connections
    g_norm: str = "instance"  # ResNet: instance (Zhu et al.) or layer (the Kaggle report)
    upsample: str = "transposed"  # ResNet decoder: transposed convs (the papers) or resize (nearest ×2 + conv)
    discriminator: str = "ece"
    d_channels: list[int] = field(default_factory=lambda: [16, 64, 256, 256])  # ECE D widths
    d_strides: list[int] = field(default_factory=lambda: [1, 1, 1, 1, 1])  # ECE D strides (5 convs)
    ndf: int = 64  # PatchGAN base width
    d_norm: str = "instance"  # D's normalisation; 'none' keeps each image's overall brightness
    # and colour balance, which InstanceNorm largely divides away
    lambda_cycle: float = 1.0
    lambda_identity: float = 0.0  # as a fraction of lambda_cycle (Zhu et al. use 0.5)
    pool_size: int = 0
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    decay_start: float = 1.0  # fraction of the run after which lr decays linearly to 0 (1 = never)
    d_loss_half: bool = False  # halve the discriminator loss (Zhu et al.) — slows D relative to G
    gan_loss: str = "lsgan"  # lsgan (MSE to 1/0), bce (the log loss of the Kaggle report) or hinge
    exp_decay: float = 1.0  # lr × this every exp_decay_epochs epochs (ECE 285: 0.99; 1 = off)
    exp_decay_epochs: float = 2.0
    augment: str = "none"  # DiffAugment of everything the discriminators see (e.g. "translation,cutout")

    def validate(self) -> CycleGANConfig:
        if self.generator not in GENERATORS:
            raise StudioError(f"unknown CycleGAN generator '{self.generator}' (use {', '.join(GENERATORS)})")
        if self.discriminator not in DISCRIMINATORS:
            raise StudioError(
                f"unknown CycleGAN discriminator '{self.discriminator}' (use {', '.join(DISCRIMINATORS)})"
            )
        if self.g_norm not in G_NORMS:
            raise StudioError(f"unknown generator normalisation '{self.g_norm}' (use {', '.join(G_NORMS)})")
        if self.gan_loss not in GAN_LOSSES:
            raise StudioError(f"unknown adversarial loss '{self.gan_loss}' (use {', '.join(GAN_LOSSES)})")
        if not 0.0 < self.exp_decay <= 1.0 or self.exp_decay_epochs <= 0:
            raise StudioError("exp_decay must be in (0, 1] and exp_decay_epochs positive")
        self.augment = ",".join(parse_policy(self.augment)) or "none"  # a bad policy raises a StudioError
        if self.upsample not in UPSAMPLES:
            raise StudioError(f"unknown upsampling '{self.upsample}' (use {', '.join(UPSAMPLES)})")
        if self.d_norm not in D_NORMS:
            raise StudioError(f"unknown discriminator normalisation '{self.d_norm}' (use {', '.join(D_NORMS)})")
        if self.channels < 1 or self.depth < 0 or self.n_blocks < 0 or self.ndf < 1:
            raise StudioError("CycleGAN channels/ndf must be positive and depth/blocks not negative")
        if len(self.d_channels) != 4 or len(self.d_strides) != 5 or min(self.d_strides) < 1:
            raise StudioError("the ECE discriminator needs 4 widths and 5 strides (each at least 1)")
        return self

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> CycleGANConfig:
        base: dict[str, Any]
        if name == "ece":
            base = {}
        elif name in ("standard", "kaggle"):
            base = dict(
                generator="resnet",
                discriminator="patch",
                lambda_cycle=10.0,
                lambda_identity=0.5,
                pool_size=50,
                lr=2e-4,
                decay_start=0.5,
                d_loss_half=True,
            )
            if name == "kaggle":
                base.update(skips=True, g_norm="layer", discriminator="kaggle", d_norm="layer", gan_loss="bce")
        else:
            raise StudioError(f"unknown CycleGAN preset '{name}' (use {', '.join(PRESETS)})")
        base.update({k: v for k, v in overrides.items() if v is not None})
        if base.get("discriminator") == "projected" and overrides.get("gan_loss") is None:
            base["gan_loss"] = "hinge"  # Sauer et al.'s loss, unless asked otherwise
        return cls.from_dict(base)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CycleGANConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise StudioError(f"unknown CycleGAN config keys: {', '.join(sorted(unknown))}")
        return cls(**dict(data)).validate()
