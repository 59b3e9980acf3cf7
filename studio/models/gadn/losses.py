"""The GADN loss terms, each a small function so tests can check them one by one."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pixel L2 distance between RGB images (NOT squared), averaged over pixels and batch.

    Why not squared: the paper's reconstruction loss; it punishes small errors more than MSE does,
    which keeps reconstructions less washed out."""
    return ((a - b).pow(2).sum(1) + 1e-8).sqrt().mean()


def code_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between codes, averaged over the batch (stage 2's content condition)."""
    return ((a - b).pow(2).sum(1) + 1e-8).sqrt().mean()


def relative_code_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of matching codes (row i of a and of b) over that of non-matching ones
    (a against itself rolled by one row). Why relative: a plain distance is lowered by shrinking every
    code, and a paired run with it collapsed its content codes to the prior (reconstruction 1.0 vs 0.39).
    The denominator has a floor of 1 % of the codes' mean squared length (which shrinks with them, so the
    ratio stays scale-free): a batch whose rows are the same content twice has almost no "non-matching"
    distance, and without the floor one such batch of icons sent the ratio to 1e7 and stopped the run."""
    match = (a - b).pow(2).sum(1).mean()
    other = (a - a.roll(1, 0)).pow(2).sum(1).mean()
    floor = 0.005 * (a.pow(2).sum(1).mean() + b.pow(2).sum(1).mean())
    return match / (other + floor + 1e-12)


def reparameterise(mean: torch.Tensor, std: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Sample mean + std * eps so gradients reach mean and std (the VAE reparameterisation trick)."""
    eps = torch.randn(mean.shape, generator=generator, device="cpu").to(mean)
    return mean + std * eps


def kl_standard_normal(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std^2) || N(0, 1)) summed over code dimensions, averaged over the batch."""
    return 0.5 * (mean.pow(2) + std.pow(2) - 1.0 - 2.0 * std.clamp_min(1e-12).log()).sum(1).mean()


def negative_log_unlikelihood(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log(1 - p(target | x)), computed stably from logits: "this is NOT by ``target``".

    Why this and not maximising -log p: it is bounded, so a classifier cannot lower its loss by only
    pushing generated samples away while ignoring real ones (paper, appendix C.2)."""
    mask = F.one_hot(target, logits.shape[1]).bool()
    others = torch.logsumexp(logits.masked_fill(mask, float("-inf")), dim=1)
    return (torch.logsumexp(logits, dim=1) - others).mean()


def lsgan_discriminator(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN (Mao et al.): real -> 1, generated -> 0."""
    return (real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean()


def lsgan_generator(fake_scores: torch.Tensor) -> torch.Tensor:
    return (fake_scores - 1).pow(2).mean()


def other_artists(artists: torch.Tensor, num_artists: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """For each label a, a uniformly random a' != a (stage 1's classifier input must be restyled)."""
    shift = torch.randint(1, num_artists, artists.shape, generator=generator).to(artists.device)
    return (artists + shift) % num_artists
