"""A tiny, randomly initialised stand-in for VGG-19 with the same layer names (tests and quick demos).

Why: the real loss network costs seconds per step on a CPU; tests of the fine-tune and stylise
*mechanics* (loss goes down, only chosen layers change, cancel/resume) only need some fixed nonlinear
features. Two tests still use the real VGG-19.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .vgg import LAYER_NAMES


class TinyFeatures(nn.Module):
    """conv-relu blocks (8, 16, 24, 32, 32 channels) exposing relu{b}_{i} / conv{b}_{i} / pool{b} names."""

    def __init__(self, seed: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        chans = [3, 8, 16, 24, 32, 32]
        self.convs = nn.ModuleList()
        for a, b in zip(chans, chans[1:]):
            conv = nn.Conv2d(a, b, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2.0 / (a * 9)) ** 0.5)
                assert conv.bias is not None
                conv.bias.zero_()
            self.convs.append(conv)
        self.requires_grad_(False).eval()

    def forward(self, rgb01: torch.Tensor, wanted: Iterable[str]) -> dict[str, torch.Tensor]:
        wanted = set(wanted)
        for name in wanted:
            if name not in LAYER_NAMES:
                raise KeyError(name)
        out: dict[str, torch.Tensor] = {}
        x = rgb01 - 0.25  # not centred: a flat grey image still has features
        for b, conv in enumerate(self.convs, start=1):
            x = conv(x)
            # every conv{b}_{i} / relu{b}_{i} of VGG block b maps to this block's single conv
            for name in wanted:
                if name.startswith(f"conv{b}_"):
                    out[name] = x
            x = torch.relu(x)
            for name in wanted:
                if name.startswith(f"relu{b}_"):
                    out[name] = x
            if x.shape[-1] > 1 and x.shape[-2] > 1:
                x = nn.functional.avg_pool2d(x, 2)
            for name in wanted:
                if name == f"pool{b}":
                    out[name] = x
            if len(out) == len(wanted):
                break
        return out
