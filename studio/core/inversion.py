"""What a family declares to take part in GAN inversion ("find my picture in the latent space").

A loaded model that can be inverted has a method ``inversion_space(state) -> InversionSpace`` (that
attribute is the capability: :func:`supports_inversion`). The space says how codes become images
*differentiably*, how to draw starting codes, optionally how an encoder guesses a code from the image,
and how a code becomes an ordinary canvas state, so every slider applies to the result afterwards.
The optimisation itself (VGG + pixel loss, best start, Adam) is family-independent and lives in
:mod:`studio.models.invert`.

:func:`latent_space` builds the space of any :class:`~studio.core.family.LatentModel` (CSGAN, CAN, the
CPPN plugin) from its differentiable ``forward`` (codes -> images in [0, 1]): the result state holds the
code in ``z_edits`` (every raw dimension set), with the directions at 0 and truncation at 1, so the
direction sliders, the raw-latent sliders and truncation all move from the inverted code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .latents import seed_to_z
from .states import MAX_VALUE

Codes = torch.Tensor


@dataclass
class InversionSpace:
    """One model's latent space as the inversion job sees it (all tensors on ``device``)."""

    dim: int
    device: torch.device
    synthesize: Callable[[Codes], torch.Tensor]  # [N, dim] -> [N, 3, H, W] in [0, 1], differentiable
    sample: Callable[[list[int]], Codes]  # seeds -> [len(seeds), dim] starting codes
    state_for: Callable[[Codes, int], dict[str, Any]]  # ([dim] code, seed it started from) -> canvas state
    encode: Callable[[torch.Tensor], Codes] | None = None  # [1, 3, H, W] in [0, 1] -> [1, dim] (an encoder)
    prior: Callable[[Codes], torch.Tensor] | None = None  # [N, dim] -> [N] penalty keeping codes typical
    per_layer: bool = False  # True when the space is a per-layer code (none of the built-ins has one)


def supports_inversion(model: Any) -> bool:
    """Whether a loaded model declares an inversion space (the capability tools and the window ask)."""
    return callable(getattr(model, "inversion_space", None))


def gaussian_prior(codes: Codes) -> torch.Tensor:
    """(mean z² − 1)²: standard-normal codes have mean square ≈ 1; far from it the sliders misbehave."""
    return (codes.pow(2).mean(dim=1) - 1.0) ** 2


def latent_space(model: Any, forward: Callable[[Codes], torch.Tensor], state: Mapping[str, Any]) -> InversionSpace:
    """The inversion space of a LatentModel: codes are its z; ``forward`` maps z to images in [0, 1]."""
    from .family import normalise_state

    base = normalise_state(state)
    dim = int(model.latent_dim)
    device = torch.device(model.device)

    def sample(seeds: list[int]) -> Codes:
        return torch.cat([seed_to_z(s, dim) for s in seeds]).to(device)

    def state_for(code: Codes, seed: int) -> dict[str, Any]:
        s = copy.deepcopy(base)
        s["seed"] = int(seed)
        values = code.detach().float().cpu().clamp(-MAX_VALUE, MAX_VALUE).tolist()
        s["z_edits"] = {str(i): round(float(v), 5) for i, v in enumerate(values)}
        s["directions"] = {}
        s["truncation"] = 1.0
        s.pop("variation", None)
        s.pop("parents", None)  # a found picture is nobody's child (a crossbred canvas was the start)
        return s

    return InversionSpace(dim, device, forward, sample, state_for, prior=gaussian_prior)
