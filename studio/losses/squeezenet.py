"""SqueezeNet 1.1 as a frozen loss network: the CSGAN paper's fine-tune configuration (§4).

The paper fine-tunes with SqueezeNet (Iandola et al. 2016): "the outputs of layer 1, 4, 6, and 7 were
used for evaluating style loss and layer 3 for content loss". Those are indices into torchvision's
``squeezenet1_1().features``: layer1 = the ReLU after the first convolution, layer3 = fire2, layer4 =
fire3, layer6 = fire4, layer7 = fire5. Here ``layerN`` is the output of ``features[N]`` (0–12).

**The ImageNet weights are user-supplied.** No package we can depend on ships them (the PyPI packages
named after SqueezeNet hold code only; torchvision downloads its weights at run time, which the studio
never does). The user gives a safetensors file with torchvision's ``features.*`` keys
(``--loss-net-weights PATH``); ``scripts/convert_squeezenet_weights.py`` makes one from torchvision's
``squeezenet1_1-*.pth`` (read there with ``torch.load(weights_only=True)``, the user's own decision to
convert). The studio itself never unpickles: a .pth handed to it directly is refused with a message
naming the converter.

Inputs are RGB images in [0, 1], normalised here with the ImageNet mean and std the weights expect.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from studio.core.errors import StudioError

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
LAYER_NAMES = tuple(f"layer{i}" for i in range(13))
STYLE_LAYERS = ("layer1", "layer4", "layer6", "layer7")  # the paper's style layers
CONTENT_LAYER = "layer3"  # the paper's content layer
CONVERTER = "scripts/convert_squeezenet_weights.py"
MISSING = (
    "the SqueezeNet loss network needs ImageNet weights, and no package the studio depends on ships them: "
    f"pass --loss-net-weights FILE.safetensors (make one from torchvision's squeezenet1_1 .pth with "
    f"'python {CONVERTER} squeezenet1_1-*.pth squeezenet1_1.safetensors')"
)


def _features() -> nn.Sequential:
    """torchvision's squeezenet1_1 feature stack, built without weights (nothing is downloaded)."""
    from torchvision.models import squeezenet1_1

    return squeezenet1_1(weights=None).features


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """The ``features.*`` tensors a weights file must hold, with their shapes."""
    return {f"features.{k}": tuple(v.shape) for k, v in _features().state_dict().items()}


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The ``features.*`` tensors of a user's SqueezeNet 1.1 safetensors file, checked; clear errors."""
    from safetensors.torch import load_file

    from studio.core.checkpoint import sniff_foreign
    from studio.core.safeio import FileProblem, open_regular

    if not str(path):
        raise StudioError(MISSING)
    p = Path(path).expanduser()
    if not os.path.lexists(p):
        raise StudioError(f"{p}: no such file. {MISSING}")
    with open_regular(p, FileProblem, "SqueezeNet weights file") as fh:
        head = fh.read(16)
    foreign = sniff_foreign(p, head)
    if foreign or p.suffix.lower() in (".pth", ".pt", ".pkl"):
        raise StudioError(
            f"{p}: the studio reads SqueezeNet weights only from a safetensors file and never unpickles a "
            f".pth; convert it once with 'python {CONVERTER} {p.name} squeezenet1_1.safetensors'"
        )
    try:
        tensors = load_file(str(p), device="cpu")
    except Exception as exc:  # safetensors raises its own error types
        raise StudioError(f"{p}: not a readable safetensors file ({exc})") from None
    want = expected_shapes()
    missing = [k for k in want if k not in tensors]
    if missing:
        raise StudioError(
            f"{p}: not SqueezeNet 1.1 weights: {len(missing)} of torchvision's features.* tensors are missing "
            f"(first: {', '.join(missing[:3])})"
        )
    wrong = [f"{k} {tuple(tensors[k].shape)} (expected {s})" for k, s in want.items() if tuple(tensors[k].shape) != s]
    if wrong:
        raise StudioError(f"{p}: not SqueezeNet 1.1 weights: {'; '.join(wrong[:3])}")
    bad = [k for k in want if not tensors[k].is_floating_point() or not torch.isfinite(tensors[k]).all()]
    if bad:
        raise StudioError(f"{p}: tensor {bad[0]} is not finite floating point")
    return {k: tensors[k].float() for k in want}


class SqueezeNetFeatures(nn.Module):
    """Frozen SqueezeNet 1.1 features returning the named layers' activations in one forward pass."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, weights: dict[str, torch.Tensor] | None = None, last_layer: str = "layer7"):
        super().__init__()
        if last_layer not in LAYER_NAMES:
            raise StudioError(f"unknown SqueezeNet layer {last_layer!r} (known: {', '.join(LAYER_NAMES)})")
        self.features = _features()
        if weights is not None:
            self.load_state_dict({k: v for k, v in weights.items()}, strict=True)
        self.names = list(LAYER_NAMES[: LAYER_NAMES.index(last_layer) + 1])
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False).eval()

    def forward(self, rgb01: torch.Tensor, wanted: Iterable[str]) -> dict[str, torch.Tensor]:
        wanted = set(wanted)
        unknown = wanted - set(self.names)
        if unknown:
            raise StudioError(
                f"SqueezeNet layer(s) {sorted(unknown)} are not computed by this network (it stops at {self.names[-1]})"
            )
        last = max(self.names.index(w) for w in wanted)
        x = (rgb01 - self.mean.to(rgb01.dtype)) / self.std.to(rgb01.dtype)
        out = {}
        for i in range(last + 1):
            x = self.features[i](x)
            if f"layer{i}" in wanted:
                out[f"layer{i}"] = x
        return out


def last_of(layers: Iterable[str]) -> str:
    names = list(layers)
    for name in names:
        if name not in LAYER_NAMES:
            raise StudioError(f"unknown SqueezeNet layer {name!r} (known: {', '.join(LAYER_NAMES)})")
    return max(names, key=LAYER_NAMES.index)


def load_squeezenet(weights_path: str | Path, device: str | torch.device = "cpu", last_layer: str = "layer7"):
    """A frozen SqueezeNet 1.1 on ``device`` with the user's ImageNet weights (see the module docstring)."""
    return SqueezeNetFeatures(read_weights(weights_path), last_layer).to(torch.device(device))
