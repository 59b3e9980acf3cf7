"""U-GAT-IT networks: the attention generator with AdaLIN and the CAM discriminators.

Generator: encoder (7×7 conv, two stride-2 convs, residual blocks, all InstanceNorm) → CAM: an
auxiliary classifier (source vs. other domain) on global average- and max-pooled features; its weights
re-weight the feature channels (attention), and the summed attention features give a heatmap →
AdaLIN residual blocks whose γ, β come from fully connected layers on the attention features →
decoder (upsample + conv + LIN) → tanh.

AdaLIN mixes instance and layer normalisation with a learned ρ in [0, 1] (clipped after every
optimiser step by :func:`clip_rho`): ρ→1 keeps per-channel statistics (content), ρ→0 normalises the
whole layer (shape and style change more freely).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from studio.models.translate.tiling import pad_to_multiple

from .config import UGATITConfig


def _ilnorm(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    in_mean = x.mean(dim=(2, 3), keepdim=True)
    in_var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    ln_mean = x.mean(dim=(1, 2, 3), keepdim=True)
    ln_var = x.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (x - in_mean) / torch.sqrt(in_var + eps), (x - ln_mean) / torch.sqrt(ln_var + eps)


class AdaLIN(nn.Module):
    """γ·(ρ·IN(x) + (1-ρ)·LN(x)) + β with γ, β given per sample; ρ is learned per channel."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.full((1, channels, 1, 1), 0.9))

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        x_in, x_ln = _ilnorm(x, self.eps)
        rho = self.rho.expand(x.shape[0], -1, -1, -1)
        out = rho * x_in + (1 - rho) * x_ln
        return out * gamma[:, :, None, None] + beta[:, :, None, None]


class LIN(nn.Module):
    """Layer-Instance Norm of the decoder: learned ρ (starting at 0, i.e. LayerNorm), γ, β."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_in, x_ln = _ilnorm(x, self.eps)
        rho = self.rho.expand(x.shape[0], -1, -1, -1)
        return (rho * x_in + (1 - rho) * x_ln) * self.gamma + self.beta


def clip_rho(module: nn.Module) -> None:
    """Clamp every AdaLIN/LIN ρ to [0, 1] (call after each optimiser step)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (AdaLIN, LIN)):
                m.rho.clamp_(0.0, 1.0)


class ResBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=False),
            nn.InstanceNorm2d(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=False),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class AdaLINBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.pad1, self.conv1 = nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True)
        self.norm1 = AdaLIN(dim)
        self.pad2, self.conv2 = nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True)
        self.norm2 = AdaLIN(dim)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(self.pad1(x)), gamma, beta))
        y = self.norm2(self.conv2(self.pad2(y)), gamma, beta)
        return x + y


class CAM(nn.Module):
    """Class activation map attention: auxiliary logits from GAP and GMP features, whose classifier
    weights scale the channels; the two re-weighted maps are fused by a 1×1 conv."""

    def __init__(self, dim: int, sn: bool = False, leaky: bool = False):
        super().__init__()
        wrap = spectral_norm if sn else (lambda m: m)
        self.gap_fc = wrap(nn.Linear(dim, 1, bias=False))
        self.gmp_fc = wrap(nn.Linear(dim, 1, bias=False))
        self.fuse = nn.Conv2d(dim * 2, dim, 1, 1, bias=True)
        self.leaky = leaky

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        gap_logit = self.gap_fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
        gmp_logit = self.gmp_fc(F.adaptive_max_pool2d(x, 1).flatten(1))
        w_gap = self.gap_fc.weight[:, :, None, None]  # [1, C, 1, 1]
        w_gmp = self.gmp_fc.weight[:, :, None, None]
        y = self.fuse(torch.cat([x * w_gap, x * w_gmp], 1))
        y = F.leaky_relu(y, 0.2) if self.leaky else F.relu(y)
        heatmap = y.sum(dim=1, keepdim=True)
        return y, torch.cat([gap_logit, gmp_logit], 1), heatmap


