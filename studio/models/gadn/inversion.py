"""GADN's inversion space: the content code under a fixed style, with the encoder E's guess as a start."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch

from studio.core.family import normalise_state
from studio.core.inversion import InversionSpace
from studio.core.states import MAX_VALUE


def gadn_space(model: Any, state: Mapping[str, Any]) -> InversionSpace:
    base = normalise_state(state)
    device = torch.device(model.device)
    style = model.style_for(base).to(device, torch.float32).unsqueeze(0)
    stds = model.content_stds.to(device).clamp_min(1e-6)
    mean = model.content_mean.to(device)
    axes = model.content_axes.to(device)

    def synthesize(codes: torch.Tensor) -> torch.Tensor:
        return (model.G(codes.float(), style.expand(codes.shape[0], -1)) + 1.0) * 0.5

    def sample(seeds: list[int]) -> torch.Tensor:
        return torch.stack([model.sample_content(s) for s in seeds]).to(device)

    def encode(target01: torch.Tensor) -> torch.Tensor:
        return model.E(target01.to(device) * 2.0 - 1.0)[0].reshape(1, -1)

    def prior(codes: torch.Tensor) -> torch.Tensor:
        n = ((codes - mean) @ axes.T) / stds  # standardised coordinates along the content axes
        return (n.pow(2).mean(dim=1) - 1.0) ** 2

    def state_for(code: torch.Tensor, seed: int) -> dict[str, Any]:
        s = copy.deepcopy(base)
        s["seed"] = int(seed)
        s["content"] = [round(float(v), 6) for v in code.detach().float().cpu().clamp(-MAX_VALUE, MAX_VALUE)]
        s["directions"] = {}
        s["truncation"] = 1.0
        s.pop("variation", None)
        s.pop("parents", None)  # a found picture is nobody's child (a crossbred canvas was the start)
        return s

    return InversionSpace(int(model.cfg.content_dim), device, synthesize, sample, state_for, encode, prior)
