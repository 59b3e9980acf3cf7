"""Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020) in feature space.

FID mixes "how good" and "how varied" into one number; these split them: precision = share of samples
inside the real images' k-NN balls (fidelity), recall = share of real images inside the samples' balls
(variety), coverage = share of real images whose ball holds at least one sample (robust to outliers).
"""

from __future__ import annotations

import numpy as np
import torch


def _kth_radius(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    out = []
    for s in range(0, x.shape[0], chunk):
        d = torch.cdist(x[s : s + chunk], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(out)


def _inside_any(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    out = []
    for s in range(0, points.shape[0], chunk):
        d = torch.cdist(points[s : s + chunk], centres)
        out.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(out)


def precision_recall_coverage(real, fake, k: int = 3) -> dict[str, float]:
    r = torch.as_tensor(np.asarray(real) if not isinstance(real, torch.Tensor) else real).float()
    f = torch.as_tensor(np.asarray(fake) if not isinstance(fake, torch.Tensor) else fake).float()
    if min(r.shape[0], f.shape[0]) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples on each side")
    r_rad, f_rad = _kth_radius(r, k), _kth_radius(f, k)
    # distances are compared with radii computed the same way, so float32 is enough
    precision = _inside_any(f, r, r_rad).double().mean()
    recall = _inside_any(r, f, f_rad).double().mean()
    # coverage: real centres whose own k-NN ball contains at least one sample
    covered = []
    for s in range(0, r.shape[0], 2048):
        d = torch.cdist(r[s : s + 2048], f)
        covered.append(d.min(dim=1).values <= r_rad[s : s + 2048])
    coverage = torch.cat(covered).double().mean()
    return {"precision": float(precision), "recall": float(recall), "coverage": float(coverage)}
