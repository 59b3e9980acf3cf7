"""Inception-style score (Salimans et al. 2016): exp(E_x KL(p(y|x) ‖ p(y))), mean and std over splits.

High when each image is confidently one class (low-entropy p(y|x)) and the classes are spread out
(high-entropy p(y)); ranges from 1 to the number of classes. With a classifier other than Inception-v3
(our default is MobileNetV2 on ImageNet) the number is only comparable with scores of the same network.
"""

from __future__ import annotations

import numpy as np
import torch


def inception_score_from_probs(probs: torch.Tensor | np.ndarray, splits: int = 10) -> tuple[float, float]:
    p = torch.as_tensor(np.asarray(probs) if not isinstance(probs, torch.Tensor) else probs).double()
    if p.ndim != 2 or p.shape[0] < 1:
        raise ValueError(f"probabilities must be [N, C], got {tuple(p.shape)}")
    splits = max(1, min(int(splits), p.shape[0]))
    scores = []
    for part in torch.tensor_split(p, splits):
        py = part.mean(dim=0, keepdim=True)
        kl = (torch.xlogy(part, part) - torch.xlogy(part, py.expand_as(part))).sum(dim=1)
        scores.append(float(torch.exp(kl.mean())))
    arr = np.asarray(scores)
    return float(arr.mean()), float(arr.std())


def inception_score(logits: torch.Tensor | np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Score from classifier logits [N, C]."""
    x = torch.as_tensor(np.asarray(logits) if not isinstance(logits, torch.Tensor) else logits).double()
    return inception_score_from_probs(torch.softmax(x, dim=1), splits)
