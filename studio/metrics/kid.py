"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with the cubic polynomial kernel
k(x, y) = (x·y / d + 1)³, averaged over random subsets (mean and standard deviation).

Why KID beside FID: it is unbiased, so small sample counts (a few hundred, cheap enough to run during
training) give comparable numbers, and ~0 really means "same distribution".

Cost: when both sets are small enough the three kernel matrices are computed once (one matmul each)
and every subset just indexes into them; otherwise each subset computes its own blocks.
"""

from __future__ import annotations

import numpy as np
import torch

_PRECOMPUTE_LIMIT = 6000  # samples per side up to which whole kernel matrices are kept (≤144 MB fp32)


def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d = a.shape[1]
    return (a @ b.T / d + 1.0) ** 3


def _mmd2_unbiased(kxx: torch.Tensor, kyy: torch.Tensor, kxy: torch.Tensor) -> float:
    m, n = kxx.shape[0], kyy.shape[0]
    f64 = torch.float64
    sum_xx = (kxx.sum(dtype=f64) - kxx.diagonal().sum(dtype=f64)) / (m * (m - 1))
    sum_yy = (kyy.sum(dtype=f64) - kyy.diagonal().sum(dtype=f64)) / (n * (n - 1))
    return float(sum_xx + sum_yy - 2.0 * kxy.sum(dtype=f64) / (m * n))


def kid(
    features_a: torch.Tensor | np.ndarray,
    features_b: torch.Tensor | np.ndarray,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD² over ``subsets`` random subsets of ``subset_size`` per side."""
    x = torch.as_tensor(np.asarray(features_a) if not isinstance(features_a, torch.Tensor) else features_a)
    y = torch.as_tensor(np.asarray(features_b) if not isinstance(features_b, torch.Tensor) else features_b)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be [N, F] with the same F, got {tuple(x.shape)} and {tuple(y.shape)}")
    dev = torch.device(device) if device is not None else x.device
    # float32 kernels (features are float32 anyway; per-entry rounding averages out over ~10⁶ entries),
    # float64 sums
    x, y = x.to(dev, torch.float32), y.to(dev, torch.float32)
    size = int(min(subset_size, x.shape[0], y.shape[0]))
    if size < 2:
        raise ValueError("KID needs at least two samples on each side")
    gen = torch.Generator().manual_seed(seed)
    whole = max(x.shape[0], y.shape[0]) <= _PRECOMPUTE_LIMIT and subsets * size > max(x.shape[0], y.shape[0])
    if whole:
        kxx_all, kyy_all, kxy_all = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    values = []
    for _ in range(max(1, subsets)):
        i = torch.randperm(x.shape[0], generator=gen)[:size].to(dev)
        j = torch.randperm(y.shape[0], generator=gen)[:size].to(dev)
        if whole:
            kxx, kyy, kxy = kxx_all[i[:, None], i], kyy_all[j[:, None], j], kxy_all[i[:, None], j]
        else:
            xs, ys = x[i], y[j]
            kxx, kyy, kxy = polynomial_kernel(xs, xs), polynomial_kernel(ys, ys), polynomial_kernel(xs, ys)
        values.append(_mmd2_unbiased(kxx, kyy, kxy))
    arr = np.asarray(values)
    return float(arr.mean()), float(arr.std())
