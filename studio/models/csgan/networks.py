"""CSGAN content generators and their discriminators (CSGAN paper §4 and §6.3).

The paper's two architectures, both with its BatchNorm-*then*-ReLU order (the paper found it trains
more stably than ReLU-BN, in G and D alike):

* ``dcgan64``: DCGAN (Radford et al.) at 64×64 — Linear 100→1024·4·4, four 5×5 stride-2 transposed
  convolutions (1024→512→256→128→3), Tanh. D mirrors it with four 5×5 stride-2 convolutions.
* ``lsgan112``: LSGAN (Mao et al., the "112×112" scene model) — z of 1024, Linear→256·7·7, 3×3
  transposed convolutions with strides 2,1,2,1,2,2 (six BN-ReLU blocks) and a 3×3 stride-1 output
  convolution to RGB, Tanh. Six blocks alternating 2/1 strictly would only reach 56 px from 7, so the
  last two doublings follow LSGAN's own table. D: four 5×5 stride-2 convolutions (64→128→256→512), Linear→1.

Options beyond the paper, for 128 and 256 px (named, recorded in the card; the two above stay the default):

* ``dcgan128`` / ``dcgan256``: the same DCGAN pattern one / two doublings deeper — Linear→1024·4·4, then
  5×5 stride-2 BN-ReLU transposed convolutions halving the channels (1024→…→64, or →32 at 256 px), Tanh;
  D mirrors it (5×5 stride-2 convolutions up to 1024 channels at 4×4, Linear→1). ``dcgan64`` is the
  same rule with four doublings.
* ``fastgan128`` / ``fastgan256``: a FastGAN-style generator (Liu et al., ICLR 2021, "Towards Faster
  and Stabilized GAN Training for High-fidelity Few-shot Image Synthesis"), written from the paper:
  z of 256 → 4×4 by a 4×4 transposed convolution, BN, GLU; each doubling is nearest-neighbour
  upsampling, a 3×3 convolution, BN and GLU; **skip-layer excitation** (SLE) gates the channels of the
  64, 128 (and 256) px maps with a sigmoid computed from the 4, 8 (and 16) px maps (adaptive average
  pool to 4×4, 4×4 convolution, LeakyReLU, 1×1 convolution, sigmoid); a 3×3 convolution to RGB, Tanh.
  FastGAN's noise injection is left out (rendering must be a function of z alone); its plain
  discriminator here is the DCGAN one of the same size (or ``--discriminator projected``).

``width`` scales every hidden channel count so tests can build tiny nets and the bundled starter model
stays small; ``width=1`` is the paper's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from studio.core.bnfold import folded_linear, frozen_norm

ARCHS = ("dcgan64", "lsgan112", "dcgan128", "dcgan256", "fastgan128", "fastgan256")
IMAGE_SIZES = {"dcgan64": 64, "lsgan112": 112, "dcgan128": 128, "dcgan256": 256, "fastgan128": 128, "fastgan256": 256}
LATENT_DIMS = {"dcgan64": 100, "lsgan112": 1024, "dcgan128": 100, "dcgan256": 100, "fastgan128": 256, "fastgan256": 256}


@dataclass
class CSGANConfig:
    """Everything needed to rebuild the networks; stored as ``card.config``."""

    arch: str = "dcgan64"
    width: float = 1.0
    latent_dim: int = 0  # 0 = the architecture's default (LATENT_DIMS: 100 for dcganN, 1024 for lsgan112, ...)

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown CSGAN architecture '{self.arch}' (use one of {', '.join(ARCHS)})")
        if not (0 < float(self.width) <= 4):
            raise ValueError(f"width multiplier must be in (0, 4], got {self.width}")
        if self.latent_dim <= 0:
            self.latent_dim = LATENT_DIMS[self.arch]

    @property
    def image_size(self) -> int:
        return IMAGE_SIZES[self.arch]

    @property
    def doublings(self) -> int:
        """How many ×2 steps lead from the 4×4 start to the image (DCGAN and FastGAN archs)."""
        return int(self.image_size // 4).bit_length() - 1

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
        self.fast: FastGANBody | None = None
        blocks: list[nn.Module] = []
        if config.arch.startswith("fastgan"):
            self.fast = FastGANBody(config)
            self.base, self.start = self.fast.channels[4], 4
        elif config.arch.startswith("dcgan"):  # dcgan64 / 128 / 256: channels halve at each doubling
            self.base, self.start = c(1024), 4
            chans = [c(1024 >> i) for i in range(config.doublings)]
            for a, b in zip(chans, chans[1:]):
                blocks += _up(a, b, 5, 2)
            blocks += [nn.ConvTranspose2d(chans[-1], 3, 5, 2, 2, output_padding=1, bias=False), nn.Tanh()]
        else:
            self.base, self.start = c(256), 7
            plan = [(c(256), 2), (c(256), 1), (c(256), 2), (c(256), 1), (c(128), 2), (c(64), 2)]
            cin = self.base
            for cout, stride in plan:
                blocks += _up(cin, cout, 3, stride)
                cin = cout
            blocks += [nn.ConvTranspose2d(cin, 3, 3, 1, 1, bias=False), nn.Tanh()]
        if self.fast is None:
            # The projection: Linear, then BN and ReLU on the reshaped 'start'×'start' map (BN-then-ReLU).
            self.project = nn.Linear(config.latent_dim, self.base * self.start * self.start, bias=False)
            self.project_act = nn.Sequential(nn.BatchNorm2d(self.base), nn.ReLU(inplace=True))
            self.body = nn.Sequential(*blocks)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """First-layer activations [N, base, start, start] (used for GANSpace directions)."""
        if self.fast is not None:
            return self.fast.features(z)
        x = self.project(z).view(z.shape[0], self.base, self.start, self.start)
        return self.project_act(x)

    @property
    def finetune_lr(self) -> float | None:
        """The style fine-tune's measured Adam learning rate where it differs from the fine-tune's default
        (``finetune.DEFAULT_LR``, measured on the DCGAN-style ones; None = that): 2e-3 for FastGAN, whose
        last two layers at 5e-4 beat a colour transfer of its samples on none of the eight judged paintings
        in 60 steps, and at 2e-3, in the default 100 steps, on all 22 paintings of data/paintings."""
        return 2e-3 if self.fast is not None else None

    def layer_groups(self) -> list[tuple[str, list[str]]] | None:
        """FastGAN's layers in forward order (see ``FastGANBody.layer_groups``); None = the generic rule
        (these sequential generators register their layers in forward order)."""
        return None if self.fast is None else self.fast.layer_groups("fast.")

    def fold_norms_for_render(self) -> int:
        """On a render copy only (studio.core.bnfold): the projection's norm into the projection."""
        norm = self.project_act[0] if self.fast is None else None
        if not isinstance(norm, nn.BatchNorm2d) or not frozen_norm(norm, self.base):
            return 0
        self.project = folded_linear(self.project, norm, self.start * self.start)
        self.project_act[0] = nn.Identity()
        return 1

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.fast is not None:
            return self.fast.decode(self.fast.features(z))
        return self.body(self.features(z))


