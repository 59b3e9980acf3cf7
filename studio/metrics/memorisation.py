"""Memorisation test and MiFID (Bai et al. 2021, the metric of Kaggle's GAN competitions).

For generated features g_i and training features r_j:

    d_ij = 1 − |cos(g_i, r_j)|                         (cosine distance, absolute cosine as in Kaggle's code)
    d    = (1/N) Σ_i min_j d_ij                        (memorisation distance: how close samples sit to
                                                        their nearest training image, on average)
    s    = d   if d < τ   else 1,       τ = 0.1        (the competition's threshold)
    MiFID = FID · m,   m = 1 / (s + ε),  ε = 1e-14     (Kaggle writes ε as 10e-15)

This is exactly the report's m_r = 1/(s + ε) form: s is "1 minus the average best cosine similarity",
but thresholded, so the penalty is 1 (up to ε) for any model whose samples are on average farther than
τ from the training set, and grows like 1/d as samples become near-copies (d → 0). Rows that are all
zeros are dropped before normalising, as in the reference code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

THRESHOLD = 0.1
EPSILON = 1e-14


@dataclass
class Memorisation:
    distance: float  # d: mean over samples of the nearest-training-image cosine distance
    thresholded: float  # s
    penalty: float  # m = 1 / (s + ε)
    per_sample: np.ndarray  # [N] nearest cosine distance of each generated sample
    nearest: np.ndarray  # [N] index of that nearest training image


def _unit_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    keep = x.abs().sum(dim=1) != 0
    x = x[keep]
    return x / x.norm(dim=1, keepdim=True), keep


def nearest_cosine(
    generated: torch.Tensor | np.ndarray, training: torch.Tensor | np.ndarray, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """For each generated row: min over training rows of 1 − |cos|, and that row's index (chunked)."""
    # float32 like the reference implementations: cosine rounding (~1e-7) is far below τ = 0.1
    g = torch.as_tensor(np.asarray(generated) if not isinstance(generated, torch.Tensor) else generated).float()
    r = torch.as_tensor(np.asarray(training) if not isinstance(training, torch.Tensor) else training).float()
    if g.ndim != 2 or r.ndim != 2 or g.shape[1] != r.shape[1]:
        raise ValueError(f"features must be [N, F] with the same F, got {tuple(g.shape)} and {tuple(r.shape)}")
    gn, gkeep = _unit_rows(g)
    rn, rkeep = _unit_rows(r)
    if rn.shape[0] == 0:
        raise ValueError("the training features are all zero")
    r_index = torch.nonzero(rkeep).squeeze(1)
    dist = torch.ones(g.shape[0], dtype=torch.float64)  # all-zero rows count as "far"
    idx = torch.zeros(g.shape[0], dtype=torch.long)
    g_index = torch.nonzero(gkeep).squeeze(1)
    for start in range(0, gn.shape[0], chunk):
        sim = (gn[start : start + chunk] @ rn.T).abs()
        best, arg = sim.max(dim=1)
        rows = g_index[start : start + chunk]
        dist[rows] = 1.0 - best.double()
        idx[rows] = r_index[arg]
    return dist.clamp_min(0.0).numpy(), idx.numpy()


def memorisation(generated, training, threshold: float = THRESHOLD, epsilon: float = EPSILON) -> Memorisation:
    per_sample, nearest = nearest_cosine(generated, training)
    g = np.asarray(generated.detach().cpu() if isinstance(generated, torch.Tensor) else generated)
    valid = np.abs(g).sum(axis=1) != 0
    d = float(per_sample[valid].mean()) if valid.any() else 1.0
    s = d if d < threshold else 1.0
    return Memorisation(d, s, 1.0 / (s + epsilon), per_sample, nearest)


def mifid(fid_value: float, memo: Memorisation) -> float:
    """MiFID = FID × memorisation penalty."""
    return float(fid_value) * memo.penalty
