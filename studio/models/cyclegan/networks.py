"""CycleGAN networks: DnCNN and ResNet generators, the ECE 5-layer, the 70×70 PatchGAN and the Kaggle
report's average-pooled discriminators.

Generators take ``in_channels`` (3, or 3 + latent channels for Bayesian CycleGAN's noise-concatenated
inputs) and always return 3 channels. All are fully convolutional, so a trained generator translates
images of any size; the ResNet generator reflect-pads to a multiple of 4 (its two stride-2 stages) and
crops back, so odd sizes work.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.models.translate.tiling import pad_to_multiple

from .config import CycleGANConfig


class DnCNNGenerator(nn.Module):
    """conv 3→C + ReLU, D × (conv C→C + BN + ReLU), conv C→3 (ECE 285's generator).

    With ``residual`` the output is added to the input, as in DnCNN's residual learning; the last conv
    starts at zero, so a new generator is the identity and training learns only the change of style.
    """

    def __init__(self, channels: int = 64, depth: int = 6, residual: bool = True, in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth):
            layers += [
                nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(channels, 3, 3, padding=1))
        self.net = nn.Sequential(*layers)
        self.residual = residual
        if residual:
            last = self.net[-1]
            assert isinstance(last, nn.Conv2d) and last.bias is not None
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        return x[:, :3] + y if self.residual else y  # the image part of the input (latent channels follow)


def _g_norm(kind: str, channels: int) -> nn.Module:
    """The generator's normalisation: InstanceNorm (Zhu et al.) or LayerNorm over (C, H, W) with a
    per-channel affine (GroupNorm with one group), the Kaggle report's choice."""
    return nn.GroupNorm(1, channels) if kind == "layer" else nn.InstanceNorm2d(channels)


class ResBlock(nn.Module):
    def __init__(self, dim: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=False),
            _g_norm(norm, dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=False),
            _g_norm(norm, dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _up_layers(cin: int, cout: int, how: str) -> list[nn.Module]:
    """×2 upsampling to ``cout`` channels: a transposed conv, or a nearest resize and a 3×3 conv."""
    if how == "resize":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3, bias=False)]
    return [nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1, bias=False)]


class ResnetGenerator(nn.Module):
    """Johnson et al.'s encoder / residual blocks / decoder, as in CycleGAN.

    ``skips`` adds the Kaggle report's skip connections: each decoder stage also receives the encoder
    feature map of the same resolution (concatenated, then mixed by the up-convolution), which helps
    keep spatial detail that the bottleneck would otherwise have to carry.

    ``norm="layer"`` is the report's LayerNorm "after convolutional layers (except input and output)":
    every conv but the 7×7 stem and the head is followed by LayerNorm, the stem by nothing.

    ``upsample="resize"`` replaces each stride-2 transposed convolution by a nearest-neighbour ×2 resize
    and a 3×3 convolution (Odena, Dumoulin and Olah, "Deconvolution and checkerboard artifacts", 2016):
    a 3×3 transposed conv at stride 2 overlaps unevenly, and our photo → painting run showed its
    2-pixel stripes and mesh on flat areas. The default keeps the papers' layers.
    """

    def __init__(
        self,
        ngf: int = 64,
        n_blocks: int = 9,
        skips: bool = False,
        norm: str = "instance",
        in_channels: int = 3,
        upsample: str = "transposed",
    ):
        super().__init__()
        self.skips = skips
        stem_norm: list[nn.Module] = [] if norm == "layer" else [nn.InstanceNorm2d(ngf)]
        self.stem = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=not stem_norm), *stem_norm, nn.ReLU(True)
        )
        self.down1 = nn.Sequential(nn.Conv2d(ngf, ngf * 2, 3, 2, 1, bias=False), _g_norm(norm, ngf * 2), nn.ReLU(True))
        self.down2 = nn.Sequential(
            nn.Conv2d(ngf * 2, ngf * 4, 3, 2, 1, bias=False), _g_norm(norm, ngf * 4), nn.ReLU(True)
        )
        self.blocks = nn.Sequential(*[ResBlock(ngf * 4, norm) for _ in range(n_blocks)])
        k = 2 if skips else 1
        self.up1 = nn.Sequential(*_up_layers(ngf * 4 * k, ngf * 2, upsample), _g_norm(norm, ngf * 2), nn.ReLU(True))
        self.up2 = nn.Sequential(*_up_layers(ngf * 2 * k, ngf, upsample), _g_norm(norm, ngf), nn.ReLU(True))
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf * k, 3, 7), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_to_multiple(x, 4)
        e0 = self.stem(x)
        e1 = self.down1(e0)
        e2 = self.down2(e1)
        y = self.blocks(e2)
        if self.skips:
            y = self.up1(torch.cat([y, e2], 1))
            y = self.up2(torch.cat([y, e1], 1))
            y = self.head(torch.cat([y, e0], 1))
        else:
            y = self.head(self.up2(self.up1(y)))
        return y[:, :, :h, :w]


