"""Latent-space utilities: seeds to codes, interpolation, truncation, principal directions (GANSpace)."""

from __future__ import annotations

from functools import lru_cache

import torch


def seed_to_z(seed: int, dim: int, count: int = 1) -> torch.Tensor:
    """The same seed always gives the same standard-normal code(s), on every machine: [count, dim].
    A new tensor every call (callers edit it in place)."""
    return _seed_codes(int(seed) & 0xFFFF_FFFF_FFFF, int(dim), int(count)).clone()


@lru_cache(maxsize=4096)
def _seed_codes(seed: int, dim: int, count: int) -> torch.Tensor:
    """Cached: a slider drag re-renders the same few seeds many times a second, and a generator
    set-up plus draw costs more than the copy (studio.core.family.LoadedModel.latent_for)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(count, dim, generator=gen)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between codes (falls back to lerp for nearly parallel codes).

    Why: Gaussian codes live near a sphere; linear midpoints have too small a norm and look washed out.
    """
    t = torch.as_tensor(t, dtype=a.dtype)
    an = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    bn = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    dot = (an * bn).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(dot)
    so = torch.sin(omega)
    lerp = (1 - t) * a + t * b
    safe = so.abs() > 1e-6
    so_safe = torch.where(safe, so, torch.ones_like(so))
    out = (torch.sin((1 - t) * omega) / so_safe) * a + (torch.sin(t * omega) / so_safe) * b
    return torch.where(safe, out, lerp)


def truncate(z: torch.Tensor, psi: float, mean: torch.Tensor | None = None) -> torch.Tensor:
    """The truncation trick: pull codes towards the mean by ``psi`` (1 = unchanged, 0 = the mean)."""
    if mean is None:  # the common case, in one operation (it runs for every rendered frame)
        return z if psi == 1.0 else z * psi
    centre = mean.to(z)
    return centre + psi * (z - centre)


def principal_directions(z: torch.Tensor, features: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """GANSpace (Härkönen et al. 2020): PCA in a feature space, transferred back to the latent space.

    ``z`` [N, D] are sampled codes and ``features`` [N, F] the generator's activations for them. PCA of
    the features gives principal coordinates X [N, k]; the latent basis U [k, D] is the least-squares map
    with X @ U ≈ z - mean(z). Returns (unit directions [k, D], standard deviation of each
    coordinate along its direction in z [k]) so a slider in "standard deviations" moves z by s·std·u.
    """
    n = z.shape[0]
    if n < 2:
        raise ValueError("need at least two samples for principal directions")
    k = int(min(k, n - 1, features.shape[1]))
    feats = features.reshape(n, -1).double()
    feats = feats - feats.mean(0, keepdim=True)
    # Principal coordinates from the smaller of the two Gram matrices (N×N or F×F), not an SVD of the
    # N×F matrix: the same axes, and seconds instead of minutes for a full-width generator (F = 8192).
    if n <= feats.shape[1]:
        values, vectors = torch.linalg.eigh(feats @ feats.T)  # ascending
        top = vectors[:, -k:].flip(1)  # [N, k], largest variance first
        coords = top * values[-k:].flip(0).clamp_min(0).sqrt()
    else:
        values, vectors = torch.linalg.eigh(feats.T @ feats)
        coords = feats @ vectors[:, -k:].flip(1)  # [N, k]
    coords = coords / coords.std(0, keepdim=True).clamp_min(1e-12)
    zc = z.double() - z.double().mean(0, keepdim=True)
    basis = torch.linalg.lstsq(coords, zc).solution  # [k, D]
    norms = basis.norm(dim=1, keepdim=True).clamp_min(1e-12)
    directions = basis / norms
    # spread of the samples along each unit direction, so sliders are in natural units
    stds = (zc @ directions.T).std(0)
    return directions.float(), stds.float()