class UGATITGenerator(nn.Module):
    """Returns (image, cam_logit, heatmap). Any input size works: reflect-pads to a multiple of 4.

    The non-light γ/β MLP is built for the training size; at other sizes the attention features are
    average-pooled to that grid first (exactly the identity at the training size), so the model stays
    applicable to any image while matching Kim et al. where they define it.
    """

    def __init__(self, cfg: UGATITConfig):
        super().__init__()
        ngf, dim = cfg.ngf, cfg.ngf * 4
        self.light = cfg.light
        self.grid = cfg.img_size // 4
        enc: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(3, ngf, 7, bias=False),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(True),
        ]
        for i in range(2):
            m = 2**i
            enc += [
                nn.ReflectionPad2d(1),
                nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, bias=False),
                nn.InstanceNorm2d(ngf * m * 2),
                nn.ReLU(True),
            ]
        enc += [ResBlock(dim) for _ in range(cfg.n_res)]
        self.encoder = nn.Sequential(*enc)
        self.cam = CAM(dim)
        fc_in = dim if cfg.light else self.grid * self.grid * dim
        self.fc = nn.Sequential(
            nn.Linear(fc_in, dim, bias=False), nn.ReLU(True), nn.Linear(dim, dim, bias=False), nn.ReLU(True)
        )
        self.gamma = nn.Linear(dim, dim, bias=False)
        self.beta = nn.Linear(dim, dim, bias=False)
        self.blocks = nn.ModuleList([AdaLINBlock(dim) for _ in range(cfg.n_res)])
        dec: list[nn.Module] = []
        for i in range(2):
            m = 2 ** (2 - i)
            dec += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.ReflectionPad2d(1),
                nn.Conv2d(ngf * m, ngf * m // 2, 3, bias=False),
                LIN(ngf * m // 2),
                nn.ReLU(True),
            ]
        dec += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, bias=False), nn.Tanh()]
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, (h, w) = pad_to_multiple(x, 4)
        feat, cam_logit, heatmap = self.cam(self.encoder(x))
        if self.light:
            pooled = F.adaptive_avg_pool2d(feat, 1).flatten(1)
        else:
            grid = feat if feat.shape[-2:] == (self.grid, self.grid) else F.adaptive_avg_pool2d(feat, self.grid)
            pooled = grid.flatten(1)
        hidden = self.fc(pooled)
        gamma, beta = self.gamma(hidden), self.beta(hidden)
        y = feat
        for block in self.blocks:
            y = block(y, gamma, beta)
        out = self.decoder(y)[:, :, :h, :w]
        return out, cam_logit, heatmap


class UGATITDiscriminator(nn.Module):
    """Spectral-normalised conv stack (n_layers−2 stride-2 convs, one stride-1), its own CAM, and a
    final conv: returns (patch logits, cam_logit, heatmap). Global: 7 layers, local: 5 (at 256 px)."""

    def __init__(self, ndf: int = 64, n_layers: int = 5):
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            spectral_norm(nn.Conv2d(3, ndf, 4, 2, bias=True)),
            nn.LeakyReLU(0.2, True),
        ]
        for i in range(1, n_layers - 2):
            m = 2 ** (i - 1)
            layers += [
                nn.ReflectionPad2d(1),
                spectral_norm(nn.Conv2d(ndf * m, ndf * m * 2, 4, 2, bias=True)),
                nn.LeakyReLU(0.2, True),
            ]
        m = 2 ** (n_layers - 3)
        layers += [
            nn.ReflectionPad2d(1),
            spectral_norm(nn.Conv2d(ndf * m, ndf * m * 2, 4, 1, bias=True)),
            nn.LeakyReLU(0.2, True),
        ]
        self.features = nn.Sequential(*layers)
        self.cam = CAM(ndf * m * 2, sn=True, leaky=True)
        self.head = nn.Sequential(nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(ndf * m * 2, 1, 4, 1, bias=False)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y, cam_logit, heatmap = self.cam(self.features(x))
        return self.head(y), cam_logit, heatmap