class ECEDiscriminator(nn.Module):
    """5 convs 3→16→64→256→256→1, 3×3, InstanceNorm + LeakyReLU(0.2) after the first four (ECE 285).

    The report uses stride 1 throughout (one score per pixel); ``strides`` lets a run trade that
    for speed (e.g. 2,2,2,1,1 scores 8×8 patches at 64 px). Output: [N, H'*W'] scores.
    """

    def __init__(
        self,
        widths: list[int] | tuple[int, ...] = (16, 64, 256, 256),
        strides: list[int] | tuple[int, ...] = (1, 1, 1, 1, 1),
        norm: str = "instance",
    ):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for w, s in zip(widths, strides[:4]):
            layers += [nn.Conv2d(cin, w, 3, s, 1), *_norm(norm, w), nn.LeakyReLU(0.2, True)]
            cin = w
        layers.append(nn.Conv2d(cin, 1, 3, strides[4], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)


class PatchDiscriminator(nn.Module):
    """The 70×70 PatchGAN: C64 (no norm) - C128 - C256 - C512 (stride 1) - conv to 1, 4×4 kernels."""

    def __init__(self, ndf: int = 64, norm: str = "instance"):
        super().__init__()
        bias = norm == "none"  # a norm layer's shift makes the conv bias redundant
        layers: list[nn.Module] = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for cin, cout, stride in ((ndf, ndf * 2, 2), (ndf * 2, ndf * 4, 2), (ndf * 4, ndf * 8, 1)):
            layers += [nn.Conv2d(cin, cout, 4, stride, 1, bias=bias), *_norm(norm, cout), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * 8, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)


class KaggleDiscriminator(PatchDiscriminator):
    """The Kaggle report's discriminator: the PatchGAN's five stacked convolutions (LayerNorm after the
    middle three in the report's configuration) and a 2-D average pooling at the end, so each image
    gets one logit, scored with a log (BCE) loss. Output: [N, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean(dim=(2, 3))


def _norm(kind: str, channels: int) -> list[nn.Module]:
    """InstanceNorm (the papers' choice), LayerNorm (the Kaggle report's; one-group GroupNorm) or
    nothing. InstanceNorm divides each image's per-channel mean and spread away, which hides much of an
    image's overall brightness and colour balance from D; LayerNorm keeps the balance between channels."""
    if kind == "instance":
        return [nn.InstanceNorm2d(channels)]
    if kind == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """N(0, 0.02) conv weights as in CycleGAN (leaves DnCNN's zero-initialised last layer alone)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            if m.weight.abs().sum() == 0:  # deliberately zero (residual DnCNN head)
                continue
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def build_generator(cfg: CycleGANConfig, in_channels: int = 3) -> nn.Module:
    """The configured generator; ``in_channels`` > 3 when latent channels are concatenated to the image."""
    if cfg.generator == "dncnn":
        return DnCNNGenerator(cfg.channels, cfg.depth, cfg.residual, in_channels)
    return ResnetGenerator(cfg.channels, cfg.n_blocks, cfg.skips, cfg.g_norm, in_channels, cfg.upsample)


def build_discriminator(cfg: CycleGANConfig) -> nn.Module:
    if cfg.discriminator == "ece":
        return ECEDiscriminator(cfg.d_channels, cfg.d_strides, cfg.d_norm)
    if cfg.discriminator == "kaggle":
        return KaggleDiscriminator(cfg.ndf, cfg.d_norm)
    return PatchDiscriminator(cfg.ndf, cfg.d_norm)
