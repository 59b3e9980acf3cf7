"""Bayesian CycleGAN's typed configuration: CycleGAN's architecture fields plus the Bayesian ones.

Defaults follow the authors' code (github.com/ranery/Bayesian-CycleGAN, ``train_bayes_z.py`` /
``models/CycleGAN_bayes_z.py``, the noise-marginalisation variant) and their training scripts:

- ``latent_channels`` 1: one channel of N(0, 1) noise, the image's size, concatenated to the generator's
  input (the same noise map for every image of a batch, a new one for each Monte-Carlo sample);
- ``mc_x`` = ``mc_y`` = 3: Monte-Carlo samples of the latent per step for B→A (``mc_x``) and A→B
  (``mc_y``) — each translation is made once per sample and every loss sees all of them;
- ``gamma`` 0.1: the weight of the adversarial loss on the *reconstructions* (their "integrated cyclic
  framework": D also judges G_ba(G_ab(a)), G sees it scored as real). In their code γ weights that
  term, not the prior;
- ``prior_weight`` 1: the Gaussian prior on every weight of G and D, as their ``get_prior``:
  Σ over parameter tensors of mean(θ²), divided by the batch size, added with weight 1 (MAP
  estimation). Bayesian GAN's SGHMC noise term (``get_noise``) is commented out in their code, so
  there is none here either;
- ``infer_samples`` 3: latent samples averaged at inference (their test script draws one; the
  average is the Monte-Carlo estimate of the marginal translation; 1 gives a single draw).

The ``bayes`` preset is their scripts' network: pix2pixHD's global ResNet generator with 2
down-samplings, ngf 32, 6 blocks, InstanceNorm; one 70×70 PatchGAN per domain (num_D 1, n_layers 3);
LSGAN; L1 cycle weight 10; no identity loss, no image pool; Adam 2e-4 (0.5, 0.999), lr decaying
linearly over the second half (their niter = niter_decay). The CycleGAN presets (``ece``,
``standard``, ``kaggle``) give the same Bayesian training other architectures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.errors import StudioError
from studio.models.cyclegan.config import PRESETS as CYCLEGAN_PRESETS
from studio.models.cyclegan.config import CycleGANConfig

PRESETS = ("bayes", *CYCLEGAN_PRESETS)
BAYES_PRESET: dict[str, Any] = dict(
    generator="resnet",
    channels=32,
    n_blocks=6,
    discriminator="patch",
    lambda_cycle=10.0,
    lr=2e-4,
    decay_start=0.5,
)


@dataclass
class BayesCycleGANConfig(CycleGANConfig):
    latent_channels: int = 1
    mc_x: int = 3
    mc_y: int = 3
    gamma: float = 0.1
    prior_weight: float = 1.0
    infer_samples: int = 3

    def validate(self) -> BayesCycleGANConfig:
        super().validate()
        if self.latent_channels < 1 or self.mc_x < 1 or self.mc_y < 1 or self.infer_samples < 1:
            raise StudioError("Bayesian CycleGAN needs latent_channels, mc_x, mc_y and infer_samples of at least 1")
        if self.gamma < 0 or self.prior_weight < 0:
            raise StudioError("gamma and prior_weight must not be negative")
        return self

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> BayesCycleGANConfig:
        if name == "bayes":
            base = dict(BAYES_PRESET)
            base.update({k: v for k, v in overrides.items() if v is not None})
            return cls.from_dict(base)  # type: ignore[return-value]
        if name not in CYCLEGAN_PRESETS:
            raise StudioError(f"unknown Bayesian CycleGAN preset '{name}' (use {', '.join(PRESETS)})")
        return super().preset(name, **overrides)  # type: ignore[return-value]
