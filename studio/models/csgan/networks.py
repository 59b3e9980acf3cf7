"""CSGAN content generators and their discriminators (CSGAN paper §4 and §6.3).

Two architectures, both with the paper's BatchNorm-*then*-ReLU order (the paper found it trains more
stably than ReLU-BN, in G and D alike):

* ``dcgan64``: DCGAN (Radford et al.) at 64×64 — Linear 100→1024·4·4, four 5×5 stride-2 transposed
  convolutions (1024→512→256→128→3), Tanh. D mirrors it with four 5×5 stride-2 convolutions.
* ``lsgan112``: LSGAN (Mao et al., the "112×112" scene model) — z of 1024, Linear→256·7·7, 3×3
  transposed convolutions with strides 2,1,2,1,2,2 (six BN-ReLU blocks) and a 3×3 stride-1 output
  convolution to RGB, Tanh. Six blocks alternating 2/1 strictly would only reach 56 px from 7, so the
  last two doublings follow LSGAN's own table. D: four 5×5 stride-2 convolutions (64→128→256→512), Linear→1.

``width`` scales every hidden channel count so tests can build tiny nets and the bundled starter model
stays small; ``width=1`` is the paper's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

ARCHS = ("dcgan64", "lsgan112")


@dataclass
class CSGANConfig:
    """Everything needed to rebuild the networks; stored as ``card.config``."""

    arch: str = "dcgan64"
    width: float = 1.0
    latent_dim: int = 0  # 0 = the architecture's default (100 for dcgan64, 1024 for lsgan112)

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown CSGAN architecture '{self.arch}' (use one of {', '.join(ARCHS)})")
        if not (0 < float(self.width) <= 4):
            raise ValueError(f"width multiplier must be in (0, 4], got {self.width}")
        if self.latent_dim <= 0:
            self.latent_dim = 100 if self.arch == "dcgan64" else 1024

    @property
    def image_size(self) -> int:
        return 64 if self.arch == "dcgan64" else 112

    def ch(self, n: int) -> int:
        """A hidden channel count scaled by the width multiplier (at least 4)."""
        return max(4, int(round(n * self.width)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CSGANConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _up(cin: int, cout: int, k: int, stride: int) -> list[nn.Module]:
    """Transposed conv that multiplies the size by ``stride`` exactly, then BN, then ReLU."""
    pad = k // 2
    return [
        nn.ConvTranspose2d(cin, cout, k, stride, pad, output_padding=stride - 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


def _down(cin: int, cout: int, k: int, bn: bool) -> list[nn.Module]:
    """Stride-2 conv, then BN (except on the input layer, as in DCGAN), then LeakyReLU."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, 2, k // 2, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class Generator(nn.Module):
    """z [N, latent_dim] -> image [N, 3, S, S] in [-1, 1]."""

    def __init__(self, config: CSGANConfig):
        super().__init__()
        self.config = config
        c = config.ch
        if config.arch == "dcgan64":
            self.base, self.start = c(1024), 4
            chans = [c(1024), c(512), c(256), c(128)]
            blocks: list[nn.Module] = []
            for a, b in zip(chans, chans[1:]):
                blocks += _up(a, b, 5, 2)
            blocks += [nn.ConvTranspose2d(chans[-1], 3, 5, 2, 2, output_padding=1, bias=False), nn.Tanh()]
        else:
            self.base, self.start = c(256), 7
            plan = [(c(256), 2), (c(256), 1), (c(256), 2), (c(256), 1), (c(128), 2), (c(64), 2)]
            blocks = []
            cin = self.base
            for cout, stride in plan:
                blocks += _up(cin, cout, 3, stride)
                cin = cout
            blocks += [nn.ConvTranspose2d(cin, 3, 3, 1, 1, bias=False), nn.Tanh()]
        # The projection: Linear, then BN and ReLU on the reshaped 'start'×'start' map (BN-then-ReLU).
        self.project = nn.Linear(config.latent_dim, self.base * self.start * self.start, bias=False)
        self.project_act = nn.Sequential(nn.BatchNorm2d(self.base), nn.ReLU(inplace=True))
        self.body = nn.Sequential(*blocks)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """First-layer activations [N, base, start, start] (used for GANSpace directions)."""
        x = self.project(z).view(z.shape[0], self.base, self.start, self.start)
        return self.project_act(x)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.features(z))


class Discriminator(nn.Module):
    """image [N, 3, S, S] in [-1, 1] -> one unbounded score per image [N] (least-squares GAN)."""

    def __init__(self, config: CSGANConfig):
        super().__init__()
        self.config = config
        c = config.ch
        if config.arch == "dcgan64":
            chans = [3, c(128), c(256), c(512), c(1024)]
        else:
            chans = [3, c(64), c(128), c(256), c(512)]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(chans, chans[1:])):
            layers += _down(a, b, 5, bn=i > 0)
        self.body = nn.Sequential(*layers)
        end = config.image_size // 16
        self.head = nn.Linear(chans[-1] * end * end, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation (Radford et al. §4): weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02).

    Optional (``--init dcgan``): the CSGAN paper kept PyTorch's default initialisation, our default too.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def build(config: CSGANConfig) -> tuple[Generator, Discriminator]:
    return Generator(config), Discriminator(config)
