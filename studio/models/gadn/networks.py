"""The five GADN networks, all built from residual blocks with ONE convolution on the residual branch.

Why one conv per block: the paper uses single-conv residual blocks (ReLU on the branch before the add)
and more of them instead of the usual two-conv blocks. Shortcuts carry no weights (average pooling or
nearest upsampling, zero-padding or averaging of channels), so each block has exactly one convolution.
Stride-2 and stride-1 blocks alternate ("SC" pairs in the paper's table) from the image down to 4x4,
then a fully connected layer; each network adds its own input/output layers on top of that trunk.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import GADNConfig


def match_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Weight-free channel change for shortcuts: zero-pad to grow, average groups (or cut) to shrink."""
    c = x.shape[1]
    if c == channels:
        return x
    if c < channels:
        return F.pad(x, (0, 0, 0, 0, 0, channels - c))
    if c % channels == 0:
        return x.reshape(x.shape[0], channels, c // channels, *x.shape[2:]).mean(2)
    return x[:, :channels]


class ResBlock(nn.Module):
    """out = shortcut(x) + relu(conv(x)); ``mode`` is 'same' (stride 1), 'down' (stride 2) or 'up'."""

    def __init__(self, cin: int, cout: int, mode: str = "same"):
        super().__init__()
        if mode not in ("same", "down", "up"):
            raise ValueError(f"unknown block mode {mode!r}")
        self.mode, self.cout = mode, cout
        self.conv = nn.Conv2d(cin, cout, 3, stride=2 if mode == "down" else 1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "up":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        branch = F.relu(self.conv(x))
        short = F.avg_pool2d(x, 2) if self.mode == "down" else x
        return match_channels(short, self.cout) + branch


def trunk_blocks(cfg: GADNConfig, levels: int | None = None) -> nn.Sequential:
    """The trunk's stride-2/stride-1 block pairs, all of them or the first ``levels`` pairs."""
    blocks: list[nn.Module] = []
    cin = 3
    for c in cfg.channels()[:levels]:
        blocks += [ResBlock(cin, c, "down"), ResBlock(c, c, "same")]
        cin = c
    return nn.Sequential(*blocks)


class Trunk(nn.Module):
    """Image -> features: stride-2/stride-1 block pairs down to 4x4, then the FC layer (with ReLU)."""

    def __init__(self, cfg: GADNConfig):
        super().__init__()
        self.blocks = trunk_blocks(cfg)
        self.fc = nn.Linear(cfg.channels()[-1] * 16, cfg.fc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.blocks(x).flatten(1)))


class Encoder(nn.Module):
    """E: image -> (mean, std) of a diagonal Gaussian over the content code (two parallel heads). With a
    content grid the heads are 1x1 convolutions on the trunk's N×N level, flattened to the same vector."""

    def __init__(self, cfg: GADNConfig):
        super().__init__()
        self.grid = cfg.content_grid
        if self.grid:
            self.blocks = trunk_blocks(cfg, cfg.grid_level)
            c = cfg.channels()[cfg.grid_level - 1]
            self.mean_map = nn.Conv2d(c, cfg.content_channels, 1)
            self.std_map = nn.Conv2d(c, cfg.content_channels, 1)
        else:
            self.trunk = Trunk(cfg)
            self.mean = nn.Linear(cfg.fc, cfg.content_dim)
            self.std = nn.Linear(cfg.fc, cfg.content_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.grid:
            h = self.blocks(x)
            return self.mean_map(h).flatten(1), F.softplus(self.std_map(h)).flatten(1) + 1e-4
        h = self.trunk(x)
        return self.mean(h), F.softplus(self.std(h)) + 1e-4


class StyleTable(nn.Module):
    """S: artist -> (mean, std) of their style code. Not a network: it never sees the image, it is
    two learned tables (the std is stored as its logarithm so it stays positive)."""

    def __init__(self, cfg: GADNConfig):
        super().__init__()
        self.mean = nn.Parameter(torch.randn(cfg.num_artists, cfg.style_dim) * 0.1)
        self.log_std = nn.Parameter(torch.zeros(cfg.num_artists, cfg.style_dim))

    def forward(self, artists: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean[artists], self.log_std[artists].exp()


class Generator(nn.Module):
    """G(content, style) -> image in [-1, 1]: the trunk run backwards (FC, then 4x4 up to full size)."""

    def __init__(self, cfg: GADNConfig):
        super().__init__()
        chans = cfg.channels()
        self.c4 = chans[-1]
        self.grid, self.grid_channels = cfg.content_grid, cfg.content_channels
        vector = 0 if self.grid else cfg.content_dim  # a content map enters below, not through the FC
        self.fc_in = nn.Linear(vector + cfg.style_dim, cfg.fc)
        self.fc = nn.Linear(cfg.fc, chans[-1] * 16)
        blocks = []
        for i in reversed(range(len(chans))):
            cout = chans[i - 1] if i > 0 else chans[0]
            blocks += [ResBlock(chans[i], chans[i], "same"), ResBlock(chans[i], cout, "up")]
        if self.grid:  # up to the N×N level, then the content map joins (concatenated, one conv to merge)
            split = 2 * (len(chans) - cfg.grid_level)
            self.head_blocks = nn.Sequential(*blocks[:split])
            c = chans[cfg.grid_level - 1]
            self.merge = nn.Conv2d(c + self.grid_channels, c, 3, padding=1)
            blocks = blocks[split:]
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Conv2d(chans[0], 3, 3, padding=1)
        self.films = nn.ModuleList()
        if self.grid and cfg.style_film:  # one (scale, shift) per channel: after the merge, after each block
            widths = [c] + [b.cout for b in blocks]
            films = [nn.Linear(cfg.style_dim, 2 * w) for w in widths]
            for film in films:  # start as the identity: (1 + 0) * h + 0
                nn.init.zeros_(film.weight)
                nn.init.zeros_(film.bias)
            self.films = nn.ModuleList(films)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if self.grid:
            h = F.relu(self.fc(F.relu(self.fc_in(style)))).reshape(-1, self.c4, 4, 4)
            h = self.head_blocks(h)
            cmap = content.reshape(-1, self.grid_channels, self.grid, self.grid)
            h = h + F.relu(self.merge(torch.cat([h, cmap.to(h.dtype)], 1)))
            if len(self.films):
                h = _film(h, self.films[0], style)
                for block, film in zip(self.blocks, self.films[1:], strict=True):
                    h = _film(block(h), film, style)
                return torch.tanh(self.out(h))
            return torch.tanh(self.out(self.blocks(h)))
        h = F.relu(self.fc_in(torch.cat([content, style], 1)))
        h = F.relu(self.fc(h)).reshape(-1, self.c4, 4, 4)
        return torch.tanh(self.out(self.blocks(h)))


def _film(h: torch.Tensor, film: nn.Module, style: torch.Tensor) -> torch.Tensor:
    scale, shift = film(style.to(h.dtype)).chunk(2, dim=1)
    return h * (1 + scale[:, :, None, None]) + shift[:, :, None, None]


class Classifier(nn.Module):
    """C1 / C2 (one logit per artist) and D (``outputs=1``, a raw least-squares score)."""

    def __init__(self, cfg: GADNConfig, outputs: int | None = None):
        super().__init__()
        self.trunk = Trunk(cfg)
        self.head = nn.Linear(cfg.fc, outputs or cfg.num_artists)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


class GADNNets(nn.Module):
    """All networks of one GADN, so they move, save and load together."""

    RENDER = ("E", "G", "S", "C2")  # what a finished model keeps; C1 and D only matter for training

    def __init__(self, cfg: GADNConfig):
        super().__init__()
        self.cfg = cfg
        self.E = Encoder(cfg)
        self.S = StyleTable(cfg)
        self.G = Generator(cfg)
        self.C1 = Classifier(cfg)
        self.C2 = Classifier(cfg)
        self.D = Classifier(cfg, outputs=1)