class SkipLayerExcitation(nn.Module):
    """FastGAN's SLE: a channel gate for a high-resolution map computed from a low-resolution one."""

    def __init__(self, low: int, high: int):
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(low, high, 4, 1, 0, bias=False),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(high, high, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        return high * self.gate(low)


def _glu_up(cin: int, cout: int) -> nn.Sequential:
    """×2 nearest upsampling, 3×3 convolution to 2·cout, BN, GLU (→ cout channels)."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(cin, 2 * cout, 3, 1, 1, bias=False),
        nn.BatchNorm2d(2 * cout),
        nn.GLU(dim=1),
    )


class FastGANBody(nn.Module):
    """The FastGAN-style generator (see the module docstring); ``Generator`` delegates to it."""

    # channels at each resolution for width 1 (FastGAN's ngf=64 table)
    CHANNELS = {4: 1024, 8: 512, 16: 256, 32: 128, 64: 128, 128: 64, 256: 32}
    SLE_PAIRS = ((4, 64), (8, 128), (16, 256))

    def __init__(self, config: CSGANConfig):
        super().__init__()
        c = config.ch
        self.sizes = [4 << i for i in range(config.doublings + 1)]
        self.channels = {s: c(self.CHANNELS[s]) for s in self.sizes}
        first = self.channels[4]
        self.init = nn.Sequential(
            nn.ConvTranspose2d(config.latent_dim, 2 * first, 4, 1, 0, bias=False),
            nn.BatchNorm2d(2 * first),
            nn.GLU(dim=1),
        )
        self.ups = nn.ModuleList(_glu_up(self.channels[s // 2], self.channels[s]) for s in self.sizes[1:])
        self.sle = nn.ModuleDict(
            {
                str(high): SkipLayerExcitation(self.channels[low], self.channels[high])
                for low, high in self.SLE_PAIRS
                if high in self.channels
            }
        )
        self.to_rgb = nn.Sequential(nn.Conv2d(self.channels[self.sizes[-1]], 3, 3, 1, 1, bias=False), nn.Tanh())

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """The 4×4 map after the first block (GANSpace's layer)."""
        return self.init(z.view(z.shape[0], -1, 1, 1))

    def layer_groups(self, prefix: str = "") -> list[tuple[str, list[str]]]:
        """The layers in forward order, one per resolution, for "fine-tune the last K layers".

        Registration order (init, every up block, then every SLE gate, to_rgb) is not forward order, so
        the generic rule would call the 128 px SLE gate and to_rgb "the last two layers": a channel gate
        and a 3×3 colour map, which can change the palette but draw no stroke. A FastGAN layer is the
        up block of one resolution together with the SLE gate that scales its output."""

        def names(module: nn.Module, at: str) -> list[str]:
            return [f"{prefix}{at}.{n}" for n, _ in module.named_parameters()]

        groups = [(f"{prefix}init", names(self.init, "init"))]
        for i, (size, up) in enumerate(zip(self.sizes[1:], self.ups)):
            params = names(up, f"ups.{i}")
            if str(size) in self.sle:
                params += names(self.sle[str(size)], f"sle.{size}")
            groups.append((f"{prefix}ups.{i}", params))
        groups.append((f"{prefix}to_rgb", names(self.to_rgb, "to_rgb")))
        return groups

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        maps = {4: x}
        for size, up in zip(self.sizes[1:], self.ups):
            x = up(x)
            gate = self.sle[str(size)] if str(size) in self.sle else None
            if gate is not None:
                x = gate(x, maps[size // 16])
            maps[size] = x
        return self.to_rgb(x)


class Discriminator(nn.Module):
    """image [N, 3, S, S] in [-1, 1] -> one unbounded score per image [N] (least-squares GAN)."""

    def __init__(self, config: CSGANConfig):
        super().__init__()
        self.config = config
        c = config.ch
        if config.arch == "lsgan112":
            chans = [3, c(64), c(128), c(256), c(512)]
        else:  # DCGAN's D, one 5×5 stride-2 layer per doubling, up to 1024 channels at 4×4
            n = config.doublings
            chans = [3] + [c(1024 >> (n - 1 - i)) for i in range(n)]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(chans, chans[1:])):
            layers += _down(a, b, 5, bn=i > 0)
        self.body = nn.Sequential(*layers)
        end = config.image_size // (2 ** (len(chans) - 1))
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
