"""A cheap metric for training loops: KID of a few hundred samples against fixed reference features.

Why KID: it is unbiased, so 256 samples give a usable trend (FID at that size is dominated by its
bias). Reference features are computed once, at construction; each call costs one feature pass over
the samples plus a few small kernel matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from .features import DEFAULT_FEATURES, FeatureNet, batched, extract, load_feature_net
from .kid import kid


class KIDMonitor:
    """``KIDMonitor(reference, "mobilenet_v2", n=256)(samples) -> float`` (KID, lower is better).

    ``reference``: [N,3,H,W] images or a folder of images; ``samples``: [M,3,H,W] images. Images are in
    ``value_range`` (default (0, 1); pass (-1, 1) for tanh generators). The first ``n`` of each are used.
    """

    def __init__(
        self,
        reference: torch.Tensor | str | Path,
        feature_net: str | FeatureNet = DEFAULT_FEATURES,
        n: int = 256,
        device: str | torch.device = "cpu",
        batch_size: int = 64,
        subsets: int = 10,
        value_range: tuple[float, float] = (0.0, 1.0),
        image_size: int | None = None,
    ):
        self.net = feature_net if isinstance(feature_net, FeatureNet) else load_feature_net(feature_net, device)
        self.n, self.batch_size, self.subsets = int(n), int(batch_size), int(subsets)
        self.value_range = value_range
        if isinstance(reference, (str, Path)):
            from .reference import reference_features

            size = image_size or 64
            self.reference = reference_features(reference, self.net, size, batch_size, limit=self.n).features
        else:
            self.reference = self._features(reference[: self.n])
        self.name = f"kid@{self.net.name}"

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        lo, hi = self.value_range
        images = ((images.detach().float() - lo) / (hi - lo)).clamp(0, 1)
        return extract(self.net, batched(images, self.batch_size))[0]

    def __call__(self, samples: torch.Tensor) -> float:
        feats = self._features(samples[: self.n])
        size = min(feats.shape[0], self.reference.shape[0])
        return kid(feats, self.reference, subsets=self.subsets, subset_size=size)[0]

    def score_generator(self, sample: Callable[[int], torch.Tensor]) -> float:
        """Convenience: ``sample(k)`` returns k images; draws n in batches without keeping a graph."""
        with torch.no_grad():
            parts, got = [], 0
            while got < self.n:
                k = min(self.batch_size, self.n - got)
                parts.append(sample(k).detach().cpu())
                got += k
        return self(torch.cat(parts))
