"""Exponential moving average of a network's weights (the generator a GAN exports when ``--ema`` is on).

Why: GAN weights oscillate around a good solution; an average over the last ~1/(1-decay) steps draws
cleaner, steadier images (Karras et al., progressive GANs / StyleGAN). Buffers (BatchNorm statistics)
are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch


class EMA:
    def __init__(self, module: torch.nn.Module, decay: float):
        self.decay = float(decay)
        self.shadow = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, module: torch.nn.Module) -> None:
        live = [p.detach() for p in module.parameters()]
        mine: list[torch.Tensor] = list(self.shadow.parameters())
        torch._foreach_lerp_(mine, live, 1.0 - self.decay)
        for b_mine, b_live in zip(self.shadow.buffers(), module.buffers()):
            b_mine.copy_(b_live)
